/**
 * Real nginx with the generated wiring files: `nginx -t` accepts every layout docs/app-teams.md describes, and a real
 * nginx on 127.0.0.1 (and ::1) answers 200, 404, 500, 502 (a closed upstream) and requests with quotes, a
 * hyphenated method, a byte that is not UTF-8 and a body buffered to disk. The syslog datagrams it sends are
 * captured on a local UDP listener and run through the nginx pipeline. Two sources served by one nginx show that
 * each request and each error line lands in its own source's stream. Skipped, with the reason, only when nginx is
 * not installed (CI installs it).
 */
import * as os from "os";
import { type LogSource, NGINX_ERROR_LEVELS, nginxErrorTag, parseLogSources } from "../components/model/sources";
import { wiringFiles } from "../components/model/wiring";
import { type Processed, expectNginxEvents, loadPipeline, processArrivals } from "./support/corpora";
import { type NginxRequest, type NginxRun, expectedDatagrams, findNginx, nginxConfigTest, runNginxScenario } from "./support/nginxScenario";
import { ipv6LoopbackAvailable } from "./support/syslogCapture";

const nginx = findNginx();
if (!nginx) {
    console.warn("SKIPPED tests/nginx.live.test.ts: nginx is not installed (apt-get install nginx); the fixture-based pipeline tests still ran.");
}
// CI sets ELK_REQUIRE_LIVE_TOOLS=1 after installing the packages: there a missing tool is a failure, not a skip.
if (!nginx && process.env.ELK_REQUIRE_LIVE_TOOLS === "1") throw new Error("ELK_REQUIRE_LIVE_TOOLS=1 but nginx is missing");
const describeLive = nginx ? describe : describe.skip;

async function pipelineRun(sources: readonly LogSource[], run: NginxRun): Promise<Processed[]> {
    const pipeline = await loadPipeline(sources, "nginx");
    return processArrivals(
        pipeline,
        run.datagrams.map((d) => ({ protocol: "udp" as const, port: 5140, data: d.data, peer: d.peer })),
    );
}

describeLive("nginx -t on every layout the wiring supports", () => {
    test("two sources, each file inside its own server block; one source inside its server or in the http block", async () => {
        const two = parseLogSources(["nginx:web", "nginx:api-gw", "django:shop"]).filter((s) => s.kind === "nginx");
        const [web] = two;
        const layouts: [string, LogSource[], "server" | "http"][] = [
            ["two sources, server blocks", two, "server"],
            ["one source, server block", [web], "server"],
            ["one source, http block", [web], "http"],
        ];
        for (const [what, sources, layout] of layouts) {
            const result = await nginxConfigTest(nginx as string, sources, wiringFiles(sources, "127.0.0.1"), layout);
            expect({ what, status: result.status, ok: /test is successful/.test(result.output) }).toEqual({ what, status: 0, ok: true });
        }
    });

    test("every error level and a 48-character name make a config nginx accepts (the tag fits nginx's 32 characters)", async () => {
        const long = `a${"-b".repeat(23)}c`;
        expect(long).toHaveLength(48);
        const sources = parseLogSources([
            ...NGINX_ERROR_LEVELS.map((level, i) => ({ kind: "nginx", name: `site${i}`, errorLevel: level })),
            `nginx:${long}`,
        ]);
        const files = wiringFiles(sources, "fd00::5");
        expect(files.filter((f) => f.content.includes(`tag=${nginxErrorTag(sources[sources.length - 1])} warn;`))).toHaveLength(1);
        const result = await nginxConfigTest(nginx as string, sources, files, "server");
        expect(result.output).toContain("test is successful");
        expect(result.status).toBe(0);
    });

    test("nginx refuses what the wiring avoids: a tag longer than 32 characters, and one with '-'", async () => {
        const [web] = parseLogSources(["nginx:web"]);
        const files = wiringFiles([web], "127.0.0.1");
        for (const [tag, message] of [
            [`nginx_error_${"0".repeat(21)}`, /syslog tag length exceeds 32/],
            ["nginx_error_api-gw", /only allows alphanumeric characters and underscore/],
        ] as const) {
            const broken = files.map((f) => ({ ...f, content: f.content.replace(nginxErrorTag(web), tag) }));
            const result = await nginxConfigTest(nginx as string, [web], broken, "server");
            expect(result.status).not.toBe(0);
            expect(result.output).toMatch(message);
        }
    });
});

