/**
 * A fake Elasticsearch 9.4 for `snapshot` and `restore`: HTTPS on 127.0.0.1 with the test PKI, as strict about
 * requests as Elasticsearch (tests/support/esRestApi.ts: routes, methods, parameters, bodies, media types, 401 while
 * the security index is unavailable, 429 under pressure), with the semantics the stack relies on, each named by the
 * upstream file it copies (paths under elastic/elasticsearch):
 *
 * - `ignore_unavailable` is false unless asked (the specification's `@server_default`): a concrete name that does not
 *   exist is 404 index_not_found_exception on resolve, recovery, count, close, add_block, put_settings and restore
 *   (server/src/main/java/org/elasticsearch/cluster/metadata/IndexNameExpressionResolver.java); a wildcard that
 *   matches nothing is fine while `allow_no_indices` is true; hidden `.ds-` backing indices match only names that
 *   start with a dot;
 * - a data stream's name reaches only the APIs whose request class includes data streams (`includeDataStreams()`,
 *   false unless overridden: server/src/main/java/org/elasticsearch/action/IndicesRequest.java): snapshot create,
 *   resolve, recovery, count and put_settings take it; close and add_block answer 404 index_not_found_exception, as
 *   for a missing index, and skip it with `ignore_unavailable` (each case below names its request class); add_block
 *   also refuses a data stream's write index (400,
 *   server/src/main/java/org/elasticsearch/cluster/metadata/MetadataIndexStateService.java), while put_settings
 *   write-blocks any index it resolves, a write index too;
 * - restore (server/src/main/java/org/elasticsearch/snapshots/RestoreService.java): an open index of the same name
 *   refuses it (500 snapshot_restore_exception); `index_settings` may not change and `ignore_index_settings` may not
 *   remove the settings RestoreService keeps (UNMODIFIABLE_SETTINGS, UNREMOVABLE_SETTINGS); a restored data stream
 *   replaces one of the same name (applyDataStreamRestores: `putAll`), leaving that one's other backing indices
 *   behind as indices of no data stream (elastic/elasticsearch#74319); restored shards recover over a given number of
 *   polls; a restored index keeps its creation date (unmodifiable) and its lifecycle date;
 * - data streams: delete of a missing one is 404 resource_not_found_exception
 *   (modules/data-streams/src/main/java/org/elasticsearch/datastreams/action/DeleteDataStreamTransportAction.java);
 *   rollover makes generation n+1 from the matching index template and needs one
 *   (server/src/main/java/org/elasticsearch/action/admin/indices/rollover/MetadataRolloverService.java);
 * - writes (`_bulk`, what Logstash's elasticsearch output sends): to a data stream's write index; a missing data
 *   stream is created from the matching template when the user's role may auto-create it (auto_configure,
 *   create_index, manage, all), else the item fails 403
 *   (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz/privilege/IndexPrivilege.java;
 *   server/src/main/java/org/elasticsearch/action/bulk/TransportBulkAction.java fails the items of an index whose
 *   creation failed); a write block fails items 403 cluster_block_exception
 *   (server/src/main/java/org/elasticsearch/cluster/metadata/IndexMetadata.java, INDEX_WRITE_BLOCK); a shard still
 *   restoring fails them 503 (unavailable_shards_exception, after the bulk's wait for an active primary);
 * - index lifecycle (a tick a test runs: {@link runLifecycle}): an index whose `index.lifecycle.name` names a policy
 *   is deleted once older than the policy's delete age, counted from its rollover
 *   (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ilm/UpdateRolloverLifecycleDateStep.java) or its
 *   creation; a data stream's write index is never deleted (the hot phase must roll it over first);
 * - security: GET and PUT of roles (a missing role is 404 `{}`,
 *   x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/rest/action/role/RestGetRolesAction.java);
 *   users authenticate by password and act with their roles' index privileges.
 */
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import * as https from "https";
import { type CheckedRequest, type GateConditions, type Refusal, esError, gate, indexNotFound, isRefusal, respond } from "./esRestApi";
import { parseBasicAuth } from "./fakeElasticsearch";
import { serveOnLoopback } from "./loopback";

/** An index, as the fake keeps it. */
export interface FakeIndex {
    open: boolean;
    docs: number;
    /** Ids of the documents the fake's `_bulk` wrote (the writers' documents), in order. */
    readonly ids: string[];
    /** Index settings that matter here (`index.lifecycle.name`, `index.blocks.write`). */
    readonly settings: Record<string, string>;
    /** Creation time, ms. */
    readonly creationDate: number;
    /** When it stopped being its data stream's write index, ms (ILM's lifecycle date from then on). */
    rolledOverAt?: number;
}

