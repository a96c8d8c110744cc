/**
 * A fake Elasticsearch for `snapshot` and `restore`: HTTPS on 127.0.0.1 with the test PKI, `elastic` basic auth, and
 * the snapshot, resolve, data stream, close, restore, recovery and count APIs with Elasticsearch's answers and
 * refusals (an open data stream or index of the same name stops a restore). Snapshots and restores take a given
 * number of polls to finish, so progress can be watched; every request is recorded.
 */
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import * as https from "https";
import { serveOnLoopback } from "./loopback";

/** A snapshot in the fake repository. */
export interface FakeSnapshot {
    readonly name: string;
    state: "IN_PROGRESS" | "SUCCESS" | "FAILED" | "PARTIAL";
    readonly dataStreams: string[];
    /** Backing and plain indices, with their documents. */
    readonly docs: Record<string, number>;
    readonly startMillis: number;
    endMillis?: number;
    /** GETs left before an IN_PROGRESS snapshot ends. */
    pollsLeft: number;
    /** How it ends. */
    readonly outcome: "SUCCESS" | "FAILED";
}

/** The fake cluster; tests read and edit it. */
export interface FakeSnapshotState {
    readonly repository: string;
    readonly snapshots: Map<string, FakeSnapshot>;
    /** Open data streams: name -> backing index names. */
    readonly dataStreams: Map<string, string[]>;
    /** Indices (backing and plain): name -> open and documents. */
    readonly indices: Map<string, { open: boolean; docs: number }>;
    /** Status polls a new snapshot stays in progress. */
    snapshotPolls: number;
    /** How a new snapshot ends. */
    snapshotOutcome: "SUCCESS" | "FAILED";
    /** Recovery polls before a restored shard is done. */
    restorePolls: number;
    /** Shards per index. */
    shardsPerIndex: number;
    /** Forces the answer to the restore request. */
    refuseRestore?: { status: number; body: unknown };
}

/** A running fake. */
export interface FakeSnapshotEs {
    readonly url: string;
    readonly state: FakeSnapshotState;
    /** "METHOD path" of every request. */
    readonly requests: string[];
    close(): Promise<void>;
}

const HEADERS = { "content-type": "application/json", "x-elastic-product": "Elasticsearch" };

function wildcard(name: string, patterns: string): boolean {
    return patterns.split(",").some((p) => new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(name));
}

function failure(status: number, type: string, reason: string): { status: number; body: unknown } {
    return { status, body: { error: { root_cause: [{ type, reason }], type, reason }, status } };
}

