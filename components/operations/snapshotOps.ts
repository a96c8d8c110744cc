/**
 * The core of `npm run snapshot` and `npm run restore`: take a snapshot of the environment's log data streams now
 * and wait for it, or restore one, refusing to overwrite what is open unless forced, with progress lines and a
 * final count. No Pulumi here: the scripts read the stack outputs and flags and call these with a client.
 */
import type { Client } from "@elastic/elasticsearch";
import { isResponseError } from "./esErrors";
import { snapshotIndices } from "../model/snapshots";
import { LOGSTASH_WRITER_ROLE } from "../model/writerIdentity";

/** What the operations act on. */
export interface SnapshotTarget {
    readonly client: Client;
    readonly repository: string;
    /** Data stream namespace: snapshots hold `logs-*-<environment>`. */
    readonly environment: string;
    /** Progress lines. */
    readonly log: (line: string) => void;
    /** Time between progress polls, ms (default 1000). */
    readonly pollIntervalMs?: number;
    /** Longest wait for the snapshot or restore to finish, ms (default one hour). */
    readonly timeoutMs?: number;
}

/** A problem the operation reports instead of a stack trace: the CLI prints the message and exits 1. */
export class SnapshotError extends Error {}

/** The outcome of {@link takeSnapshot}. */
export interface SnapshotResult {
    readonly snapshot: string;
    readonly indices: number;
    readonly shards: number;
}

