/** Log sources config: parsing and its errors, listener ports, and the pipeline files handed to Logstash. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../components/model/config";
import {
    DEFAULT_LOG_SOURCES,
    DEFAULT_PIPELINES_DIR,
    type LogSource,
    logstashListeners,
    logstashPipelines,
    parseLogSources,
    pipelineInput,
} from "../components/model/sources";
import { parseConfig, pluginsOf } from "./support/logstash";

const summary = (sources: LogSource[]) => sources.map((s) => `${s.kind}:${s.name}:${s.port}/${s.protocol}:${s.dataset}`);

describe("parseLogSources", () => {
    test("defaults to one nginx and one Django source", () => {
        expect(DEFAULT_LOG_SOURCES).toEqual(["nginx:web", "django:app"]);
        expect(summary(parseLogSources(undefined))).toEqual(["nginx:web:5140/udp:nginx.web", "django:app:5141/tcp:django.app"]);
        expect(parseLogSources(undefined)[1].dataStream).toBe("logs-django.app-${ELK_ENVIRONMENT}");
    });

    test("reads a JSON array or its text, gives nginx 5140 and Django ports from 5141 in list order", () => {
        const value = ["nginx:web", "django:shop", "nginx:admin-site", "django:billing-api", "django:crm:5150"];
        expect(summary(parseLogSources(JSON.stringify(value)))).toEqual(summary(parseLogSources(value)));
        expect(summary(parseLogSources(value))).toEqual([
            "nginx:web:5140/udp:nginx.web",
            "django:shop:5141/tcp:django.shop",
            "nginx:admin-site:5140/udp:nginx.admin_site",
            "django:billing-api:5142/tcp:django.billing_api",
            "django:crm:5150/tcp:django.crm",
        ]);
    });

    test("takes an entry as an object too, with an nginx source's error level (default warn)", () => {
        const sources = parseLogSources(["nginx:web", { kind: "nginx", name: "api", errorLevel: "info" }, { kind: "django", name: "shop", port: 5150 }, { kind: "django", name: "crm" }]);
        expect(summary(sources)).toEqual(["nginx:web:5140/udp:nginx.web", "nginx:api:5140/udp:nginx.api", "django:shop:5150/tcp:django.shop", "django:crm:5141/tcp:django.crm"]);
        expect(sources.map((s) => s.errorLevel)).toEqual(["warn", "info", undefined, undefined]);
        // The CLI hands the list over as JSON text.
        expect(parseLogSources(JSON.stringify([{ kind: "nginx", name: "api", errorLevel: "crit" }]))[0].errorLevel).toBe("crit");
    });

    test("never hands out a port that a later entry names explicitly", () => {
        expect(parseLogSources(["django:a", "django:b:5141", "django:c"]).map((s) => s.port)).toEqual([5142, 5141, 5143]);
    });

    test.each([
        [[], /must be a non-empty list/],
        ["not json", /'not json' is not a JSON array/],
        [{ nginx: "web" }, /must be a non-empty list/],
        [[5], /entry 1 is 5, neither a string nor an object/],
        [["nginx"], /'nginx' is not "kind:name"/],
        [["django:a:1:2"], /is not "kind:name"/],
        [["apache:web"], /unknown kind 'apache'.*Fix: use one of nginx, django/],
        [["django:Shop"], /name 'Shop', which is not a DNS label/],
        [["django:-shop"], /not a DNS label/],
        [[`django:${"a".repeat(49)}`], /at most 48 characters/],
        [["django:a:80"], /port '80', not a number from 1024 to 65535/],
        [["django:a:70000"], /not a number from 1024 to 65535/],
        [["django:a:http"], /port 'http'/],
        [["nginx:web:5150"], /every nginx source shares UDP 5140.*Fix: drop the port/],
        [["django:a:5140"], /port 5140, which is the nginx syslog port/],
        [["django:a:9600"], /port 9600, which is Logstash's monitoring API/],
        [["nginx:web", "django:web"], /entries 1 and 2 are both named 'web'/],
        [["django:a:5150", "nginx:web", "django:b:5150"], /entries 1 and 3 both take port 5150/],
        [[{ kind: "nginx", name: "web", errorLevel: "warning" }], /errorLevel "warning".*Fix: use one of nginx's levels emerg, alert, crit, error, warn, notice, info, debug/],
        [[{ kind: "nginx", name: "web", level: "info" }], /unknown key 'level'.*Fix: use only kind, name, port, errorLevel/],
        [[{ kind: "django", name: "shop", errorLevel: "info" }], /sets errorLevel on a django source.*Fix: drop errorLevel/],
        [[{ kind: "nginx" }], /needs string values for 'kind' and 'name'/],
        [[{ kind: "nginx", name: "Web" }], /name 'Web', which is not a DNS label/],
        [[{ kind: "django", name: "shop", port: true }], /has port true/],
        [[{ kind: "django", name: "shop", port: 80 }], /port '80', not a number from 1024 to 65535/],
        [[["nginx", "web"]], /entry 1 is \["nginx","web"\], neither a string nor an object/],
    ])("rejects %j naming the key and the fix", (value, problem) => {
        const attempt = () => parseLogSources(value);
        expect(attempt).toThrow(ConfigError);
        expect(attempt).toThrow(/^Invalid stack config 'elk-stack:logSources': .+\. Fix: .+/);
        expect(attempt).toThrow(problem);
    });
});

describe("logstashListeners", () => {
    test("one UDP port for all nginx sources, one TCP port per Django source, with Kubernetes-valid names", () => {
        const listeners = logstashListeners(parseLogSources(["nginx:web", "nginx:api", "django:shop", "django:a-very-long-service-name"]));
        expect(listeners).toEqual([
            { name: "nginx-syslog", port: 5140, protocol: "udp" },
            { name: "dj-shop", port: 5141, protocol: "tcp" },
            { name: "django-5142", port: 5142, protocol: "tcp" },
        ]);
        for (const l of listeners) expect(l.name).toMatch(/^(?=.*[a-z])[a-z0-9](?:[a-z0-9]|-(?!-)){0,13}[a-z0-9]$/);
    });
});

describe("logstashPipelines", () => {
    test("one pipeline per configured kind, globbing its own directory", () => {
        expect(logstashPipelines(parseLogSources(["nginx:web", "django:shop"])).pipelines).toEqual([
            { id: "nginx", pathConfig: "nginx/*.conf", deadLetterQueue: true },
            { id: "django", pathConfig: "django/*.conf", deadLetterQueue: true },
            { id: "dead_letter", pathConfig: "dead_letter/*.conf", deadLetterQueue: false },
        ]);
        expect(logstashPipelines(parseLogSources(["django:shop"])).pipelines).toEqual([
            { id: "django", pathConfig: "django/*.conf", deadLetterQueue: true },
            { id: "dead_letter", pathConfig: "dead_letter/*.conf", deadLetterQueue: false },
        ]);
    });

    test("ships the generated input and source map, the kind's parse file, the shared route and the patterns", () => {
        const { files } = logstashPipelines(parseLogSources(["django:shop"]));
        expect(files.map((f) => f.path)).toEqual([
            "django/00-input.conf",
            "django/10-parse.conf",
            "django/50-sources.conf",
            "django/90-route.conf",
            "dead_letter/00-input.conf",
            "dead_letter/10-parse.conf",
            "dead_letter/90-route.conf",
            ...fs.readdirSync(path.join(DEFAULT_PIPELINES_DIR, "patterns")).sort().map((p) => `patterns/${p}`),
        ]);
        const route = fs.readFileSync(path.join(DEFAULT_PIPELINES_DIR, "shared", "90-route.conf"), "utf8");
        expect(files.find((f) => f.path === "django/90-route.conf")?.content).toBe(route);
    });

    test("generates a TLS tcp input per Django source that stamps its name, and one UDP input for nginx", () => {
        const sources = parseLogSources(["nginx:web", "nginx:api", "django:shop", "django:crm:5150"]);
        const tcp = pluginsOf(parseConfig(pipelineInput("django", sources)).input);
        expect(tcp.map((p) => Object.fromEntries(p.settings))).toEqual([
            expect.objectContaining({ port: 5141, ssl_enabled: "true", ssl_certificate: "${ELK_TLS_CERT}", ssl_key: "${ELK_TLS_KEY}", ssl_client_authentication: "none" }),
            expect.objectContaining({ port: 5150, ssl_enabled: "true" }),
        ]);
        expect(tcp.map((p) => JSON.stringify(p.settings.find(([k]) => k === "add_field")?.[1]))).toEqual([
            JSON.stringify({ kind: "hash", entries: [["[@metadata][elk][source]", "shop"]] }),
            JSON.stringify({ kind: "hash", entries: [["[@metadata][elk][source]", "crm"]] }),
        ]);
        expect(tcp.map((p) => (p.settings.find(([k]) => k === "codec")?.[1] as { name: string }).name)).toEqual(["line", "line"]);
        const udp = pluginsOf(parseConfig(pipelineInput("nginx", sources)).input);
        expect(udp.map((p) => [p.name, Object.fromEntries(p.settings).port])).toEqual([["udp", 5140]]);
    });

    test("refuses a static file that would shadow a generated one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-pipelines-"));
        try {
            fs.cpSync(DEFAULT_PIPELINES_DIR, dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "nginx", "00-input.conf"), "input {}\n");
            expect(() => logstashPipelines(parseLogSources(["nginx:web"]), dir)).toThrow(/nginx\/00-input.conf is both generated and static/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