describeLive("real nginx, one source included in the http block", () => {
    const sources = parseLogSources(["nginx:web", "django:shop"]);
    let run: NginxRun;
    let capturedAt: string;
    let ipv6: boolean;

    beforeAll(async () => {
        ipv6 = await ipv6LoopbackAvailable();
        if (!ipv6) console.warn("IPv6 loopback (::1) is not available here: the ::1 request is left out.");
        capturedAt = new Date().toISOString();
        run = await runNginxScenario(nginx as string, [sources[0]], { ipv6, timeoutMs: 15_000, layout: "http" });
    }, 60_000);

    test("nginx -t accepts a config that includes the formats and the source's file in its http block", () => {
        expect(run.configTest.output).toContain("syntax is ok");
        expect(run.configTest.output).toContain("test is successful");
        expect(run.configTest.status).toBe(0);
    });

    test("nginx answers every request with the expected status, over IPv4 and IPv6", () => {
        expect(run.responses).toEqual(run.requests.map((r) => ({ id: r.id, status: r.status })));
        expect(run.requests.some((r) => r.ipv6)).toBe(ipv6);
    });

    test("every datagram is RFC 3164 syslog tagged nginx_access or the source's error tag", () => {
        const texts = run.datagrams.map((d) => d.data.toString("utf8"));
        const tag = nginxErrorTag(sources[0]);
        expect(texts.filter((t) => / nginx_access: /.test(t))).toHaveLength(run.requests.length);
        expect(texts.filter((t) => t.includes(` ${tag}: `))).toHaveLength(run.requests.filter((r) => r.errorLine).length);
        for (const t of texts) expect(t).toMatch(new RegExp(`^<(190|187)>[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\S+ (nginx_access|${tag}): `));
        expect(run.datagrams.every((d) => d.peer === "127.0.0.1")).toBe(true);
    });

    test("the nginx pipeline parses every captured line into the expected ECS fields", async () => {
        const processed = await pipelineRun(sources, run);
        expectNginxEvents(
            processed,
            { capturedWith: run.version, capturedAt, hostname: os.hostname(), sourceName: sources[0].name, errorTag: nginxErrorTag(sources[0]), requests: run.requests },
            sources[0],
        );
    });
});

/** Requests for two sources; each `case` id names its source, so a line in the wrong stream is visible. */
const TWO_SOURCE_REQUESTS: readonly NginxRequest[] = [
    { id: "web-ok", source: "web", target: "/ok?case=web-ok", status: 200, userAgent: "elk-test/1.0" },
    { id: "web-missing", source: "web", target: "/missing/caf%C3%A9.html?case=web-missing", status: 404, errorLine: "open()" },
    {
        id: "web-upload",
        source: "web",
        method: "POST",
        target: "/upload?case=web-upload",
        bodyBytes: 4096,
        status: 502,
        warnLine: "a client request body is buffered to a temporary file",
        errorLine: "connect() failed",
    },
    { id: "web-badbyte", source: "web", target: "/missing/\xff\xfe.html?case=web-badbyte", status: 404, errorLine: "open()" },
    { id: "api-ok", source: "api-gw", target: "/ok?case=api-ok", status: 200 },
    { id: "api-missing", source: "api-gw", target: "/missing/x.html?case=api-missing", status: 404, errorLine: "open()" },
    { id: "api-msearch", source: "api-gw", method: "M-SEARCH", target: "/upstream/ssdp?case=api-msearch", status: 502, errorLine: "connect() failed" },
    { id: "api-version", source: "api-gw", method: "VERSION-CONTROL", target: "/ok?case=api-version", status: 200 },
    { id: "api-quote", source: "api-gw", target: '/ok?case=api-quote&q="a"\\b', host: 'quo"te\\host', status: 200 },
];

