/**
 * The Logstash pipelines of pipelines/ run on what real nginx and Django sent (the corpora kept in
 * tests/fixtures/corpora), through the exact files `logstashPipelines` hands to Logstash: generated inputs and
 * source maps, static parse and route files, grok patterns read from pipelines/patterns and run on Oniguruma.
 */
import { nginxErrorTag, parseLogSources, logstashPipelines, pipelineInput, PARSE_FAILURE_DATASET } from "../components/model/sources";
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
import { charsetConvert } from "./support/ruby";

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

describe("nginx pipeline: sources, methods, escapes and bytes (lines derived from the captured corpus)", () => {
    const two = parseLogSources([`nginx:${nginxCorpus.sourceName}`, "nginx:api-gw", "django:shop"]);
    const [web, gw] = two;
    const texts = nginxCorpus.datagrams.map((d) => loadBytes(d));
    const accessLine = (id: string) => texts.map((b) => b.toString("utf8")).find((t) => t.includes(" nginx_access: ") && t.includes(`case=${id}`)) as string;
    const errorBytes = (id: string) => texts.find((b) => b.includes(" nginx_error: ") && b.includes(`case=${id}`)) as Buffer;
    const run = async (sources: typeof two, lines: (string | Buffer)[]) =>
        processArrivals(await loadPipeline(sources, "nginx"), lines.map((l) => ({ protocol: "udp" as const, port: 5140, data: Buffer.isBuffer(l) ? l : Buffer.from(l, "utf8"), peer: "127.0.0.1" })));

    test("error lines tagged with a source's own tag go to that source's stream; an unknown tag to the parse-failure stream", async () => {
        const line = errorBytes("upstream").toString("utf8");
        const [own, other, stale] = await run(two, [
            line.replace(" nginx_error: ", ` ${nginxErrorTag(web)}: `),
            line.replace(" nginx_error: ", ` ${nginxErrorTag(gw)}: `),
            line.replace(" nginx_error: ", ` ${nginxErrorTag({ name: "removed-site" })}: `),
        ]);
        expect([own, other].map((p) => [p.event.get("[service][name]"), p.deliveries[0].dataStream])).toEqual([
            [web.name, `logs-${web.dataset}-test`],
            ["api-gw", "logs-nginx.api_gw-test"],
        ]);
        expect(other.event.tags).toEqual(["nginx_error"]);
        expect(other.event.get("[log][syslog][appname]")).toBe(nginxErrorTag(gw));
        expect(stale.event.tags).toEqual(expect.arrayContaining(["nginx_error", "_elk_unknown_source"]));
        expect(stale.deliveries[0].dataStream).toBe("logs-elk.parse_failure-test");
        // With a single source the unknown tag is not taken for that source either.
        const [single] = await run([web], [line.replace(" nginx_error: ", ` ${nginxErrorTag({ name: "removed-site" })}: `)]);
        expect(single.event.tags).toContain("_elk_unknown_source");
    });

    test("a tag that only starts like a source's error tag is not an error line", async () => {
        const line = errorBytes("upstream").toString("utf8").replace(" nginx_error: ", ` ${nginxErrorTag(web)}0: `);
        const [p] = await run(two, [line]);
        expect(p.event.tags).toEqual(expect.arrayContaining(["_elk_parse_failure", "_nginx_unknown_tag"]));
        expect(p.event.get("[@metadata][elk][error_tag]")).toBeUndefined();
    });

    test("methods with a hyphen parse in access and error lines", async () => {
        const [access, error] = await run(two, [
            accessLine("ok").replace('"GET"', '"VERSION-CONTROL"'),
            errorBytes("upstream").toString("utf8").replace('request: "GET ', 'request: "M-SEARCH '),
        ]);
        expect(access.event.get("[http][request][method]")).toBe("VERSION-CONTROL");
        expect(error.event.get("[http][request][method]")).toBe("M-SEARCH");
        expect([...access.event.tags, ...error.event.tags]).not.toContain("_elk_parse_failure");
    });

    test("\\x22 and \\x5C are restored in url.original, url.path, url.query and url.domain; \\x5Cx22 stays literal", async () => {
        const line = accessLine("ok")
            .replace('"/ok?case=ok"', '"/a\\x22b\\x5Cc?case=ok&q=\\x22x\\x22&lit=\\x5Cx22"')
            .replace('"127.0.0.1" "http"', '"quo\\x22te\\x5Chost" "http"');
        const [p] = await run(two, [line]);
        expect({
            original: p.event.get("[url][original]"),
            path: p.event.get("[url][path]"),
            query: p.event.get("[url][query]"),
            domain: p.event.get("[url][domain]"),
        }).toEqual({ original: '/a"b\\c?case=ok&q="x"&lit=\\x22', path: '/a"b\\c', query: 'case=ok&q="x"&lit=\\x22', domain: 'quo"te\\host' });
    });

    test("an error line holding bytes that are not UTF-8 keeps its client, request and host", async () => {
        const good = errorBytes("missing");
        const bad = Buffer.from(good.toString("latin1").replace(/caf\xc3\xa9/g, "caf\xff"), "latin1");
        expect(bad.includes(Buffer.from([0xff]))).toBe(true);
        const [p, q] = await run(two, [bad, good]);
        expect({
            tags: p.event.tags,
            ip: p.event.get("[source][ip]"),
            method: p.event.get("[http][request][method]"),
            domain: p.event.str("[url][domain]")?.replace(/\d+$/, "PORT"),
            original: p.event.str("[event][original]")?.includes('missing/caf\ufffd.html" failed'),
        }).toEqual({ tags: ["nginx_error"], ip: "127.0.0.1", method: "GET", domain: "127.0.0.1:PORT", original: true });
        expect(p.event.str("message")).toMatch(/^open\(\) ".*\/missing\/caf\ufffd\.html" failed \(2: No such file or directory\)$/);
        // Valid UTF-8 passes through the same conversion intact.
        expect(q.event.str("message")).toContain('/missing/café.html" failed');
    });

    test("with 0.4.0's input (charset UTF-8) Logstash would escape that line and lose client, request and host", async () => {
        const { files } = logstashPipelines(two);
        const utf8 = files.map((f) => (f.path === "nginx/00-input.conf" ? { ...f, content: f.content.replace('charset => "ISO-8859-1"', 'charset => "UTF-8"') } : f));
        expect(utf8.find((f) => f.path === "nginx/00-input.conf")?.content).toContain('charset => "UTF-8"');
        const pipeline = await Pipeline.load(utf8, "nginx/*.conf", TEST_ENV);
        const bad = Buffer.from(errorBytes("missing").toString("latin1").replace(/caf\xc3\xa9/g, "caf\xff"), "latin1");
        const [p] = processArrivals(pipeline, [{ protocol: "udp", port: 5140, data: bad, peer: "127.0.0.1" }]);
        expect(p.event.str("[event][original]")).toContain('open() \\"');
        expect(p.event.get("[source][ip]")).toBeUndefined();
        expect(p.event.get("[http][request][method]")).toBeUndefined();
    });

    test("error lines whose raw request holds quotes, or whose message spells a context, still parse", async () => {
        const line = errorBytes("upstream").toString("utf8");
        const [quoted, spelled] = await run(two, [
            line.replace('request: "GET /upstream/api?case=upstream&id=7 HTTP/1.1"', 'request: "GET /a"b, host: "x HTTP/1.1"'),
            line.replace("connect() failed", 'open() "/www/a, client: 10.9.9.9, server: evil" failed'),
        ]);
        // The request value runs to the '"' before the next key; it is not a plain request line, so no url fields.
        expect({ tags: quoted.event.tags, ip: quoted.event.get("[source][ip]"), url: quoted.event.get("[url][original]"), domain: quoted.event.str("[url][domain]")?.replace(/\d+$/, "PORT") }).toEqual({
            tags: ["nginx_error"],
            ip: "127.0.0.1",
            url: undefined,
            domain: "127.0.0.1:PORT",
        });
        // The first ", client: " is not followed by a whole context: the rest of the line is the message.
        expect(spelled.event.tags).toEqual(["nginx_error"]);
        expect(spelled.event.get("[source][ip]")).toBeUndefined();
        expect(spelled.event.str("message")).toMatch(/^open\(\) "\/www\/a, client: 10\.9\.9\.9, server: evil" failed .*, client: 127\.0\.0\.1, server: localhost, /);
    });

    test("the udp input leaves source_ip_fieldname at the plugin's ECS default, [host][ip]", async () => {
        const [udp] = pluginsOf(parseConfig(pipelineInput("nginx", two)).input);
        expect(udp.settings.map(([k]) => k)).toEqual(["id", "port", "codec"]);
        const [p] = await run(two, [accessLine("ok")]);
        expect(p.event.get("[host][ip]")).toBe("127.0.0.1");
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

    test("codecs convert bytes as LogStash::Util::Charset does: invalid UTF-8 becomes Ruby's inspect, ISO-8859-1 a character per byte", () => {
        const bytes = Buffer.from([0x61, 0x22, 0x5c, 0xff, 0x09, 0xc3, 0xa9, 0x23, 0x7b]);
        expect(charsetConvert(bytes, "UTF-8")).toBe('a\\"\\\\\\xFF\\té\\#{');
        expect(charsetConvert(Buffer.from("a\"é", "utf8"), "UTF-8")).toBe('a"é');
        expect(charsetConvert(bytes, "ISO-8859-1")).toBe('a"\\\xff\tÃ©#{');
        expect(() => charsetConvert(bytes, "UTF-16")).toThrow(/not emulated/);
    });

    test("ruby filters run in real Ruby, once per batch; an exception tags the event; =~ conditions match as Logstash's do", async () => {
        const text = [
            "filter {",
            '  if [n] =~ /^[0-9]+$/ {',
            "    ruby { id => r code => 'return if event.get(\"n\") == \"0\"; event.set(\"[a][b]\", event.get(\"n\").to_i * 2); raise \"boom\" if event.get(\"n\") == \"3\"' add_tag => [ok] }",
            "  }",
            '  if [n] !~ /^[0-9]+$/ { mutate { id => m add_tag => [notnum] } }',
            "}",
        ].join("\n");
        const pipeline = await Pipeline.load([{ path: "x/a.conf", content: text }], "x/*.conf", {});
        const events = ["0", "2", "3", "x"].map((n) => new LsEvent({ n }));
        pipeline.filterBatch(events);
        expect(events.map((e) => [e.get("[a][b]"), e.tags])).toEqual([
            [undefined, ["ok"]],
            [4, ["ok"]],
            [6, ["_rubyexception"]],
            [undefined, ["notnum"]],
        ]);
    });

    test("config strings keep backslashes as written, and a backslash before the quote does not end them", () => {
        const [mutate] = pluginsOf(parseConfig(String.raw`filter { mutate { gsub => ["f", "\\x22", '"', "g", "a\"b", "c"] } }`).filter);
        expect(mutate.settings[0][1]).toEqual(["f", "\\\\x22", '"', "g", 'a\\"b', "c"]);
    });
});
