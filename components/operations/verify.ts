/**
 * The core of `npm run verify`: checks a running stack end to end. It connects to Elasticsearch with the
 * stack's CA (`@elastic/elasticsearch`), checks cluster health, the index templates, component templates and
 * lifecycle policy the bootstrap installs, sends a batch of marked lines to Logstash the way nginx (RFC 3164
 * over UDP) and Django (RFC 5424 over TLS, one record a line) send them, and waits, bounded, until every one is
 * searchable. It reports searchable latency (median, p95) and throughput, or says exactly what is missing.
 *
 * No Pulumi here: scripts/verify.ts reads the stack outputs and flags and calls {@link verify}.
 */
import type { Client } from "@elastic/elasticsearch";
import { isConnectionOrTimeoutError, isResponseError } from "./esErrors";
import { lastSuccessfulSnapshot } from "./snapshotOps";
import * as crypto from "crypto";
import * as dgram from "dgram";
import * as net from "net";
import * as os from "os";
import * as tls from "tls";
import { dataStreamTemplates, lifecyclePolicyName, mappingsComponentName, settingsComponentName } from "../model/indexing";
import { type LogSource, PARSE_FAILURE_DATASET } from "../model/sources";

/** Where one source's test lines go. */
export interface VerifySource extends Pick<LogSource, "name" | "kind" | "dataset"> {
    /** Logstash's address as this machine reaches it (published port or port-forward). */
    readonly host: string;
    readonly port: number;
}

/** Inputs of {@link verify}. */
export interface VerifyOptions {
    readonly esUrl: string;
    /** PEM of the CA that must vouch for Elasticsearch and Logstash. */
    readonly ca: string;
    /** Where the CA came from, for messages ("stack output caCertificate", a file name). */
    readonly caSource: string;
    readonly user: string;
    readonly password: string;
    readonly environment: string;
    /** Expected retention of the policy, when known; a different one is reported. */
    readonly retentionDays?: number;
    readonly sources: readonly VerifySource[];
    /** Lines sent to each source. */
    readonly countPerSource: number;
    /** Longest wait for the lines to become searchable, ms. */
    readonly timeoutMs: number;
    /** Time between searches, ms (default 250): the resolution of the latency figures. */
    readonly pollIntervalMs?: number;
    /** Bound on each Elasticsearch request and Logstash connection, ms (default 10 s). */
    readonly requestTimeoutMs?: number;
    /** Progress lines; silent by default. */
    readonly log?: (line: string) => void;
    /** The snapshot repository and the hours between scheduled snapshots (undefined: no schedule, report only). */
    readonly snapshots?: { readonly repository: string; readonly intervalHours?: number };
    /** The stack's earliest certificate expiry and its renewal window (stack output `certificates`). */
    readonly certificates?: { readonly earliestExpiry: string; readonly renewBeforeDays: number };
    /** The time to judge ages against (tests), ms since the epoch; now by default. */
    readonly now?: number;
}

/** Searchable latency and throughput of the batch. */
export interface VerifyTiming {
    readonly medianMs: number;
    readonly p95Ms: number;
    /** Events found per second, from the first send to the last event found. */
    readonly eventsPerSecond: number;
}

/** What {@link verify} found. `ok` is true only when `problems` is empty. */
export interface VerifyReport {
    readonly ok: boolean;
    /** One clear sentence per problem, naming what is missing or wrong and what to do. */
    readonly problems: string[];
    readonly clusterStatus?: string;
    /** The run's marker: every test line contains it, so they can be found (and deleted) later. */
    readonly marker?: string;
    readonly sent: number;
    readonly found: number;
    readonly timing?: VerifyTiming;
    /** The newest successful snapshot, when the stack has a repository and one exists. */
    readonly lastSnapshot?: { readonly name: string; readonly ageHours: number };
    /** Days until the earliest certificate expires, when known. */
    readonly certificateDaysLeft?: number;
}