describeLive("real nginx serving two sources, each file included in its own server block", () => {
    const sources = parseLogSources(["nginx:web", "django:shop", "nginx:api-gw"]);
    const nginxSources = sources.filter((s) => s.kind === "nginx");
    let run: NginxRun;
    let processed: Processed[];
    const caseOf = (p: Processed) => /[?&]case=([a-z-]+)/.exec(p.event.str("[event][original]") ?? "")?.[1];
    const eventsOf = (id: string, tag: string) => processed.filter((p) => caseOf(p) === id && p.event.tags.includes(tag));
    const streamOf = (name: string) => `logs-${nginxSources.find((s) => s.name === name)?.dataset}-test`;

    beforeAll(async () => {
        run = await runNginxScenario(nginx as string, nginxSources, { ipv6: false, timeoutMs: 15_000, requests: TWO_SOURCE_REQUESTS });
        processed = await pipelineRun(sources, run);
    }, 60_000);

    test("nginx accepts the layout and answers every request", () => {
        expect(run.configTest.status).toBe(0);
        expect(run.responses).toEqual(TWO_SOURCE_REQUESTS.map((r) => ({ id: r.id, status: r.status })));
        expect(run.datagrams).toHaveLength(expectedDatagrams(TWO_SOURCE_REQUESTS));
    });

    test("each request's access line is in exactly one source's stream: its own", () => {
        for (const req of TWO_SOURCE_REQUESTS) {
            const access = eventsOf(req.id, "nginx_access");
            expect({ id: req.id, streams: access.map((p) => p.deliveries.map((d) => d.dataStream)), service: access.map((p) => p.event.get("[service][name]")) }).toEqual({
                id: req.id,
                streams: [[streamOf(req.source as string)]],
                service: [req.source],
            });
        }
    });

    test("each error and warn line is in exactly one source's stream, named by its syslog tag", () => {
        for (const req of TWO_SOURCE_REQUESTS) {
            const errors = eventsOf(req.id, "nginx_error");
            const source = nginxSources.find((s) => s.name === req.source) as LogSource;
            expect(errors).toHaveLength((req.errorLine ? 1 : 0) + (req.warnLine ? 1 : 0));
            for (const e of errors) {
                expect({ id: req.id, stream: e.deliveries.map((d) => d.dataStream), service: e.event.get("[service][name]"), tag: e.event.get("[log][syslog][appname]") }).toEqual({
                    id: req.id,
                    stream: [streamOf(source.name)],
                    service: source.name,
                    tag: nginxErrorTag(source),
                });
            }
        }
        expect(processed.filter((p) => p.event.tags.includes("_elk_parse_failure")).map((p) => p.event.str("[event][original]"))).toEqual([]);
        expect(processed).toHaveLength(run.datagrams.length);
    });

    test("a warn event (request body buffered to a temporary file) arrives with severity warning", () => {
        const [warn] = eventsOf("web-upload", "nginx_error").filter((p) => p.event.get("[log][level]") === "warn");
        expect(warn).toBeDefined();
        expect({
            severity: warn.event.get("[log][syslog][severity][code]"),
            name: warn.event.get("[log][syslog][severity][name]"),
            method: warn.event.get("[http][request][method]"),
            url: warn.event.get("[url][original]"),
            service: warn.event.get("[service][name]"),
        }).toEqual({ severity: 4, name: "warning", method: "POST", url: "/upload?case=web-upload", service: "web" });
        expect(warn.event.str("message")).toMatch(/^a client request body is buffered to a temporary file /);
    });

    test("methods with a hyphen parse, in access and in error lines", () => {
        for (const [id, method] of [["api-msearch", "M-SEARCH"], ["api-version", "VERSION-CONTROL"]]) {
            const [access] = eventsOf(id, "nginx_access");
            expect(access.event.get("[http][request][method]")).toBe(method);
        }
        const [error] = eventsOf("api-msearch", "nginx_error");
        expect({ method: error.event.get("[http][request][method]"), path: error.event.get("[url][path]") }).toEqual({ method: "M-SEARCH", path: "/upstream/ssdp" });
    });

    test("quotes and backslashes that nginx wrote as \\x22 and \\x5C are restored in the url fields", () => {
        const [access] = eventsOf("api-quote", "nginx_access");
        expect(access.event.str("[event][original]")).toContain("q=\\x22a\\x22\\x5Cb");
        expect({
            original: access.event.get("[url][original]"),
            path: access.event.get("[url][path]"),
            query: access.event.get("[url][query]"),
            domain: access.event.get("[url][domain]"),
        }).toEqual({ original: '/ok?case=api-quote&q="a"\\b', path: "/ok", query: 'case=api-quote&q="a"\\b', domain: 'quo"te\\host' });
    });

    test("an error line with bytes that are not UTF-8 keeps client, request and host; valid UTF-8 stays intact", () => {
        const raw = run.datagrams.map((d) => d.data).find((b) => b.includes("case=web-badbyte") && !b.includes(" nginx_access: "));
        expect(raw?.includes(Buffer.from([0xff, 0xfe]))).toBe(true);
        const [error] = eventsOf("web-badbyte", "nginx_error");
        expect({
            ip: error.event.get("[source][ip]"),
            method: error.event.get("[http][request][method]"),
            original: error.event.get("[url][original]"),
            domain: error.event.str("[url][domain]")?.replace(/\d+$/, "PORT"),
        }).toEqual({ ip: "127.0.0.1", method: "GET", original: "/missing/\ufffd\ufffd.html?case=web-badbyte", domain: "127.0.0.1:PORT" });
        expect(error.event.str("message")).toMatch(/\/missing\/\ufffd\ufffd\.html" failed/);
        const [utf8] = eventsOf("web-missing", "nginx_error");
        expect(utf8.event.str("message")).toContain('/missing/café.html" failed');
        expect(utf8.event.str("[event][original]")).toContain("café.html");
    });
});
