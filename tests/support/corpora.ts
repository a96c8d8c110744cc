/**
 * Captured corpora (the exact bytes real nginx and Django sent) and what the pipelines must make of them.
 *
 * Live tests capture fresh corpora and check them here; the pipeline tests check the copies kept in
 * tests/fixtures/corpora (written by `scripts/captureCorpora.ts`), so they run where nginx or Django are missing.
 * Every expectation is derived from the scenario that produced the bytes (the requests sent, the records
 * logged), never from the bytes themselves.
 */
import * as fs from "fs";
import * as path from "path";
import { type LogSource, logstashPipelines } from "../../components/model/sources";
import { type DjangoRecord, SEVERITY_OF } from "./djangoScenario";
import { type Delivery, type LsEvent, Pipeline } from "./logstash";
import type { NginxRequest } from "./nginxScenario";

export const FIXTURE_DIR = path.join(__dirname, "..", "fixtures", "corpora");
export const NGINX_FIXTURE = path.join(FIXTURE_DIR, "nginx.json");
export const DJANGO_FIXTURE = path.join(FIXTURE_DIR, "django.json");

/** The environment the pipelines run with in the tests. */
export const TEST_ENV: Readonly<Record<string, string>> = {
    ELK_ES_URL: "https://es01:9200",
    ELK_LOGSTASH_USER: "logstash_writer",
    ELK_LOGSTASH_PASSWORD: "not-a-real-password",
    ELK_CA: "/usr/share/logstash/config/certs/ca.crt",
    ELK_TLS_CERT: "/usr/share/logstash/config/certs/logstash.crt",
    ELK_TLS_KEY: "/usr/share/logstash/config/certs/logstash.pkcs8.key",
    ELK_ENVIRONMENT: "test",
};

/** Bytes as stored in a fixture: base64 is the truth, text is there for a reviewer. */
export interface StoredBytes {
    readonly peer: string;
    readonly base64: string;
    readonly text: string;
}

export function storeBytes(data: Buffer, peer: string): StoredBytes {
    return { peer, base64: data.toString("base64"), text: data.toString("utf8") };
}

export function loadBytes(stored: StoredBytes): Buffer {
    return Buffer.from(stored.base64, "base64");
}

/** An nginx corpus: what the scenario asked and what nginx sent. */
export interface NginxCorpus {
    readonly capturedWith: string;
    readonly capturedAt: string;
    /** The machine's host name, which nginx puts into the syslog header. */
    readonly hostname: string;
    /** The nginx source name the snippet was generated for. */
    readonly sourceName: string;
    /** The syslog tag of its error lines; absent in corpora captured with 0.4.0's snippet, which used `nginx_error`. */
    readonly errorTag?: string;
    readonly requests: readonly NginxRequest[];
    readonly datagrams: readonly StoredBytes[];
}

/** A Django corpus: what the app logged and the byte stream the handler sent. */
export interface DjangoCorpus {
    readonly capturedWith: string;
    readonly capturedAt: string;
    readonly hostname: string;
    readonly serviceName: string;
    readonly records: readonly DjangoRecord[];
    readonly stream: StoredBytes;
    /** Captured from the current module, whose records carry ids; the stored fixture is 0.4.0's, without. */
    readonly withIds?: boolean;
}

/** The stored nginx corpus. The copy in the repository was captured with 0.4.0's snippet (tag `nginx_error`), which
 * the pipeline still reads; `scripts/captureCorpora.ts` captures with the current files and records their tag. */
export function readNginxCorpus(): NginxCorpus {
    return JSON.parse(fs.readFileSync(NGINX_FIXTURE, "utf8")) as NginxCorpus;
}

export function readDjangoCorpus(): DjangoCorpus {
    return JSON.parse(fs.readFileSync(DJANGO_FIXTURE, "utf8")) as DjangoCorpus;
}

/** An event after the filters, and where the output sends it. */
export interface Processed {
    readonly event: LsEvent;
    readonly deliveries: Delivery[];
}

/** Loads the pipeline of `kind` exactly as `logstashPipelines` lays it out for `sources`. */
export async function loadPipeline(sources: readonly LogSource[], kind: LogSource["kind"], env = TEST_ENV): Promise<Pipeline> {
    const { pipelines, files } = logstashPipelines(sources);
    const def = pipelines.find((p) => p.id === kind);
    if (!def) throw new Error(`no ${kind} pipeline for these sources`);
    return Pipeline.load(files, def.pathConfig, env);
}

/** Feeds arrivals through input, filters and output. */
export function processArrivals(pipeline: Pipeline, arrivals: readonly { protocol: "udp" | "tcp"; port: number; data: Buffer; peer: string }[]): Processed[] {
    const events = arrivals.flatMap((a) => pipeline.receive(a));
    pipeline.filterBatch(events);
    return events.map((event) => ({ event, deliveries: pipeline.route(event) }));
}

