/**
 * The Logstash pipelines of pipelines/ run on what real nginx and Django sent (the corpora kept in
 * tests/fixtures/corpora), through the exact files `logstashPipelines` hands to Logstash: generated inputs and
 * source maps, static parse and route files, grok patterns read from pipelines/patterns and run on Oniguruma.
 */
import { parseLogSources, logstashPipelines, PARSE_FAILURE_DATASET } from "../components/sources";
import {
    TEST_ENV,
    expectDjangoEvents,
    expectNginxEvents,
    loadBytes,
    loadPipeline,
    processArrivals,
    readDjangoCorpus,
    readNginxCorpus,
} from "./support/corpora";
import { Grok, loadOniguruma, readPatternFiles } from "./support/grok";
import { LsEvent, type LsPlugin, Pipeline, parseConfig, pluginsOf } from "./support/logstash";

const nginxCorpus = readNginxCorpus();
const djangoCorpus = readDjangoCorpus();
const nginxArrivals = (port = 5140) => nginxCorpus.datagrams.map((d) => ({ protocol: "udp" as const, port, data: loadBytes(d), peer: d.peer }));

describe("captured corpora (fixtures)", () => {
    test("hold exact bytes, readable as text, from real nginx and Django", () => {
        expect(nginxCorpus.capturedWith).toMatch(/nginx\/\d+\.\d+/);
        expect(djangoCorpus.capturedWith).toMatch(/^Django \d+\.\d+/);
        for (const d of [...nginxCorpus.datagrams, djangoCorpus.stream]) expect(loadBytes(d).toString("utf8")).toBe(d.text);
        // Every request made one access datagram, and two requests also made an error datagram.
        expect(nginxCorpus.datagrams).toHaveLength(nginxCorpus.requests.length + nginxCorpus.requests.filter((r) => r.errorLine).length);
        expect(djangoCorpus.stream.text.split("\n")).toHaveLength(djangoCorpus.records.length + 1);
    });
});

describe("nginx pipeline", () => {
    const sources = parseLogSources([`nginx:${nginxCorpus.sourceName}`, "django:shop"]);

    test("parses every captured access and error line into ECS fields, in the source's data stream", async () => {
        const pipeline = await loadPipeline(sources, "nginx");
        const processed = processArrivals(pipeline, nginxArrivals());
        expectNginxEvents(processed, nginxCorpus, sources[0]);
        // The user agent is parsed by Logstash's useragent filter (its database is not in this repository).
        expect([...pipeline.notEmulated]).toEqual(["useragent"]);
    });

    test("restores quotes and backslashes that nginx escaped as \\x22 and \\x5C", async () => {
        const pipeline = await loadPipeline(sources, "nginx");
        const quoted = processArrivals(pipeline, nginxArrivals()).find((p) => p.event.get("[url][query]") === "case=quote");
        expect(quoted?.event.str("[event][original]")).toContain("\\x22quoted\\x22");
        expect(quoted?.event.get("[user_agent][original]")).toBe('Mozilla/5.0 (X11; "quoted" agent) back\\slash');
        expect(quoted?.event.get("[http][request][referrer]")).toBe('https://ref.example/search?q="elk"');
    });

    test("keeps a line it cannot parse, tagged, in the parse-failure stream", async () => {
        const pipeline = await loadPipeline(sources, "nginx");
        const garbage = "<190>Nov 23 10:00:00 web01 nginx_access: this is not the elk log format";
        const [p] = processArrivals(pipeline, [{ protocol: "udp", port: 5140, data: Buffer.from(garbage), peer: "10.0.0.9" }]);
        expect(p.event.tags).toEqual(expect.arrayContaining(["_elk_parse_failure", "_nginx_access_failure"]));
        expect(p.event.get("message")).toBe(garbage);
        expect(p.event.get("[event][original]")).toBe(garbage);
        expect(p.deliveries).toEqual([{ outputId: "to_elasticsearch", dataStream: `logs-${PARSE_FAILURE_DATASET}-test`, action: "create" }]);

        const noHeader = "just some text";
        const [q] = processArrivals(pipeline, [{ protocol: "udp", port: 5140, data: Buffer.from(noHeader), peer: "10.0.0.9" }]);
        expect(q.event.tags).toEqual(expect.arrayContaining(["_elk_parse_failure", "_nginx_syslog_header_failure"]));
        expect(q.deliveries[0].dataStream).toBe("logs-elk.parse_failure-test");
    });

    test("routes an access line naming a source that is not configured to the parse-failure stream", async () => {
        const pipeline = await loadPipeline(sources, "nginx");
        const line = nginxCorpus.datagrams.map((d) => d.text).find((t) => t.includes(" nginx_access: "));
        const renamed = (line ?? "").replace(` nginx_access: ${nginxCorpus.sourceName} `, " nginx_access: stale-site ");
        expect(renamed).toContain("stale-site");
        const [p] = processArrivals(pipeline, [{ protocol: "udp", port: 5140, data: Buffer.from(renamed), peer: "127.0.0.1" }]);
        expect(p.event.tags).toEqual(expect.arrayContaining(["nginx_access", "_elk_unknown_source"]));
        expect(p.deliveries[0].dataStream).toBe("logs-elk.parse_failure-test");
    });

    test("with several nginx sources, access lines go to their source's stream and error lines to logs-nginx", async () => {
        const several = parseLogSources([`nginx:${nginxCorpus.sourceName}`, "nginx:api-gw", "django:shop"]);
        const pipeline = await loadPipeline(several, "nginx");
        const gw = nginxCorpus.datagrams.map((d) => d.text.replace(` nginx_access: ${nginxCorpus.sourceName} `, " nginx_access: api-gw "));
        const processed = processArrivals(pipeline, gw.map((t) => ({ protocol: "udp" as const, port: 5140, data: Buffer.from(t), peer: "127.0.0.1" })));
        const streams = (tag: string) => [...new Set(processed.filter((p) => p.event.tags.includes(tag)).map((p) => p.deliveries[0].dataStream))];
        expect(streams("nginx_access")).toEqual(["logs-nginx.api_gw-test"]);
        expect(streams("nginx_error")).toEqual(["logs-nginx-test"]);
        expect(processed.filter((p) => p.event.tags.includes("nginx_access")).every((p) => p.event.get("[service][name]") === "api-gw")).toBe(true);
        expect(processed.some((p) => p.event.tags.includes("_elk_parse_failure"))).toBe(false);
    });
});