/** The outcome of {@link restoreSnapshot}. */
export interface RestoreResult {
    readonly snapshot: string;
    /** Data streams and indices restored (names, as the snapshot lists them). */
    readonly dataStreams: readonly string[];
    readonly indices: readonly string[];
    /** Documents in the restored data streams and indices once restored. */
    readonly documents: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isStatus(err: unknown, status: number): boolean {
    return isResponseError(err) && err.statusCode === status;
}

/** The reason Elasticsearch gave for a refused request, or the error's message. */
function reasonOf(err: unknown): string {
    if (isResponseError(err)) {
        const body = err.body as { error?: { reason?: string; type?: string } } | undefined;
        if (body?.error?.reason) return `${body.error.type ?? "error"}: ${body.error.reason} (HTTP ${err.statusCode})`;
        return `HTTP ${err.statusCode ?? "?"}`;
    }
    return err instanceof Error ? err.message : String(err);
}

/** A manual snapshot's name: the environment and the UTC time, lowercase as Elasticsearch requires. */
export function manualSnapshotName(environment: string, at: Date): string {
    const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    return `elk-${environment}-manual-${stamp}`.toLowerCase();
}

/** True when `name` matches the comma-separated wildcard `pattern` (`*` only, as index patterns use it). */
export function matchesPattern(name: string, pattern: string): boolean {
    return pattern.split(",").some((p) => new RegExp(`^${p.trim().split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(name));
}

/** Takes a snapshot of the environment's log data streams now, printing progress, and waits for it to finish. */
export async function takeSnapshot(t: SnapshotTarget, name: string = manualSnapshotName(t.environment, new Date())): Promise<SnapshotResult> {
    const poll = t.pollIntervalMs ?? 1000;
    const deadline = Date.now() + (t.timeoutMs ?? 3_600_000);
    try {
        await t.client.snapshot.create({
            repository: t.repository,
            snapshot: name,
            wait_for_completion: false,
            indices: snapshotIndices(t.environment),
            include_global_state: false,
            ignore_unavailable: true,
        });
    } catch (err) {
        throw new SnapshotError(`could not start snapshot ${name} in repository ${t.repository}: ${reasonOf(err)}`);
    }
    t.log(`snapshot ${name}: started (${snapshotIndices(t.environment)} into ${t.repository})`);
    let last = "";
    for (;;) {
        const info = (await t.client.snapshot.get({ repository: t.repository, snapshot: name })).snapshots?.[0];
        if (info === undefined) throw new SnapshotError(`snapshot ${name} disappeared from repository ${t.repository}`);
        if (info.state !== "IN_PROGRESS") {
            const shards = info.shards ?? { total: 0, successful: 0, failed: 0 };
            if (info.state !== "SUCCESS") {
                const why = (info.failures ?? []).map((f) => `${f.index}[${f.shard_id}]: ${f.reason}`).join("; ");
                throw new SnapshotError(`snapshot ${name} ended ${info.state}: ${shards.failed} of ${shards.total} shards failed${why ? ` (${why})` : ""}${info.reason ? `, ${info.reason}` : ""}`);
            }
            t.log(`snapshot ${name}: SUCCESS, ${info.indices?.length ?? 0} indices, ${shards.successful} of ${shards.total} shards`);
            return { snapshot: name, indices: info.indices?.length ?? 0, shards: shards.total };
        }
        const status = (await t.client.snapshot.status({ repository: t.repository, snapshot: name })).snapshots[0];
        const line = status ? `${status.shards_stats.done} of ${status.shards_stats.total} shards done` : "in progress";
        if (line !== last) t.log(`snapshot ${name}: ${line}`);
        last = line;
        if (Date.now() > deadline) throw new SnapshotError(`snapshot ${name} still in progress after ${Math.round((t.timeoutMs ?? 3_600_000) / 1000)} s; it goes on in the cluster (GET _snapshot/${t.repository}/${name}/_status)`);
        await sleep(poll);
    }
}

/** Options of {@link restoreSnapshot}. */
export interface RestoreOptions {
    readonly snapshot: string;
    /** What to restore; the environment's log data streams by default. */
    readonly indices?: string;
    /** Delete open data streams (and close open indices) of the same names first, instead of refusing. */
    readonly force?: boolean;
    /**
     * Roles of the users that write the data streams (default: Logstash's writer role, {@link LOGSTASH_WRITER_ROLE}):
     * while the restore runs they may not create a data stream, so a writer cannot recreate one the restore is about
     * to bring back.
     */
    readonly writerRoles?: readonly string[];
}

/**
 * Settings every restored index gets. `index.blocks.write`: a writer's retries cannot land in a restored index
 * (Logstash retries the 403 until the data stream has rolled over to a new write index). The lifecycle policy is
 * left out (`ignore_index_settings`), so its delete phase, which counts from each index's old rollover date, does not
 * remove restored documents minutes after they came back: they stay until the operator deletes them or hands them
 * back to the policy (docs/operations.md). RestoreService lets a restore change and remove both
 * (elastic/elasticsearch, server/src/main/java/org/elasticsearch/snapshots/RestoreService.java: only the shard
 * count, version, uuid, creation date and history uuid are unmodifiable, and replicas unremovable).
 */
export const RESTORED_INDEX_SETTINGS = { "index.blocks.write": true } as const;
export const RESTORE_IGNORED_SETTINGS = ["index.lifecycle.name"] as const;

/** Index privileges that let a user create a missing index or data stream when it writes (IndexPrivilege.java). */
const AUTO_CREATE_PRIVILEGES = ["auto_configure", "create_index"];
const BROAD_PRIVILEGES = ["manage", "all"];

/** A role as GET /_security/role returns it (the fields PUT takes back). */
interface RoleDocument {
    readonly indices?: readonly { readonly names: readonly string[] | string; readonly privileges: readonly string[]; readonly [key: string]: unknown }[];
    readonly transient_metadata?: unknown;
    readonly [key: string]: unknown;
}

/** A backing index of data stream `stream`: `.ds-<stream>-<yyyy.MM.dd>-<generation>`. */
function isBackingIndexOf(index: string, stream: string): boolean {
    return index.startsWith(`.ds-${stream}-`) && /^\d{4}\.\d{2}\.\d{2}-\d{6}$/.test(index.slice(`.ds-${stream}-`.length));
}

/**
 * Withdraws the writer roles' right to create indices, so a writer (Logstash) cannot recreate a data stream while
 * it is deleted or being restored: its writes to a missing data stream fail with 403, which Logstash's
 * elasticsearch output retries (logstash-plugins/logstash-output-elasticsearch,
 * lib/logstash/plugin_mixins/elasticsearch/common.rb: every item status but 2xx, 409, 400 and 404 is retried), and
 * land once the data stream is back. A role change applies at once: the role store clears its cache on PUT
 * (x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authz/store/NativeRolesStore.java). Returns
 * the function that puts the roles back as they were; a crash before it runs leaves them narrowed until the next
 * `pulumi up` (the bootstrap writes the role again).
 */
async function pauseWriters(t: SnapshotTarget, label: string, roles: readonly string[]): Promise<() => Promise<void>> {
    const saved: { name: string; role: RoleDocument }[] = [];
    const resume = async () => {
        const failures: string[] = [];
        for (const { name, role } of saved.reverse()) {
            try {
                await t.client.security.putRole({ name, ...putBody(role) });
                t.log(`${label}: writers resumed: role ${name} may create its data streams again`);
            } catch (err) {
                failures.push(`role ${name}: ${reasonOf(err)}`);
            }
        }
        if (failures.length > 0) throw new SnapshotError(`could not give the writer roles back their rights (${failures.join("; ")}); run pulumi up, whose bootstrap writes them again`);
    };
    try {
        for (const name of roles) {
            let found: Record<string, RoleDocument>;
            try {
                found = (await t.client.security.getRole({ name })) as unknown as Record<string, RoleDocument>;
            } catch (err) {
                if (isStatus(err, 404)) {
                    t.log(`${label}: no role ${name}: no writer of it to pause`);
                    continue;
                }
                throw err;
            }
            const role = found[name];
            const broad = (role.indices ?? []).filter((e) => e.privileges.some((p) => BROAD_PRIVILEGES.includes(p)));
            if (broad.length > 0) {
                throw new SnapshotError(`role ${name} grants ${BROAD_PRIVILEGES.join(" or ")} on ${broad.map((e) => [e.names].flat().join(",")).join(", ")}, so its writers could recreate a data stream during the restore: stop them first (stop Logstash), or narrow the role`);
            }
            if (!(role.indices ?? []).some((e) => e.privileges.some((p) => AUTO_CREATE_PRIVILEGES.includes(p)))) continue;
            // An entry left with no privilege goes: Elasticsearch refuses an empty privilege list.
            const indices = (role.indices ?? []).map((e) => ({ ...e, privileges: e.privileges.filter((p) => !AUTO_CREATE_PRIVILEGES.includes(p)) })).filter((e) => e.privileges.length > 0);
            const narrowed: RoleDocument = { ...role, indices };
            saved.push({ name, role });
            await t.client.security.putRole({ name, ...putBody(narrowed) });
            t.log(`${label}: writers paused: role ${name} may not create data streams until the restore is done (its writers retry meanwhile)`);
        }
    } catch (err) {
        await resume();
        if (err instanceof SnapshotError) throw err;
        throw new SnapshotError(`could not pause the writers (roles ${roles.join(", ")}): ${reasonOf(err)}`);
    }
    return resume;
}

/** A role document as PUT takes it: what GET returned, without the read-only `transient_metadata`. */
function putBody(role: RoleDocument): Record<string, unknown> {
    const { transient_metadata: _readOnly, ...rest } = role;
    void _readOnly;
    return rest;
}

/** Runs one request; its failure becomes a SnapshotError that says what was being done. */
type Step = <T>(what: string, request: () => Promise<T>) => Promise<T>;

/**
 * What `--force` does to what is open before a restore: write-blocks each open data stream's write index, deletes the
 * data streams, and closes open indices, as Elasticsearch requires.
 */
async function clearForRestore(t: SnapshotTarget, label: string, step: Step, open: { openStreams: string[]; writeIndices: string[]; openIndices: string[] }): Promise<void> {
    const { openStreams, writeIndices, openIndices } = open;
    if (writeIndices.length > 0) {
        // The writers append to the data streams, which send every document to their write index: that index is the
        // one to block (the others go with the data stream). Through the index settings, as the add-block API takes
        // neither a data stream's name (AddIndexBlockRequest does not include data streams: 404) nor its write index
        // (MetadataIndexStateService.addIndexBlock: "cannot add a block to the following data stream write indices").
        // Unlike that API, the settings do not wait for writes in flight: one already past the block check may still
        // land, and goes with the data stream.
        await step(`cannot block writes to ${openStreams.join(", ")} (write indices ${writeIndices.join(", ")})`, () =>
            t.client.indices.putSettings({ index: writeIndices.join(","), settings: { "index.blocks.write": true } }),
        );
        t.log(`${label}: blocked writes to ${openStreams.join(", ")} (--force)`);
    }
    for (const d of openStreams) {
        await step(`cannot delete data stream ${d}`, () => t.client.indices.deleteDataStream({ name: d }));
        t.log(`${label}: deleted data stream ${d} (--force)`);
    }
    if (openIndices.length > 0) {
        await step(`cannot close ${openIndices.join(", ")}`, () => t.client.indices.close({ index: openIndices.join(",") }));
        t.log(`${label}: closed ${openIndices.join(", ")} (--force)`);
    }
}

/**
 * Restores data streams and indices from a snapshot, into a cluster that lost them or over what is there:
 * - writers are paused first (see {@link pauseWriters}): none can recreate a data stream mid-restore;
 * - what exists and is open refuses the restore, unless forced: then each data stream's write index is write-blocked
 *   (so a writer's documents are answered 403 and retried, not written into what is about to go) and the data streams
 *   deleted, and open indices closed, as Elasticsearch requires; what is missing is simply restored (resolve with
 *   `ignore_unavailable`: Elasticsearch answers 404 otherwise);
 * - restored indices are write-blocked and outside the lifecycle policy ({@link RESTORED_INDEX_SETTINGS}); each
 *   restored data stream then rolls over to a new write index that its template puts under the policy again;
 * - progress is printed until every shard is done, and the restored indices' documents counted;
 * - the writers get their rights back, whatever happened.
 */
export async function restoreSnapshot(t: SnapshotTarget, o: RestoreOptions): Promise<RestoreResult> {
    const poll = t.pollIntervalMs ?? 1000;
    const deadline = Date.now() + (t.timeoutMs ?? 3_600_000);
    const pattern = o.indices ?? snapshotIndices(t.environment);
    const label = `restore ${o.snapshot}`;
    let info;
    try {
        info = (await t.client.snapshot.get({ repository: t.repository, snapshot: o.snapshot })).snapshots?.[0];
    } catch (err) {
        if (isStatus(err, 404)) throw new SnapshotError(`no snapshot ${o.snapshot} in repository ${t.repository} (npm run snapshot lists none? GET _snapshot/${t.repository}/_all)`);
        throw new SnapshotError(`cannot read snapshot ${o.snapshot}: ${reasonOf(err)}`);
    }
    if (info === undefined) throw new SnapshotError(`no snapshot ${o.snapshot} in repository ${t.repository}`);
    if (info.state !== "SUCCESS") throw new SnapshotError(`snapshot ${o.snapshot} is ${info.state ?? "in an unknown state"}, not SUCCESS: restore from another one`);
    const dataStreams = info.data_streams.filter((d) => matchesPattern(d, pattern));
    // Backing indices come with their data stream; plain indices are restored on their own.
    const plain = (info.indices ?? []).filter((i) => !i.startsWith(".ds-") && matchesPattern(i, pattern));
    const backing = (info.indices ?? []).filter((i) => dataStreams.some((d) => isBackingIndexOf(i, d)));
    if (dataStreams.length === 0 && plain.length === 0) {
        throw new SnapshotError(`snapshot ${o.snapshot} holds nothing matching ${pattern} (it holds: ${[...info.data_streams, ...(info.indices ?? []).filter((i) => !i.startsWith(".ds-"))].join(", ") || "nothing"})`);
    }
    t.log(`${label}: ${dataStreams.length} data streams and ${plain.length} indices match ${pattern}`);

    const targets = [...dataStreams, ...plain];
    const restored = [...backing, ...plain];
    const step: Step = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
        try {
            return await request();
        } catch (err) {
            throw new SnapshotError(`${what}: ${reasonOf(err)}`);
        }
    };
    const present = async () => {
        // Missing names are what a restore into a cluster that lost its data is for: ignore them (Elasticsearch
        // answers 404 index_not_found_exception for a missing name otherwise).
        const existing = await step(`cannot look up ${targets.join(", ")}`, () =>
            t.client.indices.resolveIndex({ name: targets.join(","), expand_wildcards: "open", ignore_unavailable: true, allow_no_indices: true }),
        );
        const streams = existing.data_streams.filter((d) => dataStreams.includes(d.name));
        const openStreams = streams.map((d) => d.name);
        // Each one's write index: the last of its backing indices (ResolveIndexAction lists a data stream's indices in
        // order; DataStream.getWriteIndex is the last one).
        const writeIndices = streams.map((d) => [d.backing_indices].flat().slice(-1)[0]).filter((i): i is string => i !== undefined);
        // A concrete name comes back whatever its state: a closed index may be restored over, as it is.
        const openIndices = existing.indices.filter((i) => i.attributes.includes("open")).map((i) => i.name).filter((n) => plain.includes(n));
        if (openStreams.length + openIndices.length > 0 && !o.force) {
            throw new SnapshotError(`refusing to overwrite open data streams or indices: ${[...openStreams, ...openIndices].join(", ")}. Pass --force to delete them (their current documents are lost) and restore the snapshot's instead, or restore others with --indices`);
        }
        return { openStreams, writeIndices, openIndices };
    };
    // Refused before anything changes; looked at again once the writers are paused, as they may have created one.
    await present();
    const resume = dataStreams.length > 0 ? await pauseWriters(t, label, o.writerRoles ?? [LOGSTASH_WRITER_ROLE]) : () => Promise.resolve();
    let documents = 0;
    try {
        await clearForRestore(t, label, step, await present());

        await step(`Elasticsearch refused to restore ${o.snapshot}`, () =>
            t.client.snapshot.restore({
                repository: t.repository,
                snapshot: o.snapshot,
                wait_for_completion: false,
                indices: targets.join(","),
                include_global_state: false,
                index_settings: RESTORED_INDEX_SETTINGS,
                ignore_index_settings: [...RESTORE_IGNORED_SETTINGS],
            }),
        );

        let last = "";
        for (;;) {
            const recovery = await step(`cannot read the restore's progress (GET ${restored.join(",")}/_recovery)`, () => t.client.indices.recovery({ index: restored.join(",") }));
            const shards = Object.values(recovery).flatMap((r) => r.shards ?? []);
            const done = shards.filter((s) => s.stage === "DONE").length;
            const percent = shards.length === 0 ? 0 : shards.reduce((sum, s) => sum + parseFloat(String(s.index?.size?.percent ?? "0")), 0) / shards.length;
            const line = `${done} of ${shards.length} shards restored (${percent.toFixed(1)}% of bytes)`;
            if (line !== last) t.log(`${label}: ${line}`);
            last = line;
            if (shards.length > 0 && done === shards.length) break;
            if (Date.now() > deadline) throw new SnapshotError(`restore of ${o.snapshot} not done after ${Math.round((t.timeoutMs ?? 3_600_000) / 1000)} s: ${line}; it goes on in the cluster (GET ${restored.join(",")}/_recovery)`);
            await sleep(poll);
        }
        documents = (await step(`cannot count the restored documents`, () => t.client.count({ index: restored.join(",") }))).count;

        for (const d of dataStreams) {
            const rolled = await step(
                `restored ${d}, but cannot roll it over to a new write index (its index template is missing? run pulumi up, then POST ${d}/_rollover); until then its writers' documents wait`,
                () => t.client.indices.rollover({ alias: d }),
            );
            t.log(`${label}: rolled ${d} over: new documents go to ${rolled.new_index}, under the lifecycle policy`);
        }
    } catch (err) {
        // The writers get their rights back on failure too; a failure to give them back is reported with the first.
        try {
            await resume();
        } catch (again) {
            throw new SnapshotError(`${err instanceof Error ? err.message : String(err)}; and ${again instanceof Error ? again.message : String(again)}`);
        }
        throw err;
    }
    await resume();
    const result = { snapshot: o.snapshot, dataStreams, indices: restored, documents };
    t.log(`${label}: restored ${result.indices.length} indices (${dataStreams.length} data streams), ${result.documents} documents`);
    t.log(`${label}: the restored indices are write-blocked and outside the lifecycle policy: they stay until you delete them or hand them back to the policy (docs/operations.md, "Restored data and retention")`);
    return result;
}

/** The newest successful snapshot in the repository and its age, or undefined when there is none. */
export async function lastSuccessfulSnapshot(client: Client, repository: string, now: number = Date.now()): Promise<{ name: string; ageHours: number } | undefined> {
    const all = (await client.snapshot.get({ repository, snapshot: "_all", sort: "start_time", order: "desc" })).snapshots ?? [];
    const best = all.find((s) => s.state === "SUCCESS" && s.end_time_in_millis !== undefined);
    if (best === undefined) return undefined;
    return { name: best.snapshot, ageHours: (now - Number(best.end_time_in_millis)) / 3_600_000 };
}