/** An index as a snapshot holds it. */
export interface SnapshotIndex {
    readonly docs: number;
    readonly ids: readonly string[];
    readonly settings: Readonly<Record<string, string>>;
    readonly creationDate: number;
    readonly rolledOverAt?: number;
}

/** A snapshot in the fake repository. */
export interface FakeSnapshot {
    readonly name: string;
    state: "IN_PROGRESS" | "SUCCESS" | "FAILED" | "PARTIAL";
    /** Data streams and their backing indices, as they were. */
    readonly dataStreams: Record<string, readonly string[]>;
    /** Backing and plain indices. */
    readonly indices: Record<string, SnapshotIndex>;
    readonly startMillis: number;
    endMillis?: number;
    /** GETs left before an IN_PROGRESS snapshot ends. */
    pollsLeft: number;
    /** How it ends. */
    readonly outcome: "SUCCESS" | "FAILED";
}

/** A role, as PUT /_security/role stores it. */
export interface FakeRole {
    readonly cluster?: readonly string[];
    readonly indices?: readonly { readonly names: readonly string[]; readonly privileges: readonly string[]; readonly allow_restricted_indices?: boolean }[];
    readonly metadata?: Record<string, unknown>;
    readonly [key: string]: unknown;
}

/** The fake cluster; tests read and edit it. */
export interface FakeSnapshotState {
    readonly repository: string;
    readonly snapshots: Map<string, FakeSnapshot>;
    /** Data streams: name -> backing index names, the write index last. */
    readonly dataStreams: Map<string, string[]>;
    /** Indices (backing and plain). */
    readonly indices: Map<string, FakeIndex>;
    /** Composable index templates: name -> patterns, whether they make data streams, and settings. */
    readonly templates: Map<string, { readonly patterns: readonly string[]; readonly dataStream: boolean; readonly settings: Readonly<Record<string, string>> }>;
    /** Lifecycle policies: name -> the age after which the delete phase removes an index, days. */
    readonly lifecyclePolicies: Map<string, { readonly deleteAfterDays: number }>;
    readonly roles: Map<string, FakeRole>;
    /** Users other than `elastic` (a superuser): password and roles. */
    readonly users: Map<string, { readonly password: string; readonly roles: readonly string[] }>;
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
    /** Ids of the writers' documents that went with an index deleted through the API, by index. */
    readonly deletedIds: Map<string, readonly string[]>;
    /** The cluster's clock, ms: names of new backing indices, creation dates, lifecycle ages. */
    now: () => number;
    /** The cluster's condition (security index unavailable, thread pools full). */
    conditions: GateConditions;
}

/** A running fake. */
export interface FakeSnapshotEs {
    readonly url: string;
    readonly state: FakeSnapshotState;
    /** "METHOD path" of every request. */
    readonly requests: string[];
    /** Every answer that refused a request, with the request, for tests that assert none were refused. */
    readonly refusals: { readonly request: string; readonly status: number; readonly body: unknown }[];
    close(): Promise<void>;
}

const DAY_MS = 86_400_000;

/** RestoreService's settings a restore may not change, and those it may not remove. */
const UNMODIFIABLE_SETTINGS = ["index.number_of_shards", "index.version.created", "index.uuid", "index.creation_date", "index.history.uuid"];
const UNREMOVABLE_SETTINGS = [...UNMODIFIABLE_SETTINGS, "index.number_of_replicas", "index.auto_expand_replicas"];

/** IndexPrivilege's privileges that grant a write (`create_doc` and above) and an automatic creation. */
const WRITE_PRIVILEGES = ["create_doc", "create", "index", "write", "all"];
const AUTO_CREATE_PRIVILEGES = ["auto_configure", "create_index", "manage", "all"];

