/**
 * The e2e test's bookkeeping, pure: every event the load generator emits carries its own id
 * (`/e2e/<run>/<source>/<seq>`: in the request URI for nginx, in the message for Django), and what Elasticsearch
 * holds is counted against what was sent, per source: indexed, lost, duplicated, and the latency from emit to
 * first found by a search.
 */
import { quantile } from "../../components/operations/verify";

/** The kinds of source the e2e load drives. */
export type LoadKind = "nginx" | "django";

/** A source under load. */
export interface LoadSource {
    readonly name: string;
    readonly kind: LoadKind;
}

/** One event the load generator emitted. */
export interface EmittedEvent {
    readonly source: string;
    readonly seq: number;
    /** When it was emitted, ms since the epoch (this machine's clock). */
    readonly emittedAt: number;
}

/** One document found in Elasticsearch that carries an e2e id of this run. */
export interface FoundDoc {
    readonly source: string;
    readonly seq: number;
    /** When a search first returned this event's id, ms since the epoch (same clock as emittedAt). */
    readonly firstSeenAt?: number;
}

/** Latency from emit to searchable, ms. */
export interface Latency {
    readonly p50: number;
    readonly p95: number;
    readonly max: number;
    /** Events it was measured on (those found while the collector polled). */
    readonly samples: number;
}

/** What happened to one source's events. */
export interface SourceAccount {
    readonly source: string;
    readonly kind: LoadKind;
    readonly sent: number;
    /** Distinct sent events found at least once. */
    readonly indexed: number;
    readonly lost: number;
    /** Extra copies: an event stored three times counts 2. */
    readonly duplicated: number;
    /** Documents with an id of this run and source that the generator never counted as sent. */
    readonly unexpected: number;
    readonly latencyMs?: Latency;
    /** The first lost sequence numbers, for looking into them. */
    readonly lostSample: readonly number[];
}

/** The path that carries an event's id: the URI nginx logs, and the text of a Django message. */
export function eventPath(run: string, source: string, seq: number): string {
    return `/e2e/${run}/${source}/${seq}`;
}

/** The Django stand-in's message for an event (the generator in load.ts writes the same text). */
export function djangoMessage(run: string, source: string, seq: number): string {
    return `e2e event ${eventPath(run, source, seq)}`;
}

/** A run id: `e2e` and 10 hex digits, one token for Elasticsearch's standard analyzer and safe in a URI. */
export function isRunId(run: string): boolean {
    return /^e2e[0-9a-f]{10}$/.test(run);
}

/** The source and sequence number of the e2e id in `text`, when it carries one of run `run`. */
export function parseEventId(run: string, text: string): { source: string; seq: number } | undefined {
    const m = new RegExp(`/e2e/${run}/([a-z0-9][a-z0-9-]*)/(\\d+)(?!\\d)`).exec(text);
    return m ? { source: m[1], seq: Number(m[2]) } : undefined;
}

function key(source: string, seq: number): string {
    return `${source}/${seq}`;
}

/** Counts, per source, what was sent against the documents found. */
export function account(sources: readonly LoadSource[], emitted: readonly EmittedEvent[], found: readonly FoundDoc[]): SourceAccount[] {
    const sentAt = new Map<string, number>();
    for (const e of emitted) if (!sentAt.has(key(e.source, e.seq))) sentAt.set(key(e.source, e.seq), e.emittedAt);
    const copies = new Map<string, number>();
    const firstSeen = new Map<string, number>();
    for (const d of found) {
        const k = key(d.source, d.seq);
        copies.set(k, (copies.get(k) ?? 0) + 1);
        if (d.firstSeenAt !== undefined) firstSeen.set(k, Math.min(d.firstSeenAt, firstSeen.get(k) ?? Infinity));
    }
    return sources.map((s) => {
        const own = [...sentAt.entries()].filter(([k]) => k.startsWith(`${s.name}/`));
        let indexed = 0;
        let duplicated = 0;
        const lost: number[] = [];
        const latencies: number[] = [];
        for (const [k, at] of own) {
            const n = copies.get(k) ?? 0;
            if (n === 0) {
                lost.push(Number(k.slice(s.name.length + 1)));
                continue;
            }
            indexed++;
            duplicated += n - 1;
            const seen = firstSeen.get(k);
            if (seen !== undefined) latencies.push(Math.max(0, seen - at));
        }
        const unexpected = [...copies.entries()].filter(([k]) => k.startsWith(`${s.name}/`) && !sentAt.has(k)).reduce((sum, [, n]) => sum + n, 0);
        latencies.sort((a, b) => a - b);
        lost.sort((a, b) => a - b);
        return {
            source: s.name,
            kind: s.kind,
            sent: own.length,
            indexed,
            lost: lost.length,
            duplicated,
            unexpected,
            ...(latencies.length > 0
                ? { latencyMs: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), max: latencies[latencies.length - 1], samples: latencies.length } }
                : {}),
            lostSample: lost.slice(0, 10),
        };
    });
}