const withinMs = (iso: string | undefined, reference: string, ms: number) => iso !== undefined && Math.abs(Date.parse(iso) - Date.parse(reference)) <= ms;

/**
 * Checks every nginx event against the scenario: one access event per request with its status, path, query,
 * client, agent and referrer; one error event per request that logs an error, with level, pid, message, client,
 * request and upstream; all in the source's data stream, with the time taken from the line.
 */
export function expectNginxEvents(processed: readonly Processed[], corpus: Omit<NginxCorpus, "datagrams">, source: LogSource, env = TEST_ENV): void {
    expect(source.kind).toBe("nginx");
    const failures = processed.filter((p) => p.event.tags.includes("_elk_parse_failure"));
    expect(failures.map((p) => p.event.str("[event][original]"))).toEqual([]);

    for (const p of processed) {
        // Access lines are written with nginx's $request_id as the document id; error lines carry none.
        const requestId = p.event.get("[http][request][id]");
        if (p.event.tags.includes("nginx_access")) expect(requestId).toMatch(/^[0-9a-f]{32}$/);
        expect(p.deliveries).toEqual([
            p.event.tags.includes("nginx_access")
                ? { outputId: "to_elasticsearch_by_id", dataStream: `logs-${source.dataset}-${env.ELK_ENVIRONMENT}`, action: "create", documentId: requestId }
                : { outputId: "to_elasticsearch", dataStream: `logs-${source.dataset}-${env.ELK_ENVIRONMENT}`, action: "create" },
        ]);
        expect(p.event.get("[service][name]")).toBe(source.name);
        expect(p.event.get("[event][dataset]")).toBe(source.dataset);
        expect(p.event.get("[host][hostname]")).toBe(corpus.hostname);
        expect(p.event.get("[log][syslog][facility][code]")).toBe(23); // nginx's default facility, local7
        // The time comes from the line (nginx's $msec or error time), not from when the datagram arrived.
        expect(withinMs(p.event.str("@timestamp"), corpus.capturedAt, 120_000)).toBe(true);
    }

    const access = processed.filter((p) => p.event.tags.includes("nginx_access"));
    expect(access).toHaveLength(corpus.requests.length);
    for (const req of corpus.requests) {
        const matching = access.filter((p) => p.event.get("[url][original]") === req.target);
        expect(matching).toHaveLength(1);
        const e = matching[0].event;
        const [pathPart, query] = req.target.split("?");
        expect({
            status: e.get("[http][response][status_code]"),
            method: e.get("[http][request][method]"),
            version: e.get("[http][version]"),
            path: e.get("[url][path]"),
            query: e.get("[url][query]"),
            ip: e.get("[source][ip]"),
            address: e.get("[source][address]"),
            agent: e.get("[user_agent][original]"),
            referrer: e.get("[http][request][referrer]"),
            severity: e.get("[log][syslog][severity][code]"),
            appname: e.get("[log][syslog][appname]"),
        }).toEqual({
            status: req.status,
            method: "GET",
            version: "1.1",
            path: pathPart,
            query,
            ip: req.ipv6 ? "::1" : "127.0.0.1",
            address: req.ipv6 ? "::1" : "127.0.0.1",
            agent: req.userAgent,
            referrer: req.referrer,
            severity: 6,
            appname: "nginx_access",
        });
        expect(typeof e.get("[http][response][body][bytes]")).toBe("number");
        expect(typeof e.get("[nginx][access][request_time]")).toBe("number");
        expect(e.str("[http][request][id]")).toMatch(/^[0-9a-f]{32}$/);
        expect(e.get("message")).toBe(e.str("[event][original]")?.replace(/^<\d+>.*? nginx_access: /, ""));
        if (req.id === "upstream") {
            expect(e.get("[nginx][upstream][status]")).toBe("502");
            expect(e.str("[nginx][upstream][address]")).toMatch(/^127\.0\.0\.1:\d+$/);
        } else {
            expect(e.get("[nginx][upstream][status]")).toBeUndefined();
        }
    }

    const errors = processed.filter((p) => p.event.tags.includes("nginx_error"));
    const erring = corpus.requests.filter((r) => r.errorLine !== undefined);
    expect(errors).toHaveLength(erring.length);
    for (const req of erring) {
        const matching = errors.filter((p) => p.event.get("[url][original]") === req.target);
        expect(matching).toHaveLength(1);
        const e = matching[0].event;
        expect(e.str("message")).toContain(req.errorLine);
        expect(e.str("message")).not.toContain(", client: ");
        expect({
            level: e.get("[log][level]"),
            severity: e.get("[log][syslog][severity][code]"),
            method: e.get("[http][request][method]"),
            path: e.get("[url][path]"),
            ip: e.get("[source][ip]"),
            server: e.get("[nginx][error][server_name]"),
            appname: e.get("[log][syslog][appname]"),
        }).toEqual({ level: "error", severity: 3, method: "GET", path: req.target.split("?")[0], ip: "127.0.0.1", server: "localhost", appname: corpus.errorTag ?? "nginx_error" });
        expect(e.get("[process][pid]")).toEqual(expect.any(Number));
        expect(e.get("[process][pid]")).toBe(e.get("[process][thread][id]"));
        expect(e.str("[url][domain]")).toMatch(/^127\.0\.0\.1:\d+$/);
        if (req.id === "upstream") {
            expect(e.str("[nginx][upstream][url]")).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+${req.target.replace(/[?.]/g, "\\$&")}$`));
        }
        if (req.id === "missing") {
            // nginx writes the decoded file name raw (UTF-8): it must come through intact.
            expect(e.str("message")).toContain(`${decodeURIComponent(req.target.split("?")[0])}" failed`);
        }
    }
    expect(access.length + errors.length).toBe(processed.length);
}

