/**
 * The wiring handed to app teams: the nginx snippet and the Django logging module. The module's own escaping is
 * run in Python and its output fed through the Django pipeline, so sender and parser are checked together.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { nginxErrorTag, parseLogSources } from "../components/model/sources";
import { NGINX_FORMATS_FILE, djangoLoggingModule, nginxLogFormats, nginxSourceLogs, wiringFiles } from "../components/model/wiring";
import { loadPipeline, processArrivals } from "./support/corpora";

/** Any Python 3 will do here: the module uses the standard library only. */
function findPython(): string | undefined {
    for (const candidate of ["/usr/bin/python3", "python3"]) {
        try {
            execFileSync(candidate, ["-c", "import ssl"], { stdio: "ignore", timeout: 20_000 });
            return candidate;
        } catch {
            // try the next one
        }
    }
    return undefined;
}
const python = findPython();
if (!python) console.warn("SKIPPED Python parts of tests/wiring.test.ts: no python3 found.");
const testPython = python ? test : test.skip;

describe("nginx wiring", () => {
    const [web, shop, api] = parseLogSources(["nginx:web", "django:shop", { kind: "nginx", name: "api-gw", errorLevel: "info" }]);

    test("one file of log formats for the http block, with every source's format and nothing else", () => {
        const formats = nginxLogFormats([web, api]);
        expect(formats).toContain("log_format elk_web escape=default\n    'web $msec $remote_addr ");
        expect(formats).toContain("log_format elk_api_gw escape=default\n    'api-gw $msec $remote_addr ");
        const directives = formats.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#") && !l.startsWith("    '"));
        expect(directives.map((l) => l.split(" ")[0])).toEqual(["log_format", "log_format"]);
    });

    test("a file per source: access log in its format, error log with its own tag and level (warn unless configured)", () => {
        const file = nginxSourceLogs({ host: "logstash.example", port: 5140 }, web);
        const directives = file.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
        expect(directives).toEqual([
            "access_log syslog:server=logstash.example:5140,tag=nginx_access,severity=info elk_web;",
            `error_log syslog:server=logstash.example:5140,tag=${nginxErrorTag(web)} warn;`,
        ]);
        // nginx ignores severity= on error_log: the level argument is what filters (src/core/ngx_syslog.c).
        expect(file).not.toMatch(/error_log .*severity=/);
        expect(nginxSourceLogs({ host: "logstash.example", port: 5140 }, api)).toContain(`tag=${nginxErrorTag(api)} info;\n`);
    });

    test("error tags fit nginx's limit (32 characters of [A-Za-z0-9_]) and tell sources apart", () => {
        const names = ["web", "api-gw", "api-g", `a${"-b".repeat(23)}c`, "x".repeat(48)];
        const tags = names.map((name) => nginxErrorTag({ name }));
        for (const tag of tags) expect(tag).toMatch(/^nginx_error_[0-9a-f]{16}$/);
        expect(tags.every((t) => t.length <= 32)).toBe(true);
        expect(new Set(tags).size).toBe(new Set(names).size);
        // Stable: the generated source map and snippets already handed out must keep agreeing.
        expect(nginxErrorTag({ name: "web" })).toBe(`nginx_error_${createHash("sha256").update("web").digest("hex").slice(0, 16)}`);
    });

    test("brackets an IPv6 Logstash address and names formats per source", () => {
        const [admin] = parseLogSources(["nginx:admin-site"]);
        expect(nginxSourceLogs({ host: "fd00::5", port: 5140 }, admin)).toContain("syslog:server=[fd00::5]:5140,");
        expect(nginxLogFormats([admin])).toContain("log_format elk_admin_site ");
        expect(nginxLogFormats([admin])).toContain("'admin-site $msec ");
    });

    test("refuses a Django source", () => {
        expect(() => nginxSourceLogs({ host: "h", port: 5140 }, shop)).toThrow(/shop is django, not nginx/);
        expect(() => nginxLogFormats([web, shop])).toThrow(/shop is django, not nginx/);
    });
});