function wildcardMatch(pattern: string, name: string): boolean {
    return new RegExp(`^${pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(name);
}

/** `.ds-<stream>-yyyy.MM.dd-<generation>`, DataStream.getDefaultBackingIndexName. */
export function backingIndexName(stream: string, generation: number, at: number): string {
    const d = new Date(at);
    const date = `${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, "0")}.${String(d.getUTCDate()).padStart(2, "0")}`;
    return `.ds-${stream}-${date}-${String(generation).padStart(6, "0")}`;
}

function generationOf(backing: string): number {
    return Number(/-(\d{6})$/.exec(backing)?.[1] ?? "0");
}

function snapshotException(repo: string, snap: string, message: string): Refusal {
    return esError(500, "snapshot_restore_exception", `[${repo}:${snap}/uuid-${snap}] ${message}`);
}

/**
 * The 404 for a data stream's name sent to an API whose request does not include data streams: IndexNotFoundException
 * with IndexNameExpressionResolver's EXCLUDED_DATA_STREAMS_KEY metadata (`es.excluded_ds`, rendered without `es.` by
 * ElasticsearchException's innerToXContent).
 */
function excludedDataStream(name: string): Refusal {
    return esError(404, "index_not_found_exception", `no such index [${name}]`, { excluded_ds: "true", "resource.type": "index_or_alias", "resource.id": name, index_uuid: "_na_", index: name });
}

/**
 * The settings of a PUT _settings body, unwrapped from `settings` as UpdateSettingsRequest.fromXContent does,
 * flattened as Settings.Builder's loadFromMap does (`{"index":{"blocks":{"write":true}}}` is `index.blocks.write`),
 * and given the `index.` prefix that MetadataUpdateSettingsService's normalizePrefix adds. The fake models
 * `index.blocks.write` only (a boolean or null), and refuses any other setting: stricter than Elasticsearch, never
 * kinder.
 */
function flatSettings(body: unknown): Record<string, boolean | null> | Refusal {
    const flat: Record<string, unknown> = {};
    const walk = (prefix: string, v: unknown) => {
        if (typeof v === "object" && v !== null && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(prefix === "" ? k : `${prefix}.${k}`, x);
        else flat[prefix] = v;
    };
    const b = (body ?? {}) as Record<string, unknown>;
    walk("", typeof b.settings === "object" && b.settings !== null ? b.settings : b);
    const out: Record<string, boolean | null> = {};
    for (const [k, v] of Object.entries(flat)) {
        const key = k.startsWith("index.") ? k : `index.${k}`;
        if (key !== "index.blocks.write") return esError(400, "illegal_argument_exception", `the fake models the setting index.blocks.write only, not [${key}]`);
        if (v !== null && v !== true && v !== false && v !== "true" && v !== "false") return esError(400, "illegal_argument_exception", `Failed to parse value [${typeof v === "string" ? v : JSON.stringify(v)}] as only [true] or [false] are allowed.`);
        out[key] = v === null ? null : v === true || v === "true";
    }
    if (Object.keys(out).length === 0) return esError(400, "action_request_validation_exception", "Validation Failed: 1: no settings to update;");
    return out;
}

/** Starts the fake with an empty repository named `repository`; `password` is elastic's. */
export async function startFakeSnapshotEs(options: { cert: string; key: string; password: string; repository: string }): Promise<FakeSnapshotEs> {
    const state: FakeSnapshotState = {
        repository: options.repository,
        snapshots: new Map(),
        dataStreams: new Map(),
        indices: new Map(),
        templates: new Map(),
        lifecyclePolicies: new Map(),
        roles: new Map(),
        users: new Map(),
        snapshotPolls: 2,
        snapshotOutcome: "SUCCESS",
        restorePolls: 1,
        shardsPerIndex: 1,
        now: () => Date.now(),
        conditions: {},
        deletedIds: new Map(),
    };
    const requests: string[] = [];
    const refusals: FakeSnapshotEs["refusals"] = [];
    /** Restored indices and the recovery polls they still need. */
    const recovering = new Map<string, { pollsLeft: number; total: number }>();

    const streamOf = (index: string) => [...state.dataStreams].find(([, backing]) => backing.includes(index))?.[0];

    /**
     * Names to data streams and indices as IndexNameExpressionResolver does for the given options: a concrete name
     * must exist unless ignore_unavailable; a wildcard matches data streams and non-hidden indices (a pattern starting
     * with a dot also hidden ones) in the states expand_wildcards asks for.
     *
     * `includeDataStreams` is the request class's `includeDataStreams()` (IndicesRequest's default is false). When it
     * is false, a wildcard matches no data stream, and a data stream's name is 404 index_not_found_exception unless
     * ignore_unavailable (ensureAliasOrIndexExists: `isDataStreamRelated() && includeDataStreams() == false`, with
     * the `es.excluded_ds` metadata); a backing index named or matched as an index is still an index (IndexAbstraction's
     * ConcreteIndex is not data-stream related). Each API below names the request class it follows.
     */
    const resolveNames = (
        expression: string,
        o: { ignoreUnavailable: boolean; allowNoIndices: boolean; expand: string; includeDataStreams: boolean },
    ): { dataStreams: string[]; indices: string[] } | Refusal => {
        const states = o.expand.split(",");
        const wantState = (i: FakeIndex) => states.includes("all") || (i.open ? states.includes("open") : states.includes("closed"));
        const dataStreams = new Set<string>();
        const indices = new Set<string>();
        for (const name of expression.split(",").filter((n) => n !== "")) {
            if (name.includes("*")) {
                if (o.includeDataStreams) for (const d of state.dataStreams.keys()) if (wildcardMatch(name, d)) dataStreams.add(d);
                for (const [i, idx] of state.indices) {
                    if (streamOf(i) !== undefined && !name.startsWith(".")) continue;
                    if ((i.startsWith(".") && !name.startsWith(".")) || !wildcardMatch(name, i) || !wantState(idx)) continue;
                    indices.add(i);
                }
            } else if (state.dataStreams.has(name)) {
                if (o.includeDataStreams) dataStreams.add(name);
                else if (!o.ignoreUnavailable) return excludedDataStream(name);
            } else if (state.indices.has(name)) {
                indices.add(name);
            } else if (!o.ignoreUnavailable) {
                return indexNotFound(name);
            }
        }
        if (dataStreams.size + indices.size === 0 && !o.allowNoIndices) return indexNotFound(expression);
        return { dataStreams: [...dataStreams], indices: [...indices] };
    };
    const optionsOf = (r: CheckedRequest, includeDataStreams: boolean, expand = "open") => ({
        ignoreUnavailable: r.flag("ignore_unavailable"),
        allowNoIndices: r.param("allow_no_indices") === undefined ? true : r.flag("allow_no_indices"),
        expand: r.param("expand_wildcards") ?? expand,
        includeDataStreams,
    });
    /** The write indices among `names`: MetadataIndexStateService refuses to block them through the add-block API. */
    const writeIndicesAmong = (names: readonly string[]) => names.filter((i) => {
        const backing = state.dataStreams.get(streamOf(i) ?? "");
        return backing !== undefined && backing[backing.length - 1] === i;
    });
    /** The concrete indices names resolve to: data streams to their backing indices. */
    const concrete = (r: { dataStreams: string[]; indices: string[] }) => [...r.dataStreams.flatMap((d) => state.dataStreams.get(d) ?? []), ...r.indices];

    const snapshotInfo = (s: FakeSnapshot) => {
        const indices = Object.keys(s.indices);
        const total = indices.length * state.shardsPerIndex;
        const failed = s.state === "FAILED" ? total : 0;
        return {
            snapshot: s.name,
            uuid: `uuid-${s.name}`,
            repository: state.repository,
            state: s.state,
            data_streams: Object.keys(s.dataStreams),
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
            s.endMillis = state.now();
        } else {
            s.pollsLeft--;
        }
    };

    const privilegesOn = (user: string, index: string): Set<string> => {
        if (user === "elastic") return new Set(["all"]);
        const granted = new Set<string>();
        for (const roleName of state.users.get(user)?.roles ?? []) {
            for (const entry of state.roles.get(roleName)?.indices ?? []) {
                if (entry.names.some((n) => wildcardMatch(n, index))) for (const p of entry.privileges) granted.add(p);
            }
        }
        return granted;
    };
    const denied = (user: string, action: string, index: string, by: readonly string[]) =>
        ({
            type: "security_exception",
            reason: `action [${action}] is unauthorized for user [${user}] with effective roles [${(state.users.get(user)?.roles ?? []).join(",")}] on indices [${index}], this action is granted by the index privileges [${by.join(",")}]`,
        }) as const;

    /** The first template that makes `name` a data stream (highest priority is not modelled: the stack's never overlap). */
    const templateFor = (name: string) => [...state.templates.values()].find((t) => t.patterns.some((p) => wildcardMatch(p, name)));

    const createIndex = (name: string, settings: Readonly<Record<string, string>>) => {
        state.indices.set(name, { open: true, docs: 0, ids: [], settings: { ...settings }, creationDate: state.now() });
    };

    const bulk = (r: CheckedRequest, user: string): { status: number; body: unknown } => {
        const lines = r.rawBody.split("\n").filter((l) => l.trim() !== "");
        const items: unknown[] = [];
        for (let i = 0; i < lines.length; i += 2) {
            const action = JSON.parse(lines[i]) as { create?: { _index?: string; _id?: string } };
            const doc = JSON.parse(lines[i + 1] ?? "{}") as { id?: string };
            const target = action.create?._index ?? r.parts.index;
            const item = (status: number, extra: Record<string, unknown>) => items.push({ create: { _index: target, status, ...extra } });
            if (action.create === undefined || target === undefined) {
                item(400, { error: { type: "illegal_argument_exception", reason: "only create actions are modelled" } });
                continue;
            }
            const granted = privilegesOn(user, target);
            if (!WRITE_PRIVILEGES.some((p) => granted.has(p))) {
                item(403, { error: denied(user, "indices:data/write/bulk[s]", target, WRITE_PRIVILEGES) });
                continue;
            }
            if (!state.dataStreams.has(target) && !state.indices.has(target)) {
                if (!AUTO_CREATE_PRIVILEGES.some((p) => granted.has(p))) {
                    item(403, { error: denied(user, "indices:admin/auto_create", target, AUTO_CREATE_PRIVILEGES) });
                    continue;
                }
                const template = templateFor(target);
                if (template?.dataStream === true) {
                    const backing = backingIndexName(target, 1, state.now());
                    createIndex(backing, template.settings);
                    state.dataStreams.set(target, [backing]);
                } else {
                    createIndex(target, template?.settings ?? {});
                }
            }
            const backing = state.dataStreams.get(target);
            const writeIndex = backing === undefined ? target : backing[backing.length - 1];
            const idx = state.indices.get(writeIndex) as FakeIndex;
            if (idx.settings["index.blocks.write"] === "true") {
                item(403, { error: { type: "cluster_block_exception", reason: `index [${writeIndex}] blocked by: [FORBIDDEN/8/index write (api)];` } });
                continue;
            }
            if ((recovering.get(writeIndex)?.pollsLeft ?? 0) > 0) {
                item(503, { error: { type: "unavailable_shards_exception", reason: `[${writeIndex}][0] primary shard is not active Timeout: [1m]` } });
                continue;
            }
            if (!idx.open) {
                item(400, { error: { type: "index_closed_exception", reason: "closed", index: writeIndex } });
                continue;
            }
            idx.docs++;
            if (typeof doc.id === "string") idx.ids.push(doc.id);
            item(201, { _index: writeIndex, _id: `${idx.docs}`, result: "created" });
        }
        return { status: 200, body: { errors: items.some((x) => (x as { create: { status: number } }).create.status >= 300), took: 1, items } };
    };

    const restore = (r: CheckedRequest, repo: string, s: FakeSnapshot): { status: number; body: unknown } => {
        if (state.refuseRestore) return state.refuseRestore;
        const body = (r.body ?? {}) as { indices?: string | string[]; ignore_unavailable?: boolean; index_settings?: Record<string, unknown>; ignore_index_settings?: string[] };
        const wanted = Array.isArray(body.indices) ? body.indices : typeof body.indices === "string" ? body.indices.split(",") : ["*"];
        const streams = new Set<string>();
        const indices = new Set<string>();
        for (const w of wanted) {
            const matched = [...Object.keys(s.dataStreams).filter((d) => wildcardMatch(w, d)), ...Object.keys(s.indices).filter((i) => (!i.startsWith(".") || w.startsWith(".")) && wildcardMatch(w, i))];
            if (matched.length === 0 && !w.includes("*") && body.ignore_unavailable !== true) return indexNotFound(w);
            for (const m of matched) (m in s.dataStreams ? streams : indices).add(m);
        }
        for (const d of streams) for (const b of s.dataStreams[d]) indices.add(b);
        const ignore = body.ignore_index_settings ?? [];
        for (const k of ignore) if (UNREMOVABLE_SETTINGS.includes(k)) return snapshotException(repo, s.name, `cannot remove setting [${k}] on restore`);
        const change = Object.fromEntries(Object.entries(body.index_settings ?? {}).map(([k, v]) => [k.startsWith("index.") ? k : `index.${k}`, String(v)]));
        for (const k of Object.keys(change)) if (UNMODIFIABLE_SETTINGS.includes(k)) return snapshotException(repo, s.name, `cannot modify setting [${k}] on restore`);
        for (const i of indices) {
            if (state.indices.get(i)?.open === true) {
                return snapshotException(
                    repo,
                    s.name,
                    `cannot restore index [${i}] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name`,
                );
            }
        }
        for (const i of indices) {
            const from = s.indices[i];
            const settings = Object.fromEntries(Object.entries(from.settings).filter(([k]) => !ignore.some((p) => wildcardMatch(p, k))));
            state.indices.set(i, { open: true, docs: from.docs, ids: [...from.ids], settings: { ...settings, ...change }, creationDate: from.creationDate, rolledOverAt: from.rolledOverAt });
            recovering.set(i, { pollsLeft: state.restorePolls, total: state.restorePolls });
        }
        // applyDataStreamRestores: the snapshot's data stream replaces one of the same name.
        for (const d of streams) state.dataStreams.set(d, [...s.dataStreams[d]]);
        return { status: 200, body: { accepted: true } };
    };

    const answer = (r: CheckedRequest, user: string): { status: number; body: unknown } => {
        const repo = r.parts.repository;
        if (repo !== undefined && repo !== state.repository) return esError(404, "repository_missing_exception", `[${repo}] missing`);
        switch (r.api) {
            case "snapshot.create": {
                const snap = r.parts.snapshot;
                if (state.snapshots.has(snap)) return esError(400, "invalid_snapshot_name_exception", `[${repo}:${snap}] Invalid snapshot name [${snap}], snapshot with the same name already exists`);
                const body = (r.body ?? {}) as { indices?: string | string[]; ignore_unavailable?: boolean };
                const pattern = Array.isArray(body.indices) ? body.indices.join(",") : body.indices ?? "*";
                // CreateSnapshotRequest.includeDataStreams() is true
                // (server/src/main/java/org/elasticsearch/action/admin/cluster/snapshots/create/CreateSnapshotRequest.java).
                const found = resolveNames(pattern, { ignoreUnavailable: body.ignore_unavailable === true, allowNoIndices: true, expand: "open", includeDataStreams: true });
                if (isRefusal(found)) return found;
                const dataStreams = Object.fromEntries(found.dataStreams.map((d) => [d, [...(state.dataStreams.get(d) ?? [])]]));
                const indices: Record<string, SnapshotIndex> = {};
                for (const i of concrete(found)) {
                    const idx = state.indices.get(i) as FakeIndex;
                    indices[i] = { docs: idx.docs, ids: [...idx.ids], settings: { ...idx.settings }, creationDate: idx.creationDate, rolledOverAt: idx.rolledOverAt };
                }
                state.snapshots.set(snap, { name: snap, state: "IN_PROGRESS", dataStreams, indices, startMillis: state.now(), pollsLeft: state.snapshotPolls, outcome: state.snapshotOutcome });
                return { status: 200, body: { accepted: true } };
            }
            case "snapshot.get": {
                const snap = r.parts.snapshot;
                const all = snap === "_all" ? [...state.snapshots.values()] : [state.snapshots.get(snap)].filter((s): s is FakeSnapshot => s !== undefined);
                if (all.length === 0 && snap !== "_all") return esError(404, "snapshot_missing_exception", `[${repo}:${snap}] is missing`);
                all.forEach(advance);
                all.sort((a, b) => (r.param("order") === "desc" ? b.startMillis - a.startMillis : a.startMillis - b.startMillis));
                return { status: 200, body: { snapshots: all.map(snapshotInfo), total: all.length, remaining: 0 } };
            }
            case "snapshot.status": {
                const s = state.snapshots.get(r.parts.snapshot);
                if (s === undefined) return esError(404, "snapshot_missing_exception", `[${repo}:${r.parts.snapshot}] is missing`);
                const total = Object.keys(s.indices).length * state.shardsPerIndex;
                const done = s.state === "IN_PROGRESS" ? Math.max(0, total - Math.ceil((total * s.pollsLeft) / Math.max(1, state.snapshotPolls))) : total;
                return { status: 200, body: { snapshots: [{ snapshot: s.name, repository: repo, uuid: `uuid-${s.name}`, state: s.state === "IN_PROGRESS" ? "STARTED" : s.state, shards_stats: { initializing: 0, started: total - done, finalizing: 0, done, failed: 0, total } }] } };
            }
            case "snapshot.restore": {
                const s = state.snapshots.get(r.parts.snapshot);
                if (s === undefined) return esError(404, "snapshot_missing_exception", `[${repo}:${r.parts.snapshot}] is missing`);
                return restore(r, repo, s);
            }
            case "indices.resolve_index": {
                // ResolveIndexAction.Request.includeDataStreams() is true
                // (server/src/main/java/org/elasticsearch/action/admin/indices/resolve/ResolveIndexAction.java).
                const found = resolveNames(r.parts.name, optionsOf(r, true));
                if (isRefusal(found)) return found;
                return {
                    status: 200,
                    body: {
                        indices: found.indices.map((name) => ({ name, attributes: [state.indices.get(name)?.open === true ? "open" : "closed"] })),
                        aliases: [],
                        data_streams: found.dataStreams.map((name) => ({ name, backing_indices: state.dataStreams.get(name), timestamp_field: "@timestamp" })),
                    },
                };
            }
            case "indices.delete_data_stream": {
                const names = r.parts.name.split(",");
                const matched = names.flatMap((n) => [...state.dataStreams.keys()].filter((d) => wildcardMatch(n, d)));
                if (matched.length === 0 && !names.some((n) => n.includes("*"))) return esError(404, "resource_not_found_exception", `data streams [${names.join(", ")}] not found`);
                for (const d of matched) {
                    for (const b of state.dataStreams.get(d) ?? []) {
                        state.deletedIds.set(b, state.indices.get(b)?.ids ?? []);
                        state.indices.delete(b);
                    }
                    state.dataStreams.delete(d);
                }
                return { status: 200, body: { acknowledged: true } };
            }
            case "indices.close": {
                // CloseIndexRequest keeps IndicesRequest's includeDataStreams() false
                // (server/src/main/java/org/elasticsearch/action/admin/indices/close/CloseIndexRequest.java; DataStreamIT's
                // testResolvabilityOfDataStreamsInAPIs expects close of a data stream's name to fail).
                const found = resolveNames(r.parts.index, optionsOf(r, false));
                if (isRefusal(found)) return found;
                for (const i of concrete(found)) (state.indices.get(i) as FakeIndex).open = false;
                return { status: 200, body: { acknowledged: true, shards_acknowledged: true, indices: {} } };
            }
            case "indices.add_block": {
                if (r.parts.block !== "write") return esError(400, "illegal_argument_exception", `the fake models the write block only, not [${r.parts.block}]`);
                // AddIndexBlockRequest keeps IndicesRequest's includeDataStreams() false, and TransportAddIndexBlockAction
                // resolves concrete indices (server/src/main/java/org/elasticsearch/action/admin/indices/readonly/);
                // MetadataIndexStateService.addIndexBlock then refuses a data stream's write index
                // (server/src/main/java/org/elasticsearch/cluster/metadata/MetadataIndexStateService.java).
                const found = resolveNames(r.parts.index, optionsOf(r, false));
                if (isRefusal(found)) return found;
                const names = concrete(found);
                const writeIndices = writeIndicesAmong(names);
                if (writeIndices.length > 0) return esError(400, "illegal_argument_exception", `cannot add a block to the following data stream write indices [${writeIndices.join(",")}]`);
                for (const i of names) (state.indices.get(i) as FakeIndex).settings["index.blocks.write"] = "true";
                return { status: 200, body: { acknowledged: true, shards_acknowledged: true, indices: names.map((name) => ({ name, blocked: true })) } };
            }
            case "indices.put_settings": {
                // UpdateSettingsRequest.includeDataStreams() is true
                // (server/src/main/java/org/elasticsearch/action/admin/indices/settings/put/UpdateSettingsRequest.java).
                const found = resolveNames(r.parts.index ?? "*", optionsOf(r, true));
                if (isRefusal(found)) return found;
                const settings = flatSettings(r.body);
                if (isRefusal(settings)) return settings;
                // MetadataUpdateSettingsService turns an APIBlock setting into the index block: a write block set this
                // way holds on any index, a data stream's write index too (no write-index check on this path).
                for (const i of concrete(found)) {
                    const idx = state.indices.get(i) as FakeIndex;
                    if (settings["index.blocks.write"] === true) idx.settings["index.blocks.write"] = "true";
                    else delete idx.settings["index.blocks.write"];
                }
                return { status: 200, body: { acknowledged: true } };
            }
            case "indices.rollover": {
                const stream = r.parts.alias;
                const backing = state.dataStreams.get(stream);
                if (backing === undefined) return esError(400, "illegal_argument_exception", `rollover target [${stream}] does not exist`);
                const template = templateFor(stream);
                if (template?.dataStream !== true) return esError(400, "illegal_argument_exception", `no matching index template found for data stream [${stream}]`);
                const old = backing[backing.length - 1];
                const next = backingIndexName(stream, Math.max(...backing.map(generationOf)) + 1, state.now());
                createIndex(next, template.settings);
                backing.push(next);
                (state.indices.get(old) as FakeIndex).rolledOverAt = state.now();
                return { status: 200, body: { acknowledged: true, shards_acknowledged: true, old_index: old, new_index: next, rolled_over: true, dry_run: false, lazy: false, conditions: {} } };
            }
            case "indices.recovery": {
                // RecoveryRequest extends BroadcastRequest, whose includeDataStreams() is true
                // (server/src/main/java/org/elasticsearch/action/support/broadcast/BroadcastRequest.java).
                const found = resolveNames(r.parts.index ?? "*", optionsOf(r, true));
                if (isRefusal(found)) return found;
                const body: Record<string, unknown> = {};
                for (const i of concrete(found)) {
                    const rec = recovering.get(i);
                    const percent = rec === undefined || rec.total === 0 ? 100 : (100 * (rec.total - rec.pollsLeft)) / rec.total;
                    body[i] = {
                        shards: Array.from({ length: state.shardsPerIndex }, (_, id) => ({
                            id,
                            type: rec === undefined ? "EMPTY_STORE" : "SNAPSHOT",
                            stage: rec === undefined || rec.pollsLeft <= 0 ? "DONE" : "INDEX",
                            primary: true,
                            index: { size: { percent: `${percent.toFixed(1)}%` } },
                        })),
                    };
                    if (rec !== undefined && rec.pollsLeft > 0) rec.pollsLeft--;
                }
                return { status: 200, body };
            }
            case "count": {
                // RestCountAction sends a SearchRequest, which includes data streams
                // (server/src/main/java/org/elasticsearch/rest/action/search/RestCountAction.java; DataStreamIT searches one).
                const found = resolveNames(r.parts.index ?? "*", optionsOf(r, true));
                if (isRefusal(found)) return found;
                const names = concrete(found);
                const closed = names.find((i) => state.indices.get(i)?.open !== true);
                if (closed !== undefined && !r.flag("ignore_unavailable")) return esError(400, "index_closed_exception", "closed", { index: closed });
                const count = names.reduce((sum, i) => sum + (state.indices.get(i)?.open === true ? (state.indices.get(i) as FakeIndex).docs : 0), 0);
                return { status: 200, body: { count, _shards: { total: names.length, successful: names.length, skipped: 0, failed: 0 } } };
            }
            case "security.get_role": {
                const name = r.parts.name;
                const role = name === undefined ? undefined : state.roles.get(name);
                if (role === undefined) return { status: 404, body: {} };
                return { status: 200, body: { [name]: { ...role, transient_metadata: { enabled: true } } } };
            }
            case "security.put_role": {
                const created = !state.roles.has(r.parts.name);
                state.roles.set(r.parts.name, r.body as FakeRole);
                return { status: 200, body: { role: { created } } };
            }
            case "bulk":
                return bulk(r, user);
            default:
                return { status: 500, body: { error: `the snapshot fake has no answer for ${r.api}`, status: 500 } };
        }
    };

    const handle = (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = req.url ?? "/";
            requests.push(`${req.method} ${decodeURIComponent(new URL(url, "https://es01").pathname)}`);
            const auth = parseBasicAuth(req.headers.authorization);
            const user = auth?.user ?? null;
            const authenticated = auth !== null && (auth.user === "elastic" ? auth.password === options.password : state.users.get(auth.user)?.password === auth.password);
            const checked = gate(
                { method: req.method ?? "", url, rawBody: Buffer.concat(chunks).toString("utf8"), contentType: req.headers["content-type"], accept: req.headers.accept, user, authenticated },
                state.conditions,
            );
            const result = isRefusal(checked) ? checked : answer(checked, user as string);
            if (result.status >= 400) refusals.push({ request: `${req.method} ${url}`, status: result.status, body: result.body });
            respond(res, result);
        });
    };
    const server = https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, handle);
    const { url, close } = await serveOnLoopback(server);
    return { url, state, requests, refusals, close };
}

/** The day the helpers' data streams were created. */
export const FIRST_DAY = Date.UTC(2026, 10, 30);

/**
 * Adds an open data stream with one backing index of `docs` documents created on {@link FIRST_DAY} under the
 * lifecycle policy `policy`, and the index template that makes it (one per data stream, as the stack's).
 */
export function addDataStream(state: FakeSnapshotState, name: string, docs: number, policy = "elk-logs-dev"): void {
    const backing = backingIndexName(name, 1, FIRST_DAY);
    state.dataStreams.set(name, [backing]);
    state.indices.set(backing, { open: true, docs, ids: [], settings: { "index.lifecycle.name": policy }, creationDate: FIRST_DAY });
    state.templates.set(`elk-${name}`, { patterns: [name], dataStream: true, settings: { "index.lifecycle.name": policy } });
}

/**
 * One run of index lifecycle management over the fake: every index under a policy that is older than the policy's
 * delete age (from its rollover, else its creation) is deleted, except a data stream's write index. Returns the
 * names deleted.
 */
export function runLifecycle(state: FakeSnapshotState, now: number = state.now()): string[] {
    const deleted: string[] = [];
    for (const [name, idx] of [...state.indices]) {
        const policy = state.lifecyclePolicies.get(idx.settings["index.lifecycle.name"] ?? "");
        if (policy === undefined) continue;
        const stream = [...state.dataStreams].find(([, backing]) => backing.includes(name));
        if (stream !== undefined && stream[1][stream[1].length - 1] === name) continue;
        if (now - (idx.rolledOverAt ?? idx.creationDate) < policy.deleteAfterDays * DAY_MS) continue;
        state.indices.delete(name);
        if (stream !== undefined) stream[1].splice(stream[1].indexOf(name), 1);
        deleted.push(name);
    }
    return deleted;
}