/** Largest batch: one search returns at most 10 000 hits by default (index.max_result_window). */
export const MAX_TOTAL_EVENTS = 10_000;

/** Value at quantile q (0..1) of sorted numbers, nearest-rank method. */
export function quantile(sorted: readonly number[], q: number): number {
    if (sorted.length === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * sorted.length));
    return sorted[Math.min(rank, sorted.length) - 1];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * An nginx access line as the snippet of wiring.ts makes nginx send it: RFC 3164 header (facility local7,
 * severity info, local time, host name, tag `nginx_access`), then the elk_<source> log_format. The request id
 * and path carry the event id, so the line is found by its marker.
 */
export function nginxTestLine(source: string, eventId: string, at: Date, hostname: string): string {
    const pad = (n: number) => String(n).padStart(2, "0");
    const stamp = `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, " ")} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
    const msec = (at.getTime() / 1000).toFixed(3);
    const fields = `"-" "GET" "/elk-verify/${eventId}" "HTTP/1.1" 204 0 0 0.000 "-" "elk-stack-verify" "localhost" "https" "${eventId}" "-" "-" "-"`;
    return `<190>${stamp} ${hostname} nginx_access: ${source} ${msec} 127.0.0.1 ${fields}`;
}

/** A Django record as django_logging.py (wiring.ts) writes it: RFC 5424 with the elk@32473 element, one line. */
export function djangoTestLine(source: string, eventId: string, at: Date, hostname: string): string {
    const sd = `[elk@32473 level="INFO" logger="elk.verify" file="verify.ts" line="1" function="verify" thread="MainThread"]`;
    return `<14>1 ${at.toISOString()} ${hostname} ${source} ${process.pid} elk.verify ${sd} \ufeffelk-stack verify event ${eventId}\n`;
}

function describeError(err: unknown): string {
    if (err instanceof Error) {
        const cause = (err as Error & { cause?: unknown }).cause;
        return cause instanceof Error && !err.message.includes(cause.message) ? `${err.message} (${cause.message})` : err.message;
    }
    return String(err);
}

/** TLS verification failures, as node reports them (codes and messages). */
function isCertificateError(text: string): boolean {
    return /certificate|self[- ]signed|UNABLE_TO_VERIFY|CERT_|altnames|unable to verify/i.test(text);
}

/** A clear sentence for a failed Elasticsearch call. */
function elasticsearchProblem(err: unknown, o: VerifyOptions): string {
    if (isResponseError(err) && err.statusCode === 401) {
        return `Elasticsearch at ${o.esUrl} refused user '${o.user}' (HTTP 401): wrong password? Use --password or ELASTIC_PASSWORD.`;
    }
    const text = describeError(err);
    if (isCertificateError(text)) {
        return `Elasticsearch at ${o.esUrl} presented a certificate that the CA from ${o.caSource} does not vouch for (${text}). Use the stack's CA: pulumi stack output caCertificate.`;
    }
    if (isConnectionOrTimeoutError(err)) {
        return `cannot reach Elasticsearch at ${o.esUrl} (${text}). On Kubernetes, is the port-forward running?`;
    }
    return `Elasticsearch at ${o.esUrl} failed: ${text}`;
}

function isNotFound(err: unknown): boolean {
    return isResponseError(err) && err.statusCode === 404;
}

