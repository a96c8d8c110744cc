/**
 * The core of `npm run snapshot` and `npm run restore`: take a snapshot of the environment's log data streams now
 * and wait for it, or restore one, refusing to overwrite what is open unless forced, with progress lines and a
 * final count. No Pulumi here: the scripts read the stack outputs and flags and call these with a client.
 */
import type { Client } from "@elastic/elasticsearch";
import { isResponseError } from "./esErrors";
import { snapshotIndices } from "./snapshots";

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
}

/**
 * Restores data streams and indices from a snapshot: refuses when any of them exists and is open (unless forced,
 * when open data streams are deleted and open indices closed first, as Elasticsearch requires), then prints the
 * shards' recovery until every one is done and counts what came back.
 */
export async function restoreSnapshot(t: SnapshotTarget, o: RestoreOptions): Promise<RestoreResult> {
    const poll = t.pollIntervalMs ?? 1000;
    const deadline = Date.now() + (t.timeoutMs ?? 3_600_000);
    const pattern = o.indices ?? snapshotIndices(t.environment);
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
    const backing = (info.indices ?? []).filter((i) => dataStreams.some((d) => i.startsWith(`.ds-${d}-`)));
    if (dataStreams.length === 0 && plain.length === 0) {
        throw new SnapshotError(`snapshot ${o.snapshot} holds nothing matching ${pattern} (it holds: ${[...info.data_streams, ...(info.indices ?? []).filter((i) => !i.startsWith(".ds-"))].join(", ") || "nothing"})`);
    }
    t.log(`restore ${o.snapshot}: ${dataStreams.length} data streams and ${plain.length} indices match ${pattern}`);

    const targets = [...dataStreams, ...plain];
    const existing = await t.client.indices.resolveIndex({ name: targets.join(","), expand_wildcards: "open" });
    const openStreams = existing.data_streams.map((d) => d.name).filter((n) => dataStreams.includes(n));
    const openIndices = existing.indices.map((i) => i.name).filter((n) => plain.includes(n));
    if (openStreams.length + openIndices.length > 0) {
        const names = [...openStreams, ...openIndices].join(", ");
        if (!o.force) throw new SnapshotError(`refusing to overwrite open data streams or indices: ${names}. Pass --force to delete them (their current documents are lost) and restore the snapshot's instead, or restore others with --indices`);
        for (const d of openStreams) {
            await t.client.indices.deleteDataStream({ name: d });
            t.log(`restore ${o.snapshot}: deleted data stream ${d} (--force)`);
        }
        if (openIndices.length > 0) {
            await t.client.indices.close({ index: openIndices.join(",") });
            t.log(`restore ${o.snapshot}: closed ${openIndices.join(", ")} (--force)`);
        }
    }

    try {
        await t.client.snapshot.restore({
            repository: t.repository,
            snapshot: o.snapshot,
            wait_for_completion: false,
            indices: targets.join(","),
            include_global_state: false,
        });
    } catch (err) {
        throw new SnapshotError(`Elasticsearch refused to restore ${o.snapshot}: ${reasonOf(err)}`);
    }

    let last = "";
    for (;;) {
        const recovery = await t.client.indices.recovery({ index: targets.join(",") });
        const shards = Object.values(recovery).flatMap((r) => r.shards ?? []);
        const done = shards.filter((s) => s.stage === "DONE").length;
        const percent = shards.length === 0 ? 0 : shards.reduce((sum, s) => sum + parseFloat(String(s.index?.size?.percent ?? "0")), 0) / shards.length;
        const line = `${done} of ${shards.length} shards restored (${percent.toFixed(1)}% of bytes)`;
        if (line !== last) t.log(`restore ${o.snapshot}: ${line}`);
        last = line;
        if (shards.length > 0 && done === shards.length) break;
        if (Date.now() > deadline) throw new SnapshotError(`restore of ${o.snapshot} not done after ${Math.round((t.timeoutMs ?? 3_600_000) / 1000)} s: ${line}; it goes on in the cluster (GET ${targets.join(",")}/_recovery)`);
        await sleep(poll);
    }
    const counted = await t.client.count({ index: targets.join(",") });
    const result = { snapshot: o.snapshot, dataStreams, indices: [...backing, ...plain], documents: counted.count };
    t.log(`restore ${o.snapshot}: restored ${result.indices.length} indices (${dataStreams.length} data streams), ${result.documents} documents`);
    return result;
}

/** The newest successful snapshot in the repository and its age, or undefined when there is none. */
export async function lastSuccessfulSnapshot(client: Client, repository: string, now: number = Date.now()): Promise<{ name: string; ageHours: number } | undefined> {
    const all = (await client.snapshot.get({ repository, snapshot: "_all", sort: "start_time", order: "desc" })).snapshots ?? [];
    const best = all.find((s) => s.state === "SUCCESS" && s.end_time_in_millis !== undefined);
    if (best === undefined) return undefined;
    return { name: best.snapshot, ageHours: (now - Number(best.end_time_in_millis)) / 3_600_000 };
}