describe("django pipeline", () => {
    const sources = parseLogSources(["nginx:web", `django:${djangoCorpus.serviceName}`]);
    const stream = loadBytes(djangoCorpus.stream);

    test("parses every captured record: level, logger, message with traceback and non-ASCII intact", async () => {
        const pipeline = await loadPipeline(sources, "django");
        const processed = processArrivals(pipeline, [{ protocol: "tcp", port: sources[1].port, data: stream, peer: djangoCorpus.stream.peer }]);
        expectDjangoEvents(processed, djangoCorpus, sources[1]);
        expect(processed.every((p) => p.event.get("[host][ip]") === djangoCorpus.stream.peer)).toBe(true);
    });

    test("tells Django services apart by the port they send to, whatever app name they claim", async () => {
        const two = parseLogSources(["django:billing", `django:${djangoCorpus.serviceName}`, "django:crm:5150"]);
        expect(two.map((s) => [s.name, s.port])).toEqual([["billing", 5141], [djangoCorpus.serviceName, 5142], ["crm", 5150]]);
        const pipeline = await loadPipeline(two, "django");
        for (const source of two) {
            const processed = processArrivals(pipeline, [{ protocol: "tcp", port: source.port, data: stream, peer: "10.1.2.3" }]);
            expect(new Set(processed.map((p) => p.event.get("[service][name]")))).toEqual(new Set([source.name]));
            expect(new Set(processed.map((p) => p.deliveries[0].dataStream))).toEqual(new Set([`logs-${source.dataset}-test`]));
            // The app name in the lines is the capture's ("shop"): informational only.
            expect(new Set(processed.map((p) => p.event.get("[log][syslog][appname]")))).toEqual(new Set([djangoCorpus.serviceName]));
        }
    });

    test("keeps a line it cannot parse, tagged, in the parse-failure stream", async () => {
        const pipeline = await loadPipeline(sources, "django");
        const garbage = "GET / HTTP/1.1 — not syslog at all";
        const [p] = processArrivals(pipeline, [{ protocol: "tcp", port: sources[1].port, data: Buffer.from(`${garbage}\n`), peer: "10.0.0.9" }]);
        expect(p.event.tags).toEqual(expect.arrayContaining(["_elk_parse_failure", "_django_rfc5424_failure"]));
        expect(p.event.get("message")).toBe(garbage);
        expect(p.event.get("[service][name]")).toBe(sources[1].name);
        expect(p.deliveries).toEqual([{ outputId: "to_elasticsearch", dataStream: "logs-elk.parse_failure-test", action: "create" }]);
    });

    test("keeps other RFC 5424 structured data whole", async () => {
        const pipeline = await loadPipeline(sources, "django");
        const line = '<13>1 2026-01-02T03:04:05.678+01:00 host1 other 99 ID7 [origin software="x" swVersion="1.0"][meta sequenceId="5"] \uFEFFhello';
        const [p] = processArrivals(pipeline, [{ protocol: "tcp", port: sources[1].port, data: Buffer.from(`${line}\n`), peer: "10.0.0.9" }]);
        expect(p.event.tags).not.toContain("_elk_parse_failure");
        expect(p.event.get("[log][syslog][structured_data][raw]")).toBe('[origin software="x" swVersion="1.0"][meta sequenceId="5"]');
        expect(p.event.get("message")).toBe("hello");
        expect(p.event.get("@timestamp")).toBe("2026-01-02T02:04:05.678Z");
    });
});