/** Checks that every template and the policy exist; returns one problem per missing or wrong thing. */
async function checkIndexing(client: Client, o: VerifyOptions): Promise<string[]> {
    const problems: string[] = [];
    const fix = "Run pulumi up: the bootstrap installs it.";
    const policy = lifecyclePolicyName(o.environment);
    try {
        const found = await client.ilm.getLifecycle({ name: policy });
        const phases = found[policy]?.policy.phases;
        const minAge = phases?.delete?.min_age;
        if (o.retentionDays !== undefined && String(minAge) !== `${o.retentionDays}d`) {
            problems.push(`lifecycle policy ${policy} deletes after ${String(minAge ?? "never")}, not ${o.retentionDays}d as configured. ${fix}`);
        }
    } catch (err) {
        if (!isNotFound(err)) throw err;
        problems.push(`missing lifecycle policy ${policy}. ${fix}`);
    }
    const streams = dataStreamTemplates({ environment: o.environment, sources: o.sources });
    const components = [settingsComponentName(o.environment), ...new Set(streams.map((s) => mappingsComponentName(s.mappings)))];
    for (const name of components) {
        try {
            await client.cluster.getComponentTemplate({ name });
        } catch (err) {
            if (!isNotFound(err)) throw err;
            problems.push(`missing component template ${name}. ${fix}`);
        }
    }
    for (const stream of streams) {
        try {
            await client.indices.getIndexTemplate({ name: stream.name });
        } catch (err) {
            if (!isNotFound(err)) throw err;
            problems.push(`missing index template ${stream.name} (for data stream ${stream.dataStream}). ${fix}`);
        }
    }
    return problems;
}

/** One test line in flight. */
interface Pending {
    readonly source: VerifySource;
    sentAt: number;
    seenAt?: number;
    dataset?: string;
}

/** Sends the lines as datagrams; resolves with the time the sends were issued. */
function sendUdp(host: string, port: number, lines: readonly string[], timeoutMs: number): Promise<number> {
    const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    const writtenAt = Date.now();
    return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`UDP send to ${host}:${port} timed out`)), timeoutMs);
        let left = lines.length;
        const finish = (err?: Error | null) => {
            clearTimeout(timer);
            socket.close();
            if (err) reject(err);
            else resolve(writtenAt);
        };
        socket.on("error", finish);
        if (left === 0) return finish();
        for (const line of lines) {
            socket.send(Buffer.from(line, "utf8"), port, host, (err) => {
                if (err) return finish(err);
                if (--left === 0) finish();
            });
        }
    });
}

