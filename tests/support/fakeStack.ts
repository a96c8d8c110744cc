/**
 * The parts of a stack that `verify` talks to, faked on 127.0.0.1 for its tests:
 * - an HTTPS "Elasticsearch" (certificate from the test PKI of fakeElasticsearch.ts) answering cluster health,
 *   ILM policy, component and index template look-ups from a state the test controls, and searches over the
 *   documents "Logstash" indexed (match_phrase on message, as a substring);
 * - a "Logstash" with a UDP listener for nginx and a TLS listener per Django source, which runs what arrives
 *   through the repository's real pipelines (tests/support/logstash.ts: grok patterns, filters, routing) and,
 *   after a delay, makes each resulting event searchable in its data stream.
 */
import * as dgram from "dgram";
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as net from "net";
import * as tls from "tls";
import type { LogSource } from "../../components/sources";
import { TEST_ENV, loadPipeline, processArrivals } from "./corpora";
import { serveOnLoopback } from "./loopback";

/** A searchable document. */
export interface FakeDocument {
    readonly index: string;
    readonly source: Record<string, unknown>;
}

/** What the fake Elasticsearch holds; tests edit it to make things missing. */
export interface FakeEsState {
    readonly policies: Map<string, unknown>;
    readonly componentTemplates: Set<string>;
    readonly indexTemplates: Set<string>;
    readonly documents: FakeDocument[];
    healthStatus: "green" | "yellow" | "red";
    /** Snapshots in the repository `elk-snapshots`; no repository when undefined. */
    snapshots?: { readonly name: string; readonly state: "SUCCESS" | "FAILED" | "PARTIAL"; readonly startMillis: number; readonly endMillis: number }[];
}

/** A running fake Elasticsearch for verify. */
export interface FakeVerifyEs {
    readonly url: string;
    readonly state: FakeEsState;
    /** Method and path of every request, in order. */
    readonly requests: string[];
    close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

const HEADERS = { "content-type": "application/json", "x-elastic-product": "Elasticsearch" };

function notFound(type: string, reason: string): { status: number; body: unknown } {
    return { status: 404, body: { error: { root_cause: [{ type, reason }], type, reason }, status: 404 } };
}

/** Starts the fake Elasticsearch on 127.0.0.1 with `cert`/`key`, accepting `elastic:password`. */
export async function startFakeVerifyEs(options: { cert: string; key: string; password: string; state: FakeEsState }): Promise<FakeVerifyEs> {
    const requests: string[] = [];
    const { state } = options;
    const auth = `Basic ${Buffer.from(`elastic:${options.password}`).toString("base64")}`;
    const answer = (method: string, url: URL, body: string, authorization: string | undefined): { status: number; body: unknown } => {
        if (authorization !== auth) {
            const reason = "unable to authenticate user [elastic] for REST request";
            return { status: 401, body: { error: { root_cause: [{ type: "security_exception", reason }], type: "security_exception", reason }, status: 401 } };
        }
        const p = decodeURIComponent(url.pathname);
        if (p === "/_cluster/health") return { status: 200, body: { cluster_name: "elk-test", status: state.healthStatus, number_of_nodes: 1, timed_out: false } };
        let m = /^\/_ilm\/policy\/([^/]+)$/.exec(p);
        if (m) {
            const policy = state.policies.get(m[1]);
            if (policy === undefined) return notFound("resource_not_found_exception", `Lifecycle policy not found: ${m[1]}`);
            return { status: 200, body: { [m[1]]: { version: 1, modified_date: "2025-01-01T00:00:00.000Z", policy } } };
        }
        m = /^\/_component_template\/([^/]+)$/.exec(p);
        if (m) {
            if (!state.componentTemplates.has(m[1])) return notFound("resource_not_found_exception", `component template matching [${m[1]}] not found`);
            return { status: 200, body: { component_templates: [{ name: m[1], component_template: { template: {} } }] } };
        }
        m = /^\/_snapshot\/([^/]+)\/_all$/.exec(p);
        if (m && method === "GET") {
            if (state.snapshots === undefined || m[1] !== "elk-snapshots") return notFound("repository_missing_exception", `[${m[1]}] missing`);
            const all = [...state.snapshots].sort((a, b) => b.startMillis - a.startMillis);
            const snapshots = all.map((x) => ({ snapshot: x.name, uuid: x.name, state: x.state, data_streams: [], indices: [], start_time_in_millis: x.startMillis, end_time_in_millis: x.endMillis }));
            return { status: 200, body: { snapshots, total: snapshots.length, remaining: 0 } };
        }
        m = /^\/_index_template\/([^/]+)$/.exec(p);
        if (m) {
            if (!state.indexTemplates.has(m[1])) return notFound("resource_not_found_exception", `index template matching [${m[1]}] not found`);
            return { status: 200, body: { index_templates: [{ name: m[1], index_template: { index_patterns: [], composed_of: [] } }] } };
        }
        m = /^\/([^/]+)\/_search$/.exec(p);
        if (m && (method === "POST" || method === "GET")) {
            const pattern = new RegExp(`^(?:${m[1].split(",").map((g) => g.replace(/[.]/g, "\\.").replace(/\*/g, ".*")).join("|")})$`);
            const request = JSON.parse(body || "{}") as { size?: number; query?: { match_phrase?: { message?: string } } };
            const phrase = request.query?.match_phrase?.message ?? "";
            const hits = state.documents.filter((d) => pattern.test(d.index) && typeof d.source.message === "string" && d.source.message.includes(phrase));
            return {
                status: 200,
                body: {
                    took: 1,
                    timed_out: false,
                    _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
                    hits: { total: { value: hits.length, relation: "eq" }, max_score: 1, hits: hits.slice(0, request.size ?? 10).map((d, i) => ({ _index: d.index, _id: String(i), _score: 1, _source: d.source })) },
                },
            };
        }
        return { status: 404, body: { error: `no handler found for uri [${url.pathname}] and method [${method}]`, status: 404 } };
    };
    const server = https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, (req: IncomingMessage, res: ServerResponse) => {
        readBody(req).then(
            (body) => {
                const url = new URL(req.url ?? "/", "https://es01");
                requests.push(`${req.method ?? ""} ${url.pathname}`);
                const result = answer(req.method ?? "", url, body, req.headers.authorization);
                res.writeHead(result.status, HEADERS);
                res.end(JSON.stringify(result.body));
            },
            () => res.destroy(),
        );
    });
    server.on("tlsClientError", () => undefined);
    const { url, close } = await serveOnLoopback(server);
    return { url, state, requests, close };
}