/** The message Python's logging produces for a record (the traceback follows for exceptions). */
function expectedMessageStart(record: DjangoRecord): string {
    return record.exception === undefined ? record.message : `${record.message}\nTraceback (most recent call last):\n`;
}

/**
 * Checks every Django event against the records logged: level, logger, message (line breaks, non-ASCII and the
 * traceback intact), syslog header fields, and `service.name` and data stream from the port's source.
 */
export function expectDjangoEvents(processed: readonly Processed[], corpus: Omit<DjangoCorpus, "stream">, source: LogSource, env = TEST_ENV): void {
    expect(source.kind).toBe("django");
    expect(processed.filter((p) => p.event.tags.includes("_elk_parse_failure")).map((p) => p.event.str("[event][original]"))).toEqual([]);
    expect(processed).toHaveLength(corpus.records.length);
    processed.forEach((p, i) => {
        const record = corpus.records[i];
        const e = p.event;
        // Records of the current module carry an id and are written with it (op_type create): a copy sent again is
        // refused by Elasticsearch. Lines of 0.4.0's module, which has no id, are written with one Elasticsearch makes.
        const id = e.get("[event][id]");
        if (corpus.withIds) expect(id).toMatch(/^[0-9a-f]{32}$/);
        else expect(id).toBeUndefined();
        expect(p.deliveries).toEqual([
            typeof id === "string"
                ? { outputId: "to_elasticsearch_by_id", dataStream: `logs-${source.dataset}-${env.ELK_ENVIRONMENT}`, action: "create", documentId: id }
                : { outputId: "to_elasticsearch", dataStream: `logs-${source.dataset}-${env.ELK_ENVIRONMENT}`, action: "create" },
        ]);
        expect({
            service: e.get("[service][name]"),
            dataset: e.get("[data_stream][dataset]"),
            namespace: e.get("[data_stream][namespace]"),
            level: e.get("[log][level]"),
            logger: e.get("[log][logger]"),
            severity: e.get("[log][syslog][severity][code]"),
            facility: e.get("[log][syslog][facility][code]"),
            version: e.get("[log][syslog][version]"),
            appname: e.get("[log][syslog][appname]"),
            host: e.get("[host][hostname]"),
            file: e.get("[log][origin][file][name]"),
            func: e.get("[log][origin][function]"),
            thread: e.get("[process][thread][name]"),
            msgid: e.get("[log][syslog][msgid]"),
        }).toEqual({
            service: source.name,
            dataset: source.dataset,
            namespace: env.ELK_ENVIRONMENT,
            level: record.level.toLowerCase(),
            logger: record.logger,
            severity: SEVERITY_OF[record.level],
            facility: 1,
            version: "1",
            appname: corpus.serviceName,
            host: corpus.hostname,
            file: "emit.py",
            func: "<module>",
            thread: "MainThread",
            // MSGID: the logger name with anything but [A-Za-z0-9._-] as '_', at most 32 characters.
            msgid: record.logger.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 32),
        });
        expect(e.get("[log][origin][file][line]")).toEqual(expect.any(Number));
        expect(e.str("[log][syslog][procid]")).toMatch(/^\d+$/);
        expect(withinMs(e.str("@timestamp"), corpus.capturedAt, 120_000)).toBe(true);
        const message = e.str("message") ?? "";
        if (record.exception === undefined) {
            expect(message).toBe(record.message);
        } else {
            expect(message.startsWith(expectedMessageStart(record))).toBe(true);
            expect(message.trimEnd().endsWith(`ValueError: ${record.exception}`)).toBe(true);
            expect(message.split("\n").length).toBeGreaterThan(3);
        }
        // On the wire the record was one line: line breaks travelled escaped.
        expect(e.str("[event][original]")).not.toContain("\n");
    });
}