/** Sends the lines over one TLS connection; resolves, once the peer closed, with the time they were written. */
function sendTls(host: string, port: number, ca: string, lines: readonly string[], timeoutMs: number): Promise<number> {
    let writtenAt = 0;
    return new Promise<number>((resolve, reject) => {
        // servername only for names: SNI with an IP literal is not allowed, and node checks IP SANs without it.
        const socket = tls.connect({ host, port, ca, servername: net.isIP(host) ? undefined : host, minVersion: "TLSv1.2" });
        const timer = setTimeout(() => {
            socket.destroy();
            reject(new Error(`no TLS connection to ${host}:${port} within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.on("error", (err: Error) => {
            clearTimeout(timer);
            reject(err);
        });
        socket.on("secureConnect", () => {
            // end() flushes the lines and sends close_notify; wait for the peer to close so nothing is cut off.
            writtenAt = Date.now();
            socket.end(lines.join(""));
        });
        socket.on("close", () => {
            clearTimeout(timer);
            resolve(writtenAt);
        });
    });
}

/** Sends every source's lines; returns a problem per source that could not be reached. */
async function sendAll(o: VerifyOptions, marker: string, pending: Map<string, Pending>): Promise<string[]> {
    const hostname = os.hostname().replace(/[^A-Za-z0-9.-]/g, "-") || "verify";
    const timeoutMs = o.requestTimeoutMs ?? 10_000;
    // One slot per source, so problems come out in source order whatever finishes first.
    const problems: (string | undefined)[] = o.sources.map(() => undefined);
    let n = 0;
    await Promise.all(
        o.sources.map(async (source, index) => {
            const ids: string[] = [];
            for (let i = 0; i < o.countPerSource; i++) ids.push(`${marker}-${n++}`);
            const now = new Date();
            const lines = ids.map((id) => (source.kind === "nginx" ? nginxTestLine(source.name, id, now, hostname) : djangoTestLine(source.name, id, now, hostname)));
            const sentAt = Date.now();
            for (const id of ids) pending.set(id, { source, sentAt });
            const where = `${source.kind}:${source.name} at ${source.host}:${source.port}`;
            // Latency counts from when the lines were written to the socket (after the TLS handshake, which is no part
            // of it): the peer cannot have them earlier, so a late callback on a loaded host never makes it look shorter.
            let writtenAt = sentAt;
            try {
                if (source.kind === "nginx") writtenAt = await sendUdp(source.host, source.port, lines, timeoutMs);
                else writtenAt = await sendTls(source.host, source.port, o.ca, lines, timeoutMs);
            } catch (err) {
                const text = describeError(err);
                problems[index] =
                    isCertificateError(text)
                        ? `Logstash (${where}) presented a certificate that the CA from ${o.caSource} does not vouch for under the name ${source.host} (${text}).`
                        : `cannot send to Logstash (${where}): ${text}. Is the port published or port-forwarded?`;
                for (const id of ids) pending.delete(id);
            }
            for (const id of ids) {
                const p = pending.get(id);
                if (p) p.sentAt = writtenAt;
            }
        }),
    );
    return problems.filter((p): p is string => p !== undefined);
}

interface HitSource {
    message?: string;
    data_stream?: { dataset?: string };
}

/** Polls until every pending line is searchable or the wait is over; marks what it finds. */
async function waitForEvents(client: Client, o: VerifyOptions, marker: string, pending: Map<string, Pending>): Promise<void> {
    const deadline = Date.now() + o.timeoutMs;
    const idPattern = new RegExp(`${marker}-(\\d+)`);
    const poll = o.pollIntervalMs ?? 250;
    for (;;) {
        const result = await client.search<HitSource>({
            index: `logs-*-${o.environment}`,
            allow_no_indices: true,
            ignore_unavailable: true,
            size: pending.size,
            _source: ["message", "data_stream.dataset"],
            query: { match_phrase: { message: marker } },
        });
        const now = Date.now();
        for (const hit of result.hits.hits) {
            const match = idPattern.exec(hit._source?.message ?? "");
            const p = match ? pending.get(`${marker}-${match[1]}`) : undefined;
            if (p && p.seenAt === undefined) {
                p.seenAt = now;
                p.dataset = hit._source?.data_stream?.dataset;
            }
        }
        const left = [...pending.values()].filter((p) => p.seenAt === undefined).length;
        if (left === 0 || now >= deadline) return;
        o.log?.(`waiting for ${left} of ${pending.size} events to become searchable`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(poll, Math.max(0, deadline - now))));
    }
}

/** Problems with the events: never found (per source), found as parse failures, or in the wrong stream. */
function eventProblems(o: VerifyOptions, pending: Map<string, Pending>): string[] {
    const problems: string[] = [];
    const all = [...pending.values()];
    for (const source of o.sources) {
        const own = all.filter((p) => p.source === source);
        const missing = own.filter((p) => p.seenAt === undefined).length;
        const label = `${source.kind}:${source.name}`;
        if (missing > 0) {
            problems.push(
                `${missing} of ${own.length} events sent to ${label} (${source.host}:${source.port}) were not searchable in logs-*-${o.environment} after ${Math.round(o.timeoutMs / 1000)} s.`,
            );
        }
        const failed = own.filter((p) => p.dataset === PARSE_FAILURE_DATASET).length;
        if (failed > 0) problems.push(`${failed} events of ${label} were stored as parse failures (logs-${PARSE_FAILURE_DATASET}-${o.environment}): the pipeline did not parse them.`);
        const astray = own.filter((p) => p.dataset !== undefined && p.dataset !== PARSE_FAILURE_DATASET && p.dataset !== source.dataset).length;
        if (astray > 0) problems.push(`${astray} events of ${label} landed in another dataset than ${source.dataset}.`);
    }
    return problems;
}

function timing(pending: Map<string, Pending>, firstSend: number): VerifyTiming | undefined {
    const seen = [...pending.values()].filter((p): p is Pending & { seenAt: number } => p.seenAt !== undefined);
    if (seen.length === 0) return undefined;
    const latencies = seen.map((p) => p.seenAt - p.sentAt).sort((a, b) => a - b);
    const span = Math.max(...seen.map((p) => p.seenAt)) - firstSend;
    return { medianMs: quantile(latencies, 0.5), p95Ms: quantile(latencies, 0.95), eventsPerSecond: span > 0 ? (seen.length * 1000) / span : seen.length };
}

/**
 * The newest successful snapshot: reported, and a problem when the schedule says there should be a younger one
 * (older than twice the interval: one missed run is tolerated, two are not).
 */
async function checkSnapshots(client: Client, o: VerifyOptions): Promise<{ problems: string[]; last?: { name: string; ageHours: number } }> {
    if (o.snapshots === undefined) return { problems: [] };
    const { repository, intervalHours } = o.snapshots;
    let last;
    try {
        last = await lastSuccessfulSnapshot(client, repository, o.now ?? Date.now());
    } catch (err) {
        if (isNotFound(err)) return { problems: [`snapshot repository ${repository} is missing. Run pulumi up: the bootstrap registers it.`] };
        throw err;
    }
    if (last === undefined) {
        o.log?.(`snapshots: none successful in ${repository}`);
        return { problems: intervalHours === undefined ? [] : [`no successful snapshot in repository ${repository}, though the schedule takes one every ${intervalHours} h. Look at GET _slm/policy and GET _slm/stats, or take one: npm run snapshot.`] };
    }
    o.log?.(`last successful snapshot: ${last.name}, ${last.ageHours.toFixed(1)} h old`);
    if (intervalHours !== undefined && last.ageHours > 2 * intervalHours) {
        return { problems: [`the last successful snapshot (${last.name}) is ${last.ageHours.toFixed(1)} h old, more than twice the schedule's ${intervalHours} h: scheduled snapshots are failing (GET _slm/policy shows last_failure).`], last };
    }
    return { problems: [], last };
}

/** Days until the earliest certificate expires; a problem when it has expired or should have been renewed by now. */
export function certificateProblems(certificates: VerifyOptions["certificates"], now: number): { problems: string[]; daysLeft?: number } {
    if (certificates === undefined) return { problems: [] };
    const expiry = Date.parse(certificates.earliestExpiry);
    if (Number.isNaN(expiry)) return { problems: [`the stack output certificates.earliestExpiry ('${certificates.earliestExpiry}') is not a date`] };
    const daysLeft = (expiry - now) / 86_400_000;
    if (daysLeft <= 0) return { problems: [`a certificate of the stack expired on ${certificates.earliestExpiry}: run pulumi up to issue new ones.`], daysLeft };
    // The weekly renewal workflow runs pulumi up inside the window; a week into it, it should have happened.
    if (daysLeft < certificates.renewBeforeDays - 7) {
        return { problems: [`the earliest certificate expires on ${certificates.earliestExpiry} (${daysLeft.toFixed(1)} days), inside the ${certificates.renewBeforeDays}-day renewal window for over a week: is the renew workflow running? Run pulumi up.`], daysLeft };
    }
    return { problems: [], daysLeft };
}

/** Runs every check; never throws for a stack problem, only reports it. */
export async function verify(o: VerifyOptions): Promise<VerifyReport> {
    const total = o.sources.length * o.countPerSource;
    if (o.sources.length === 0) return { ok: false, problems: ["no log sources to test: configure logSources or pass --sources"], sent: 0, found: 0 };
    if (!Number.isInteger(o.countPerSource) || o.countPerSource < 1 || total > MAX_TOTAL_EVENTS) {
        return { ok: false, problems: [`--count must be a whole number from 1 to ${Math.floor(MAX_TOTAL_EVENTS / o.sources.length)} for ${o.sources.length} sources`], sent: 0, found: 0 };
    }
    const requestTimeout = o.requestTimeoutMs ?? 10_000;
    // Loaded here, not at the top: importing the package must not load the Elasticsearch client.
    const { elasticsearchClient } = await import("./esClient");
    const client = elasticsearchClient({ esUrl: o.esUrl, ca: o.ca, user: o.user, password: o.password, requestTimeoutMs: requestTimeout });
    try {
        let clusterStatus: string;
        try {
            const health = await client.cluster.health({ timeout: `${Math.ceil(requestTimeout / 1000)}s` });
            clusterStatus = health.status;
            o.log?.(`cluster ${health.cluster_name}: ${health.status}`);
        } catch (err) {
            return { ok: false, problems: [elasticsearchProblem(err, o)], sent: 0, found: 0 };
        }
        if (clusterStatus === "red") {
            return { ok: false, problems: [`cluster health is red: some primary shards are unassigned (GET _cluster/allocation/explain says why).`], clusterStatus, sent: 0, found: 0 };
        }
        let problems: string[];
        try {
            problems = await checkIndexing(client, o);
        } catch (err) {
            return { ok: false, problems: [elasticsearchProblem(err, o)], clusterStatus, sent: 0, found: 0 };
        }
        // Without templates the lines would create unmanaged streams with guessed mappings: stop here.
        if (problems.length > 0) return { ok: false, problems, clusterStatus, sent: 0, found: 0 };
        o.log?.("index templates, component templates and lifecycle policy: present");
        let lastSnapshot: { name: string; ageHours: number } | undefined;
        try {
            const snapshots = await checkSnapshots(client, o);
            problems.push(...snapshots.problems);
            lastSnapshot = snapshots.last;
        } catch (err) {
            problems.push(elasticsearchProblem(err, o));
        }
        const certificates = certificateProblems(o.certificates, o.now ?? Date.now());
        problems.push(...certificates.problems);
        const extra = { lastSnapshot, certificateDaysLeft: certificates.daysLeft };

        const marker = `elkverify${crypto.randomBytes(6).toString("hex")}`;
        const pending = new Map<string, Pending>();
        const firstSend = Date.now();
        problems.push(...(await sendAll(o, marker, pending)));
        o.log?.(`sent ${pending.size} of ${total} events (marker ${marker})`);
        if (pending.size > 0) {
            try {
                await waitForEvents(client, o, marker, pending);
            } catch (err) {
                problems.push(elasticsearchProblem(err, o));
            }
        }
        problems.push(...eventProblems(o, pending));
        const found = [...pending.values()].filter((p) => p.seenAt !== undefined).length;
        return { ok: problems.length === 0, problems, clusterStatus, marker, sent: pending.size, found, timing: timing(pending, firstSend), ...extra };
    } finally {
        await client.close();
    }
}

/** The report as the lines the CLI prints. */
export function formatReport(report: VerifyReport): string[] {
    const lines: string[] = [];
    if (report.clusterStatus !== undefined) lines.push(`cluster health: ${report.clusterStatus}`);
    if (report.marker !== undefined) lines.push(`events: ${report.found} of ${report.sent} searchable (marker ${report.marker})`);
    if (report.lastSnapshot !== undefined) lines.push(`last successful snapshot: ${report.lastSnapshot.name}, ${report.lastSnapshot.ageHours.toFixed(1)} h old`);
    if (report.certificateDaysLeft !== undefined) lines.push(`earliest certificate expiry: in ${report.certificateDaysLeft.toFixed(1)} days`);
    if (report.timing) {
        const t = report.timing;
        lines.push(`latency to searchable: median ${t.medianMs} ms, p95 ${t.p95Ms} ms`, `throughput: ${t.eventsPerSecond.toFixed(1)} events/s`);
    }
    lines.push(...report.problems.map((p) => `FAILED: ${p}`));
    lines.push(report.ok ? "verify: OK" : `verify: FAILED (${report.problems.length} problem${report.problems.length === 1 ? "" : "s"})`);
    return lines;
}