describe("wiringFiles", () => {
    test("nginx: the formats file once and a file per source; Django: plain name for one source, suffixed for several", () => {
        expect(wiringFiles(parseLogSources(["nginx:web", "django:shop"]), "logstash").map((f) => f.fileName)).toEqual([NGINX_FORMATS_FILE, "nginx-web.conf", "django_logging.py"]);
        expect(wiringFiles(parseLogSources(["nginx:web", "nginx:api", "django:shop", "django:billing-api"]), "logstash").map((f) => f.fileName)).toEqual([
            "nginx-log-formats.conf",
            "nginx-web.conf",
            "nginx-api.conf",
            "django_logging_shop.py",
            "django_logging_billing_api.py",
        ]);
        expect(wiringFiles(parseLogSources(["django:shop"]), "logstash").map((f) => f.fileName)).toEqual(["django_logging.py"]);
    });

    testPython("renders each Django module with its own port, service name, host and CA", () => {
        const files = wiringFiles(parseLogSources(["django:shop", "django:billing:5150"]), 'logstash.internal', '/etc/ca "quoted" \\ path.crt');
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-wiring-"));
        try {
            const seen = files.map((f) => {
                fs.writeFileSync(path.join(dir, f.fileName), f.content);
                const module = f.fileName.replace(/\.py$/, "");
                return JSON.parse(
                    execFileSync(python as string, ["-c", `import json, ${module} as m\nprint(json.dumps([m.LOGSTASH_HOST, m.LOGSTASH_PORT, m.CA_FILE, m.SERVICE_NAME]))`], {
                        cwd: dir,
                        env: { PATH: process.env.PATH ?? "", PYTHONPATH: dir },
                        encoding: "utf8",
                        timeout: 20_000,
                    }),
                ) as unknown;
            });
            expect(files.map((f) => f.fileName)).toEqual(["django_logging_shop.py", "django_logging_billing.py"]);
            expect(seen).toEqual([
                ["logstash.internal", 5141, '/etc/ca "quoted" \\ path.crt', "shop"],
                ["logstash.internal", 5150, '/etc/ca "quoted" \\ path.crt', "billing"],
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("django_logging.py", () => {
    const module = djangoLoggingModule({ host: "logstash.internal", port: 5141, serviceName: "shop", caPath: "/etc/elk-stack/ca.crt" });
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-wiring-"));
        fs.writeFileSync(path.join(dir, "django_logging.py"), module);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const runPython = (code: string, env: Record<string, string> = {}) =>
        execFileSync(python as string, ["-c", code], { cwd: dir, env: { PATH: process.env.PATH ?? "", PYTHONPATH: dir, PYTHONIOENCODING: "utf-8", ...env }, encoding: "utf8", timeout: 20_000 });

    testPython("uses the standard library only and defines LOGGING with its handler", () => {
        const out = runPython(
            "import json, sys\n" +
                "before = set(sys.modules)\n" +
                "import django_logging as m\n" +
                "new = set(sys.modules) - before - {'django_logging'}\n" +
                "third = sorted(n for n in new if n.split('.')[0] not in getattr(sys, 'stdlib_module_names', {n.split('.')[0]}))\n" +
                "print(json.dumps({'third': third, 'root': m.LOGGING['root'], 'handler': m.LOGGING['handlers']['elk']['()'].__name__, 'host': m.LOGSTASH_HOST, 'port': m.LOGSTASH_PORT, 'ca': m.CA_FILE, 'service': m.SERVICE_NAME}))",
        );
        expect(JSON.parse(out)).toEqual({
            third: [],
            root: { handlers: ["elk"], level: "INFO" },
            handler: "LogstashHandler",
            host: "logstash.internal",
            port: 5141,
            ca: "/etc/elk-stack/ca.crt",
            service: "shop",
        });
    });

    testPython("takes host, port, CA, service name and level from the environment", () => {
        const out = runPython("import json, django_logging as m\nprint(json.dumps([m.LOGSTASH_HOST, m.LOGSTASH_PORT, m.CA_FILE, m.SERVICE_NAME, m.LOG_LEVEL]))", {
            ELK_LOGSTASH_HOST: "ls.example",
            ELK_LOGSTASH_PORT: "6000",
            ELK_LOGSTASH_CA: "/run/ca.pem",
            ELK_SERVICE_NAME: "shop-eu",
            ELK_LOG_LEVEL: "debug",
        });
        expect(JSON.parse(out)).toEqual(["ls.example", 6000, "/run/ca.pem", "shop-eu", "DEBUG"]);
    });

    testPython("escapes messages so that the Django pipeline restores them exactly", async () => {
        const messages = ["", "#004", "ends with #00", "#012 literal", "##012", "#0123 and #12 and #", "a\nb\n\nc\n", "\n", "tab\there", "crlf\r\nnext", 'quote " bracket ] backslash \\', "€ ünïcode 🎉 #035"];
        const lines = runPython(
            "import json, logging, os, django_logging as m\n" +
                "h = m.LogstashHandler(app_name='shop')\n" +
                "h.setFormatter(logging.Formatter('%(message)s'))\n" +
                "for text in json.loads(os.environ['MESSAGES']):\n" +
                "    r = logging.LogRecord('shop.views', logging.INFO, 'views.py', 7, text, None, None, func='index')\n" +
                "    print(h.format_line(r), end='')\n",
            { MESSAGES: JSON.stringify(messages) },
        );
        expect(lines.split("\n")).toHaveLength(messages.length + 1);
        const sources = parseLogSources(["django:shop"]);
        const pipeline = await loadPipeline(sources, "django");
        const processed = processArrivals(pipeline, [{ protocol: "tcp", port: sources[0].port, data: Buffer.from(lines, "utf8"), peer: "127.0.0.1" }]);
        expect(processed.map((p) => p.event.get("message"))).toEqual(messages);
        expect(processed.map((p) => p.event.get("[log][origin][function]"))).toEqual(messages.map(() => "index"));
    });
});
