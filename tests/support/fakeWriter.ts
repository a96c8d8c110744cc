/**
 * A writer that keeps writing, as Logstash's elasticsearch output does (logstash-plugins/logstash-output-elasticsearch,
 * lib/logstash/plugin_mixins/elasticsearch/common.rb): it sends its events with `_bulk` as `create` actions to a
 * data stream, as the writer user; an item answered 200/201 is done, 409 dropped, 400 and 404 go to the dead letter
 * queue, and every other status (403 of a block or a missing privilege, 429, 503) is retried, indefinitely, with a
 * doubling pause; a whole request that fails (a connection error, 429, 5xx) is sent again. Each event carries an id
 * so a test can find where it landed.
 */
import * as https from "https";

/** Options of {@link startWriter}. */
export interface WriterOptions {
    readonly url: string;
    /** PEM of the CA that vouches for the server. */
    readonly ca: string;
    readonly user: string;
    readonly password: string;
    /** The data stream it writes to. */
    readonly dataStream: string;
    /** Time between two new events, ms. */
    readonly intervalMs: number;
    /** First retry pause, ms (doubles up to 8 times this). */
    readonly retryMs?: number;
}

/** What a writer did. */
export interface WriterReport {
    /** Ids of events Elasticsearch acknowledged (200/201), each once. */
    readonly acked: string[];
    /** Ids sent to the dead letter queue (400/404). */
    readonly deadLettered: string[];
    /** Item statuses seen, with how often (e.g. 403 while blocked). */
    readonly statuses: Map<number, number>;
    /** Ids that were answered with a status it retries at least once before they were acknowledged or dropped. */
    readonly retried: Set<string>;
    /** Ids still unacknowledged when it stopped. */
    readonly pending: string[];
}

/** A running writer. */
export interface Writer {
    readonly report: WriterReport;
    /** Stops making new events and retries what is pending until acknowledged or `drainMs` ran out. */
    stop(drainMs: number): Promise<WriterReport>;
}

function post(o: WriterOptions, body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
        const req = https.request(
            `${o.url}/_bulk`,
            {
                method: "POST",
                ca: o.ca,
                headers: {
                    authorization: `Basic ${Buffer.from(`${o.user}:${o.password}`).toString("base64")}`,
                    "content-type": "application/x-ndjson",
                },
                timeout: 10_000,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("bulk request timed out")));
        req.on("error", reject);
        req.end(body);
    });
}

/** Starts writing one event every `intervalMs`. */
export function startWriter(o: WriterOptions): Writer {
    const report: WriterReport = { acked: [], deadLettered: [], statuses: new Map(), retried: new Set(), pending: [] };
    const base = o.retryMs ?? 20;
    let seq = 0;
    let producing = true;
    let pause = base;
    let running: Promise<void> = Promise.resolve();
    let stopped = false;

    const round = async (): Promise<void> => {
        if (producing) report.pending.push(`${o.dataStream}#${seq++}`);
        if (report.pending.length === 0) return;
        const batch = [...report.pending];
        const body = batch.map((id) => `${JSON.stringify({ create: { _index: o.dataStream } })}\n${JSON.stringify({ "@timestamp": new Date().toISOString(), id, message: id })}\n`).join("");
        let answer;
        try {
            answer = await post(o, body);
        } catch {
            pause = Math.min(pause * 2, base * 8);
            return;
        }
        if (answer.status !== 200) {
            report.statuses.set(answer.status, (report.statuses.get(answer.status) ?? 0) + 1);
            pause = Math.min(pause * 2, base * 8);
            return;
        }
        const items = (JSON.parse(answer.text) as { items: { create: { status: number } }[] }).items;
        const retry: string[] = [];
        items.forEach((item, i) => {
            const status = item.create.status;
            report.statuses.set(status, (report.statuses.get(status) ?? 0) + 1);
            if (status === 200 || status === 201) report.acked.push(batch[i]);
            else if (status === 400 || status === 404) report.deadLettered.push(batch[i]);
            else if (status !== 409) {
                retry.push(batch[i]);
                report.retried.add(batch[i]);
            }
        });
        report.pending.splice(0, report.pending.length, ...retry);
        pause = retry.length > 0 ? Math.min(pause * 2, base * 8) : base;
    };

    const loop = async (): Promise<void> => {
        while (!stopped) {
            await round();
            await new Promise<void>((resolve) => setTimeout(resolve, report.pending.length > 0 ? Math.max(pause, o.intervalMs) : o.intervalMs));
        }
    };
    running = loop();

    return {
        report,
        stop: async (drainMs: number) => {
            producing = false;
            const deadline = Date.now() + drainMs;
            while (report.pending.length > 0 && Date.now() < deadline) await new Promise<void>((resolve) => setTimeout(resolve, 10));
            stopped = true;
            await running;
            return report;
        },
    };
}
