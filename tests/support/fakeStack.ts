/**
 * The parts of a stack that `verify` talks to, faked on 127.0.0.1 for its tests:
 * - an HTTPS "Elasticsearch" (certificate from the test PKI of fakeElasticsearch.ts), as strict as Elasticsearch 9.4
 *   about requests (tests/support/esRestApi.ts), answering cluster health,
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
import type { LogSource } from "../../components/model/sources";
import { TEST_ENV, loadPipeline, processArrivals } from "./corpora";
import { type CheckedRequest, type GateConditions, esError, gate, indexNotFound, isRefusal, respond } from "./esRestApi";
import { parseBasicAuth } from "./fakeElasticsearch";
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
    /** Requests Elasticsearch's own checks refused (route, method, auth, parameters, body), with the answer. */
    readonly refusals: { readonly request: string; readonly status: number; readonly body: unknown }[];
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

function notFound(type: string, reason: string): { status: number; body: unknown } {
    return esError(404, type, reason);
}

/** Options of {@link startFakeVerifyEs}. */
export interface FakeVerifyEsOptions {
    readonly cert: string;
    readonly key: string;
    /** The `elastic` user's password. */
    readonly password: string;
    readonly state: FakeEsState;
    /** The cluster's condition: security index unavailable (401), thread pools full (429). */
    readonly conditions?: GateConditions;
}

/**
 * Starts the fake Elasticsearch on 127.0.0.1 with `cert`/`key`, accepting `elastic:password`. Every request passes
 * Elasticsearch's checks first (tests/support/esRestApi.ts); the look-ups then answer from `state` with
 * Elasticsearch's not-found errors, and a search over an index pattern honours `ignore_unavailable` and
 * `allow_no_indices` as Elasticsearch does (concrete missing names are 404 unless ignored).
 */
export async function startFakeVerifyEs(options: FakeVerifyEsOptions): Promise<FakeVerifyEs> {
    const requests: string[] = [];
    const refusals: FakeVerifyEs["refusals"] = [];
    const { state } = options;
    const answer = (r: CheckedRequest): { status: number; body: unknown } => {
        switch (r.api) {
            case "cluster.health":
                // server/src/main/java/org/elasticsearch/action/admin/cluster/health/ClusterHealthResponse.java's fields.
                return { status: 200, body: { cluster_name: "elk-test", status: state.healthStatus, number_of_nodes: 1, timed_out: false } };
            case "ilm.get_lifecycle": {
                const name = r.parts.policy;
                const policy = state.policies.get(name);
                // x-pack/plugin/ilm/src/main/java/org/elasticsearch/xpack/ilm/action/TransportGetLifecycleAction.java
                if (policy === undefined) return notFound("resource_not_found_exception", `Lifecycle policy not found: [${name}]`);
                return { status: 200, body: { [name]: { version: 1, modified_date: "2025-01-01T00:00:00.000Z", policy } } };
            }
            case "cluster.get_component_template": {
                const name = r.parts.name;
                // server/src/main/java/org/elasticsearch/action/admin/indices/template/get/TransportGetComponentTemplateAction.java
                if (!state.componentTemplates.has(name)) return notFound("resource_not_found_exception", `component template matching [${name}] not found`);
                return { status: 200, body: { component_templates: [{ name, component_template: { template: {} } }] } };
            }
            case "indices.get_index_template": {
                const name = r.parts.name;
                // server/src/main/java/org/elasticsearch/action/admin/indices/template/get/TransportGetComposableIndexTemplateAction.java
                if (!state.indexTemplates.has(name)) return notFound("resource_not_found_exception", `index template matching [${name}] not found`);
                return { status: 200, body: { index_templates: [{ name, index_template: { index_patterns: [], composed_of: [] } }] } };
            }
            case "snapshot.get": {
                const repo = r.parts.repository;
                // server/src/main/java/org/elasticsearch/repositories/RepositoryMissingException.java, and
                // server/src/main/java/org/elasticsearch/snapshots/SnapshotMissingException.java for a missing snapshot.
                if (state.snapshots === undefined || repo !== "elk-snapshots") return notFound("repository_missing_exception", `[${repo}] missing`);
                if (r.parts.snapshot !== "_all") return notFound("snapshot_missing_exception", `[${repo}:${r.parts.snapshot}] is missing`);
                const all = [...state.snapshots].sort((a, b) => (r.param("order") === "desc" ? b.startMillis - a.startMillis : a.startMillis - b.startMillis));
                const snapshots = all.map((x) => ({ snapshot: x.name, uuid: x.name, state: x.state, data_streams: [], indices: [], start_time_in_millis: x.startMillis, end_time_in_millis: x.endMillis }));
                return { status: 200, body: { snapshots, total: snapshots.length, remaining: 0 } };
            }
            case "search": {
                const target = r.parts.index ?? "_all";
                const names = target.split(",");
                const streams = new Set(state.documents.map((d) => d.index));
                // A concrete name (no wildcard) that matches nothing is index_not_found unless ignore_unavailable; a
                // wildcard that matches nothing is an error only with allow_no_indices=false.
                for (const n of names) {
                    if (!n.includes("*") && !streams.has(n) && !r.flag("ignore_unavailable")) return indexNotFound(n);
                }
                const pattern = new RegExp(`^(?:${names.map((g) => g.replace(/[.]/g, "\\.").replace(/\*/g, ".*")).join("|")})$`);
                if (!r.flag("allow_no_indices") && ![...streams].some((s) => pattern.test(s))) return indexNotFound(target);
                const request = (r.body ?? {}) as { size?: number; query?: { match_phrase?: { message?: string } } };
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
            default:
                return { status: 500, body: { error: `the verify fake has no answer for ${r.api}`, status: 500 } };
        }
    };
    const server = https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, (req: IncomingMessage, res: ServerResponse) => {
        readBody(req).then(
            (body) => {
                const url = new URL(req.url ?? "/", "https://es01");
                requests.push(`${req.method ?? ""} ${url.pathname}`);
                const auth = parseBasicAuth(req.headers.authorization);
                const checked = gate(
                    {
                        method: req.method ?? "",
                        url: req.url ?? "/",
                        rawBody: body,
                        contentType: req.headers["content-type"],
                        accept: req.headers.accept,
                        user: auth?.user ?? null,
                        authenticated: auth?.user === "elastic" && auth.password === options.password,
                    },
                    options.conditions,
                );
                if (isRefusal(checked)) refusals.push({ request: `${req.method ?? ""} ${req.url ?? ""}`, status: checked.status, body: checked.body });
                respond(res, isRefusal(checked) ? checked : answer(checked));
            },
            () => res.destroy(),
        );
    });
    server.on("tlsClientError", () => undefined);
    const { url, close } = await serveOnLoopback(server);
    return { url, state, requests, refusals, close };
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