describe("pipeline files", () => {
    const sources = parseLogSources(["nginx:web", "django:shop", "django:billing:5150"]);
    const { pipelines, files } = logstashPipelines(sources);

    test("need exactly the environment the Logstash container gets, and fail to load without it", async () => {
        const used = new Set(files.flatMap((f) => [...f.content.matchAll(/\$\{([A-Z_]+)(:[^}]*)?\}/g)].filter((m) => m[2] === undefined).map((m) => m[1])));
        expect([...used].sort()).toEqual(["ELK_CA", "ELK_ENVIRONMENT", "ELK_ES_URL", "ELK_LOGSTASH_PASSWORD", "ELK_LOGSTASH_USER", "ELK_TLS_CERT", "ELK_TLS_KEY"]);
        const partial = Object.fromEntries(Object.entries(TEST_ENV).filter(([k]) => k !== "ELK_ENVIRONMENT"));
        await expect(Pipeline.load(files, "nginx/*.conf", partial)).rejects.toThrow(/ELK_ENVIRONMENT is not set/);
    });

    test("write to Elasticsearch over verified TLS, into logs-*-<environment> only, with op_type create", async () => {
        for (const def of pipelines) {
            const pipeline = await Pipeline.load(files, def.pathConfig, TEST_ENV);
            const outputs = pluginsOf(pipeline.config.output);
            expect(outputs.map((o) => o.name)).toEqual(["elasticsearch", "elasticsearch"]);
            for (const output of outputs) {
                const settings = Object.fromEntries(output.settings);
                expect(settings).toMatchObject({
                    hosts: ["https://es01:9200"],
                    user: "logstash_writer",
                    ssl_enabled: "true",
                    ssl_certificate_authorities: [TEST_ENV.ELK_CA],
                    ssl_verification_mode: "full",
                    data_stream: "false",
                    manage_template: "false",
                    ilm_enabled: "false",
                    index: "%{[@metadata][elk][index]}",
                    action: "create",
                });
            }
            // Only the output for events with an id of their sender's sets it.
            expect(outputs.map((o) => Object.fromEntries(o.settings).document_id)).toEqual(["%{[@metadata][elk][id]}", undefined]);
            // The index is always logs-<dataset>-<environment>: the namespace comes from the environment, not the event.
            const event = new LsEvent({ message: "x", data_stream: { namespace: "prod" } });
            event.set("[@metadata][elk][dataset]", "django.app");
            pipeline.filter(event);
            expect(pipeline.route(event).map((d) => d.dataStream)).toEqual(["logs-elk.parse_failure-test"]);
        }
    });

    test("give every plugin an id, unique within its pipeline", async () => {
        for (const def of pipelines) {
            const pipeline = await Pipeline.load(files, def.pathConfig, TEST_ENV);
            const all: LsPlugin[] = [...pluginsOf(pipeline.config.input), ...pluginsOf(pipeline.config.filter), ...pluginsOf(pipeline.config.output)];
            const ids = all.map((p) => p.settings.find(([k]) => k === "id")?.[1]);
            expect(ids.filter((id) => id === undefined)).toEqual([]);
            expect(new Set(ids).size).toBe(ids.length);
        }
    });

    test("every grok pattern compiles from our pattern files alone (no Logstash built-ins)", async () => {
        await loadOniguruma();
        const patterns = readPatternFiles(files.filter((f) => f.path.startsWith("patterns/")).map((f) => ({ name: f.path, content: f.content })));
        expect(patterns.size).toBeGreaterThan(20);
        for (const name of patterns.keys()) expect(() => new Grok(`%{${name}}`, patterns)).not.toThrow();
        expect(() => new Grok("%{IPORHOST}", patterns)).toThrow(/IPORHOST.*not defined/);
        // Every grok in the pipelines names patterns_dir, so Logstash loads the same files.
        for (const f of files.filter((x) => x.path.endsWith(".conf"))) {
            for (const grok of pluginsOf(parseConfig(f.content).filter).filter((p) => p.name === "grok")) {
                expect(Object.fromEntries(grok.settings).patterns_dir).toEqual(["/usr/share/logstash/pipeline/patterns"]);
            }
        }
    });
});

describe("test harness (grok and config reading as Logstash does them)", () => {
    test("grok expands nested references, types captures and drops empty ones", async () => {
        await loadOniguruma();
        const patterns = new Map([
            ["NUM", "[0-9]+"],
            ["PAIR", "%{NUM:[a][x]:int}-%{NUM:[a][y]}"],
            ["OPT", "(?:%{NUM:[b]})?"],
        ]);
        expect(new Grok("^%{PAIR:[whole]}/%{OPT}$", patterns).match("12-34/")).toEqual([
            ["[whole]", "12-34"],
            ["[a][x]", 12],
            ["[a][y]", "34"],
        ]);
        expect(new Grok("^%{NUM}$", patterns).match("7")).toEqual([]);
        expect(new Grok("^%{NUM}$", patterns).match("x")).toBeUndefined();
    });

    test("config strings keep backslashes as written, and a backslash before the quote does not end them", () => {
        const [mutate] = pluginsOf(parseConfig(String.raw`filter { mutate { gsub => ["f", "\\x22", '"', "g", "a\"b", "c"] } }`).filter);
        expect(mutate.settings[0][1]).toEqual(["f", "\\\\x22", '"', "g", 'a\\"b', "c"]);
    });
});
