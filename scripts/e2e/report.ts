/**
 * The e2e report: what each source's contract promises, whether it held, the printed and JSON forms, and the
 * exit status. Pure.
 *
 * Contracts: a Django source (RFC 5424 over TLS, a handler that queues and reconnects) promises every event
 * exactly once: any loss or any duplicate breaks it. nginx sends syslog over UDP, which Logstash cannot receive
 * while it restarts: its contract is a loss ratio at most the `--nginx-loss-threshold` given.
 */
import { EXIT } from "../automation/local";
import type { SourceAccount } from "./accounting";

/** What the run promises per source kind. */
export interface Contract {
    /** Largest share of nginx events that may be lost, 0..1. */
    readonly nginxLossThreshold: number;
}

/** How long one phase took. */
export interface PhaseTiming {
    readonly phase: string;
    readonly ms: number;
    readonly ok: boolean;
}

/** Everything a run produced; written as JSON with `--report`. */
export interface E2eReport {
    readonly run: string;
    readonly target: string;
    readonly stack: string;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly ratePerSource: number;
    /** The config change applied under load, key → value. */
    readonly change: Readonly<Record<string, string>>;
    readonly contract: Contract;
    readonly phases: readonly PhaseTiming[];
    readonly sources: readonly SourceAccount[];
    /** One sentence per broken promise. */
    readonly breaches: readonly string[];
    /** What the load generators said about themselves (e.g. records a bounded queue dropped). */
    readonly notes: readonly string[];
    /** Set when the run could not measure: the stack failed to come up, verify, change or be reached. */
    readonly error?: string;
    /** What happened to the stack at the end. */
    readonly cleanup: string;
    /** True when the stack was destroyed or deliberately kept. */
    readonly cleanupOk: boolean;
    readonly ok: boolean;
    readonly exitCode: number;
}

function percent(part: number, whole: number): string {
    return whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(2)}%`;
}

/** The broken promises of each source, one sentence each; empty when every contract held. */
export function breaches(sources: readonly SourceAccount[], contract: Contract): string[] {
    const out: string[] = [];
    for (const s of sources) {
        const label = `${s.kind}:${s.source}`;
        if (s.sent === 0) {
            out.push(`${label}: no event was sent, so nothing was measured (is the load generator reaching it?)`);
            continue;
        }
        if (s.kind === "django") {
            if (s.lost > 0) out.push(`${label}: ${s.lost} of ${s.sent} events lost (${percent(s.lost, s.sent)}); a Django source promises none (first lost: ${s.lostSample.join(", ")})`);
            if (s.duplicated > 0) out.push(`${label}: ${s.duplicated} duplicate documents; a Django source promises each event once`);
        } else {
            const ratio = s.lost / s.sent;
            if (ratio > contract.nginxLossThreshold) {
                out.push(`${label}: ${s.lost} of ${s.sent} events lost (${percent(s.lost, s.sent)}), above the threshold ${(contract.nginxLossThreshold * 100).toFixed(2)}%`);
            }
        }
    }
    return out;
}

/** Exit status: a stack failure first (nothing was measured), then broken contracts, then a failed clean-up. */
export function exitCodeOf(r: Pick<E2eReport, "error" | "breaches" | "cleanupOk">, errorCode: number = EXIT.stack): number {
    if (r.error !== undefined) return errorCode;
    if (r.breaches.length > 0) return EXIT.failed;
    if (!r.cleanupOk) return EXIT.stack;
    return EXIT.ok;
}

function ms(n: number | undefined): string {
    return n === undefined ? "-" : `${Math.round(n)} ms`;
}

/** The report as printed lines. */
export function formatReport(r: E2eReport): string[] {
    const lines = [
        `e2e run ${r.run} on ${r.target} (stack ${r.stack}), ${r.ratePerSource} events/s per source, change: ${Object.entries(r.change).map(([k, v]) => `${k}=${v}`).join(", ") || "none"}`,
        `phases: ${r.phases.map((p) => `${p.phase} ${(p.ms / 1000).toFixed(1)} s${p.ok ? "" : " (failed)"}`).join(", ") || "none"}`,
    ];
    if (r.sources.length > 0) {
        lines.push("source            sent   indexed   lost   dup   unexpected   p50        p95        max");
        for (const s of r.sources) {
            const l = s.latencyMs;
            lines.push(
                [`${s.kind}:${s.source}`.padEnd(16), String(s.sent).padStart(6), String(s.indexed).padStart(9), String(s.lost).padStart(6), String(s.duplicated).padStart(5), String(s.unexpected).padStart(12), ms(l?.p50).padStart(10), ms(l?.p95).padStart(10), ms(l?.max).padStart(10)].join(" "),
            );
        }
    }
    for (const n of r.notes) lines.push(`note: ${n}`);
    if (r.error !== undefined) lines.push(`ERROR: ${r.error}`);
    for (const b of r.breaches) lines.push(`BROKEN: ${b}`);
    lines.push(`stack: ${r.cleanup}`);
    lines.push(r.ok ? "e2e: OK" : `e2e: FAILED (exit ${r.exitCode})`);
    return lines;
}