/** Starts the fake with an empty repository named `repository`. */
export async function startFakeSnapshotEs(options: { cert: string; key: string; password: string; repository: string }): Promise<FakeSnapshotEs> {
    const state: FakeSnapshotState = {
        repository: options.repository,
        snapshots: new Map(),
        dataStreams: new Map(),
        indices: new Map(),
        snapshotPolls: 2,
        snapshotOutcome: "SUCCESS",
        restorePolls: 1,
        shardsPerIndex: 1,
    };
    const requests: string[] = [];
    /** Restored indices and the polls they still need. */
    const recovering = new Map<string, { pollsLeft: number; total: number }>();
    const auth = `Basic ${Buffer.from(`elastic:${options.password}`).toString("base64")}`;

    const info = (s: FakeSnapshot) => {
        const indices = Object.keys(s.docs);
        const total = indices.length * state.shardsPerIndex;
        const failed = s.state === "FAILED" ? total : 0;
        return {
            snapshot: s.name,
            uuid: `uuid-${s.name}`,
            repository: state.repository,
            state: s.state,
            data_streams: s.dataStreams,
            indices,
            include_global_state: false,
            start_time_in_millis: s.startMillis,
            ...(s.endMillis !== undefined ? { end_time_in_millis: s.endMillis } : {}),
            shards: s.state === "IN_PROGRESS" ? { total: 0, failed: 0, successful: 0 } : { total, failed, successful: total - failed },
            failures: s.state === "FAILED" ? indices.map((i) => ({ index: i, shard_id: 0, reason: "IndexShardSnapshotFailedException[disk full]", index_uuid: "x", status: "INTERNAL_SERVER_ERROR" })) : [],
        };
    };
    const advance = (s: FakeSnapshot) => {
        if (s.state !== "IN_PROGRESS") return;
        if (s.pollsLeft <= 0) {
            s.state = s.outcome;
            s.endMillis = Date.now();
        } else {
            s.pollsLeft--;
        }
    };
    /** Data streams and plain indices a comma-separated pattern names. */
    const resolve = (names: string) => ({
        dataStreams: [...state.dataStreams.keys()].filter((d) => wildcard(d, names)),
        plain: [...state.indices.keys()].filter((i) => !i.startsWith(".ds-") && wildcard(i, names)),
    });
    const indicesOf = (names: string) => {
        const r = resolve(names);
        return [...r.dataStreams.flatMap((d) => state.dataStreams.get(d) ?? []), ...r.plain];
    };

    const answer = (method: string, url: URL, body: Record<string, unknown>): { status: number; body: unknown } => {
        // The client sends `indices` in the body; a string or a list.
        const indicesParam = (): string => {
            const v = body.indices ?? url.searchParams.get("indices") ?? "*";
            return Array.isArray(v) ? v.join(",") : typeof v === "string" ? v : "*";
        };
        const p = decodeURIComponent(url.pathname);
        let m = /^\/_snapshot\/([^/]+)\/([^/]+)(\/_status|\/_restore)?$/.exec(p);
        if (m) {
            const [, repo, snap, action] = m;
            if (repo !== state.repository) return failure(404, "repository_missing_exception", `[${repo}] missing`);
            if (method === "PUT" && action === undefined) {
                if (state.snapshots.has(snap)) return failure(400, "invalid_snapshot_name_exception", `[${repo}:${snap}] Invalid snapshot name [${snap}], snapshot with the same name already exists`);
                const pattern = indicesParam();
                const streams = [...state.dataStreams.keys()].filter((d) => wildcard(d, pattern));
                const docs: Record<string, number> = {};
                for (const d of streams) for (const b of state.dataStreams.get(d) ?? []) docs[b] = state.indices.get(b)?.docs ?? 0;
                state.snapshots.set(snap, { name: snap, state: "IN_PROGRESS", dataStreams: streams, docs, startMillis: Date.now(), pollsLeft: state.snapshotPolls, outcome: state.snapshotOutcome });
                return { status: 200, body: { accepted: true } };
            }
            if (method === "GET" && action === undefined) {
                const all = snap === "_all" ? [...state.snapshots.values()] : [state.snapshots.get(snap)].filter((s): s is FakeSnapshot => s !== undefined);
                if (all.length === 0 && snap !== "_all") return failure(404, "snapshot_missing_exception", `[${repo}:${snap}] is missing`);
                all.forEach(advance);
                all.sort((a, b) => b.startMillis - a.startMillis);
                return { status: 200, body: { snapshots: all.map(info), total: all.length, remaining: 0 } };
            }
            const s = state.snapshots.get(snap);
            if (s === undefined) return failure(404, "snapshot_missing_exception", `[${repo}:${snap}] is missing`);
            if (method === "GET" && action === "/_status") {
                const total = Object.keys(s.docs).length * state.shardsPerIndex;
                const done = s.state === "IN_PROGRESS" ? Math.max(0, total - Math.ceil((total * s.pollsLeft) / Math.max(1, state.snapshotPolls))) : total;
                return { status: 200, body: { snapshots: [{ snapshot: s.name, repository: repo, uuid: `uuid-${s.name}`, state: s.state === "IN_PROGRESS" ? "STARTED" : s.state, shards_stats: { initializing: 0, started: total - done, finalizing: 0, done, failed: 0, total } }] } };
            }
            if (method === "POST" && action === "/_restore") {
                if (state.refuseRestore) return state.refuseRestore;
                const pattern = indicesParam();
                const streams = s.dataStreams.filter((d) => wildcard(d, pattern));
                const plain = Object.keys(s.docs).filter((i) => !i.startsWith(".ds-") && wildcard(i, pattern));
                for (const d of streams) {
                    if (state.dataStreams.has(d)) return failure(500, "snapshot_restore_exception", `[${repo}:${snap}/uuid] cannot restore data stream [${d}] because it already exists`);
                }
                for (const i of plain) {
                    if (state.indices.get(i)?.open) return failure(500, "snapshot_restore_exception", `[${repo}:${snap}/uuid] cannot restore index [${i}] because an open index with same name already exists in the cluster`);
                }
                for (const d of streams) {
                    const backing = Object.keys(s.docs).filter((b) => b.startsWith(`.ds-${d}-`));
                    state.dataStreams.set(d, backing);
                    for (const b of backing) {
                        state.indices.set(b, { open: true, docs: s.docs[b] });
                        recovering.set(b, { pollsLeft: state.restorePolls, total: state.restorePolls });
                    }
                }
                for (const i of plain) {
                    state.indices.set(i, { open: true, docs: s.docs[i] });
                    recovering.set(i, { pollsLeft: state.restorePolls, total: state.restorePolls });
                }
                return { status: 200, body: { accepted: true } };
            }
        }
        m = /^\/_resolve\/index\/([^/]+)$/.exec(p);
        if (m && method === "GET") {
            const r = resolve(m[1]);
            return {
                status: 200,
                body: {
                    indices: r.plain.filter((i) => state.indices.get(i)?.open).map((name) => ({ name, attributes: ["open"] })),
                    aliases: [],
                    data_streams: r.dataStreams.map((name) => ({ name, backing_indices: state.dataStreams.get(name), timestamp_field: "@timestamp" })),
                },
            };
        }
        m = /^\/_data_stream\/([^/]+)$/.exec(p);
        if (m && method === "DELETE") {
            const backing = state.dataStreams.get(m[1]);
            if (backing === undefined) return failure(404, "resource_not_found_exception", `data_stream matching [${m[1]}] not found`);
            state.dataStreams.delete(m[1]);
            for (const b of backing) state.indices.delete(b);
            return { status: 200, body: { acknowledged: true } };
        }
        m = /^\/([^/_][^/]*)\/(_close|_recovery|_count)$/.exec(p);
        if (m) {
            const [, names, action] = m;
            if (action === "_close" && method === "POST") {
                for (const i of names.split(",")) {
                    const idx = state.indices.get(i);
                    if (idx === undefined) return failure(404, "index_not_found_exception", `no such index [${i}]`);
                    idx.open = false;
                }
                return { status: 200, body: { acknowledged: true, shards_acknowledged: true, indices: {} } };
            }
            if (action === "_recovery" && method === "GET") {
                const body: Record<string, unknown> = {};
                for (const i of indicesOf(names)) {
                    const r = recovering.get(i);
                    if (r === undefined) continue;
                    const percent = r.total === 0 ? 100 : (100 * (r.total - r.pollsLeft)) / r.total;
                    body[i] = {
                        shards: Array.from({ length: state.shardsPerIndex }, (_, id) => ({
                            id,
                            type: "SNAPSHOT",
                            stage: r.pollsLeft <= 0 ? "DONE" : "INDEX",
                            primary: true,
                            index: { size: { percent: `${percent.toFixed(1)}%` } },
                        })),
                    };
                    if (r.pollsLeft > 0) r.pollsLeft--;
                }
                return { status: 200, body };
            }
            if (action === "_count") {
                const count = indicesOf(names).reduce((sum, i) => sum + (state.indices.get(i)?.docs ?? 0), 0);
                return { status: 200, body: { count, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } } };
            }
        }
        return failure(404, "no_handler", `no handler for ${method} ${p}`);
    };

    const handle = (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "https://es01");
            requests.push(`${req.method} ${decodeURIComponent(url.pathname)}`);
            const text = Buffer.concat(chunks).toString("utf8");
            const body = (text === "" ? {} : JSON.parse(text)) as Record<string, unknown>;
            const result = req.headers.authorization === auth ? answer(req.method ?? "", url, body) : failure(401, "security_exception", "unable to authenticate user [elastic]");
            res.writeHead(result.status, HEADERS);
            res.end(JSON.stringify(result.body));
        });
    };
    const server = https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, handle);
    const { url, close } = await serveOnLoopback(server);
    return { url, state, requests, close };
}

/** Adds an open data stream with one backing index of `docs` documents. */
export function addDataStream(state: FakeSnapshotState, name: string, docs: number): void {
    const backing = `.ds-${name}-2026.11.30-000001`;
    state.dataStreams.set(name, [backing]);
    state.indices.set(backing, { open: true, docs });
}
