/**
 * Finds the run's events in Elasticsearch while the load runs, to learn when each became searchable, and counts
 * every stored copy at the end.
 *
 * Each poll asks for the run's documents (`match_phrase` on `message`: the run id is one token) whose
 * `@timestamp` (the event's own time, which the pipelines take from nginx's `$msec` and the record's RFC 5424
 * timestamp) is at or after the oldest event not yet found, less a margin; so a poll re-reads only the recent
 * past, and an event delayed by a restart is still found when it lands. Events not found within `lookbackMs`
 * of their emission stop holding the window back; the final scan, over all of the run's documents, counts them.
 * Pages are sorted by `@timestamp` and the next page starts at the last page's last timestamp (inclusive):
 * documents are told apart by index and `_id`, so re-reading the boundary counts nothing twice.
 */
import type { Client } from "@elastic/elasticsearch";
import { type EmittedEvent, type FoundDoc, parseEventId } from "./accounting";
import type { Collector } from "./orchestrate";

/** Options of {@link startCollector}. */
export interface CollectorOptions {
    readonly client: Client;
    /** Index pattern of the stack's log data streams, `logs-*-<environment>`. */
    readonly index: string;
    readonly run: string;
    /** The events emitted so far. */
    readonly emitted: () => readonly EmittedEvent[];
    /** Time between polls, ms (default 1000): the resolution of the latency figures. */
    readonly pollIntervalMs?: number;
    /** Documents per search (default 5000). */
    readonly pageSize?: number;
    /** How long an unfound event holds the search window back, ms (default 180 s). */
    readonly lookbackMs?: number;
    /** Margin below the oldest unfound event's emit time, for clock and timestamp precision, ms (default 5 s). */
    readonly marginMs?: number;
    readonly now?: () => number;
    readonly log?: (line: string) => void;
}

interface Hit {
    readonly _index: string;
    readonly _id?: string;
    readonly sort?: readonly unknown[];
    readonly _source?: { message?: unknown; url?: { path?: unknown; original?: unknown } };
}

/** Statistics of a collector, for the report's notes. */
export interface CollectorStats {
    searches: number;
    failedSearches: number;
    lastError?: string;
    /** Documents with the run id but no event id the accounting can read. */
    unreadable: number;
}

/** Starts polling; the returned collector's `finish` drains and returns every document found. */
export function startCollector(o: CollectorOptions): Collector & { readonly stats: CollectorStats } {
    const now = o.now ?? Date.now;
    const poll = o.pollIntervalMs ?? 1000;
    const pageSize = o.pageSize ?? 5000;
    const lookback = o.lookbackMs ?? 180_000;
    const margin = o.marginMs ?? 5000;
    const docs = new Map<string, { source: string; seq: number }>();
    const firstSeen = new Map<string, number>();
    const stats: CollectorStats = { searches: 0, failedSearches: 0, unreadable: 0 };
    const unreadable = new Set<string>();

    /** Reads every document of the run from `fromMs` on (all of them when undefined). */
    const scan = async (fromMs: number | undefined): Promise<void> => {
        let cursor = fromMs;
        for (;;) {
            const filter: object[] = [{ match_phrase: { message: o.run } }];
            if (cursor !== undefined) filter.push({ range: { "@timestamp": { gte: Math.floor(cursor), format: "epoch_millis" } } });
            stats.searches++;
            const result = await o.client.search({
                index: o.index,
                allow_no_indices: true,
                ignore_unavailable: true,
                size: pageSize,
                sort: [{ "@timestamp": { order: "asc", format: "epoch_millis" } }],
                _source: ["message", "url.path", "url.original"],
                query: { bool: { filter } },
            });
            const at = now();
            const hits = result.hits.hits as readonly Hit[];
            for (const h of hits) {
                const key = `${h._index}/${h._id ?? ""}`;
                if (docs.has(key) || unreadable.has(key)) continue;
                const s = h._source ?? {};
                const text = [s.message, s.url?.original, s.url?.path].filter((v): v is string => typeof v === "string").join(" ");
                const id = parseEventId(o.run, text);
                if (id === undefined) {
                    unreadable.add(key);
                    stats.unreadable++;
                    continue;
                }
                docs.set(key, id);
                const eventKey = `${id.source}/${id.seq}`;
                if (!firstSeen.has(eventKey)) firstSeen.set(eventKey, at);
            }
            if (hits.length < pageSize) return;
            const last = Number(hits[hits.length - 1].sort?.[0]);
            // A whole page on one millisecond cannot be paged by time: read a bigger page next time round.
            if (!Number.isFinite(last) || last === cursor) return;
            cursor = last;
        }
    };

    /** The start of the window: the oldest event not found yet (within the look-back), less the margin. */
    const windowStart = (): number => {
        const t = now();
        let oldest = t;
        for (const e of o.emitted()) {
            if (e.emittedAt < oldest && e.emittedAt >= t - lookback && !firstSeen.has(`${e.source}/${e.seq}`)) oldest = e.emittedAt;
        }
        return oldest - margin;
    };

    const attempt = async (fromMs: number | undefined): Promise<boolean> => {
        try {
            await scan(fromMs);
            return true;
        } catch (err) {
            // Elasticsearch restarting under the change: the events are not searchable meanwhile; keep asking.
            stats.failedSearches++;
            stats.lastError = err instanceof Error ? err.message : String(err);
            return false;
        }
    };

    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> = Promise.resolve();
    const loop = () => {
        if (closed) return;
        running = attempt(windowStart()).finally(() => {
            if (!closed) timer = setTimeout(loop, poll);
        });
    };
    loop();

    const stopPolling = async () => {
        closed = true;
        if (timer) clearTimeout(timer);
        await running;
    };

    return {
        stats,
        close: stopPolling,
        finish: async (emitted, timeoutMs) => {
            await stopPolling();
            const deadline = now() + timeoutMs;
            const missing = () => emitted.filter((e) => !firstSeen.has(`${e.source}/${e.seq}`)).length;
            for (;;) {
                const from = emitted.length > 0 ? Math.min(...emitted.filter((e) => !firstSeen.has(`${e.source}/${e.seq}`)).map((e) => e.emittedAt), now()) - margin : undefined;
                await attempt(from);
                const left = missing();
                if (left === 0 || now() >= deadline) break;
                o.log?.(`waiting for ${left} of ${emitted.length} events to become searchable`);
                await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(0, deadline - now()))));
            }
            // Every copy of every event, however late it landed.
            if (!(await attempt(undefined))) throw new Error(`the final search of the run's documents failed: ${stats.lastError ?? "unknown error"}`);
            const found: FoundDoc[] = [];
            for (const id of docs.values()) found.push({ ...id, firstSeenAt: firstSeen.get(`${id.source}/${id.seq}`) });
            return found;
        },
    };
}

/** The collector's own notes for the report. */
export function collectorNotes(stats: CollectorStats): string[] {
    const notes = [`collector: ${stats.searches} searches, ${stats.failedSearches} failed${stats.lastError !== undefined ? ` (last: ${stats.lastError})` : ""}`];
    if (stats.unreadable > 0) notes.push(`collector: ${stats.unreadable} documents carry the run id but no event id the accounting can read`);
    return notes;
}