/** Options of {@link startFakeLogstash}. */
export interface FakeLogstashOptions {
    readonly cert: string;
    readonly key: string;
    readonly sources: readonly LogSource[];
    /** Environment the pipelines write to (ELK_ENVIRONMENT). */
    readonly environment: string;
    /** Where events become searchable. */
    readonly es: FakeVerifyEs;
    /** Time from arrival to searchable, ms. */
    readonly delayMs: number;
    /** Return false to lose what arrives for a kind (the events then never arrive). */
    readonly deliver?: (kind: LogSource["kind"]) => boolean;
}

/** A running fake Logstash. */
export interface FakeLogstash {
    readonly nginxPort: number;
    /** TLS port per Django source name. */
    readonly djangoPorts: ReadonlyMap<string, number>;
    /** Raw arrivals, for checks of the wire format. */
    readonly received: { kind: LogSource["kind"]; data: string }[];
    close(): Promise<void>;
}

/** Starts the UDP and TLS listeners on 127.0.0.1, each on a free port. */
export async function startFakeLogstash(options: FakeLogstashOptions): Promise<FakeLogstash> {
    const env = { ...TEST_ENV, ELK_ENVIRONMENT: options.environment };
    const has = (kind: LogSource["kind"]) => options.sources.some((s) => s.kind === kind);
    const nginxPipeline = has("nginx") ? await loadPipeline(options.sources, "nginx", env) : undefined;
    const djangoPipeline = has("django") ? await loadPipeline(options.sources, "django", env) : undefined;
    const received: FakeLogstash["received"] = [];
    const timers = new Set<NodeJS.Timeout>();

    const ingest = (kind: LogSource["kind"], protocol: "udp" | "tcp", port: number, data: Buffer) => {
        received.push({ kind, data: data.toString("utf8") });
        const pipeline = kind === "nginx" ? nginxPipeline : djangoPipeline;
        if (pipeline === undefined || options.deliver?.(kind) === false) return;
        for (const { event, deliveries } of processArrivals(pipeline, [{ protocol, port, data, peer: "127.0.0.1" }])) {
            const source = Object.fromEntries(Object.entries(event.data).filter(([k]) => k !== "@metadata"));
            const timer = setTimeout(() => {
                timers.delete(timer);
                for (const d of deliveries) options.es.state.documents.push({ index: d.dataStream, source });
            }, options.delayMs);
            timers.add(timer);
        }
    };

    const udp = dgram.createSocket("udp4");
    const nginxPort = options.sources.find((s) => s.kind === "nginx")?.port ?? 0;
    udp.on("message", (msg: Buffer) => ingest("nginx", "udp", nginxPort, msg));
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));

    const sockets = new Set<net.Socket>();
    const servers: tls.Server[] = [];
    const djangoPorts = new Map<string, number>();
    for (const s of options.sources.filter((x) => x.kind === "django")) {
        const server = tls.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, (socket) => {
            const chunks: Buffer[] = [];
            socket.on("data", (c: Buffer) => chunks.push(c));
            socket.on("end", () => {
                ingest("django", "tcp", s.port, Buffer.concat(chunks));
                socket.end();
            });
            socket.on("error", () => undefined);
        });
        server.on("connection", (socket: net.Socket) => {
            sockets.add(socket);
            socket.on("close", () => sockets.delete(socket));
        });
        server.on("tlsClientError", () => undefined);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        servers.push(server);
        djangoPorts.set(s.name, (server.address() as AddressInfo).port);
    }
    return {
        nginxPort: udp.address().port,
        djangoPorts,
        received,
        close: async () => {
            for (const t of timers) clearTimeout(t);
            for (const socket of sockets) socket.destroy();
            await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), ...servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve())))]);
        },
    };
}
