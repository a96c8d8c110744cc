/**
 * Counts what a delivery run did, the way Elasticsearch would store it: every line a listener handed on goes
 * through the real Django pipeline files (tests/support/logstash.ts), and each event is "indexed" with the output's
 * action and id. op_type create with an id that is already stored is refused (409), as Elasticsearch refuses it,
 * so a record sent twice is stored once; events without an id are always stored. The handler's own records (logger
 * `elk_stack.logging`, carrying the dropped counts) are counted apart from the app's.
 */
import type { LogSource } from "../../components/model/sources";
import type { Pipeline } from "./logstash";
import { processArrivals } from "./corpora";
import type { ReceivedLine } from "./faultyLogstash";

/** The logger name of the handler's own records (wiring/django_logging.py, OWN_LOGGER). */
export const OWN_LOGGER = "elk_stack.logging";

/** What reached the index, per the records the app logged. */
export interface Ledger {
    /** Records the app logged. */
    readonly logged: number;
    /** Distinct logged records found in the service's data stream. */
    readonly indexed: number;
    /** Logged records not in the service's data stream. */
    readonly lost: number;
    /** Extra copies of a record stored in the service's data stream (after the id check). */
    readonly duplicated: number;
    /** Events in the service's data stream whose message is no record the app logged (cut or mangled). */
    readonly truncated: number;
    /** Copies refused because their id was already stored: resends doing their job. */
    readonly refusedCopies: number;
    /** Fragments of broken connections, kept in the parse-failure stream, tagged _elk_truncated. */
    readonly fragments: number;
    /** Other events of the parse-failure stream. */
    readonly parseFailures: number;
    /** Sum of elk.dropped over stored events: what the app said it dropped. */
    readonly reportedDropped: number;
    /** Stored records of the handler's own (the carriers of elk.dropped). */
    readonly reports: number;
    /** The most copies of one record (by id) that reached the listener, refused ones included. */
    readonly maxCopies: number;
    /** The stored events of the service's data stream, by message. */
    readonly messages: ReadonlyMap<string, number>;
}

/** Feeds the received lines through `pipeline` and counts against `expected` (the messages the app logged). */
export function ledger(pipeline: Pipeline, source: LogSource, lines: readonly ReceivedLine[], expected: readonly string[]): Ledger {
    const stored = new Set<string>();
    const messages = new Map<string, number>();
    let refusedCopies = 0;
    let fragments = 0;
    let parseFailures = 0;
    let truncated = 0;
    let reportedDropped = 0;
    let reports = 0;
    const copies = new Map<string, number>();
    const wanted = new Set(expected);
    for (const line of lines) {
        const data = line.partial ? line.data : Buffer.concat([line.data, Buffer.from("\n")]);
        for (const { event, deliveries } of processArrivals(pipeline, [{ protocol: "tcp", port: source.port, data, peer: "127.0.0.1" }])) {
            if (deliveries.length !== 1) throw new Error(`an event went to ${deliveries.length} outputs`);
            const [d] = deliveries;
            if (d.documentId !== undefined) {
                const key = `${d.dataStream}/${d.documentId}`;
                copies.set(key, (copies.get(key) ?? 0) + 1);
                if (stored.has(key)) {
                    refusedCopies++;
                    continue;
                }
                stored.add(key);
            }
            if (d.dataStream !== `logs-${source.dataset}-test`) {
                if (event.tags.includes("_elk_truncated")) fragments++;
                else parseFailures++;
                continue;
            }
            const dropped = event.get("[elk][dropped]");
            if (typeof dropped === "number") reportedDropped += dropped;
            if (event.get("[log][logger]") === OWN_LOGGER) {
                reports++;
                continue;
            }
            const message = event.str("message") ?? "";
            messages.set(message, (messages.get(message) ?? 0) + 1);
            if (!wanted.has(message)) truncated++;
        }
    }
    const indexed = expected.filter((m) => messages.has(m)).length;
    const duplicated = [...messages.entries()].filter(([m]) => wanted.has(m)).reduce((sum, [, n]) => sum + n - 1, 0);
    let maxCopies = 0;
    for (const n of copies.values()) maxCopies = Math.max(maxCopies, n);
    return { logged: expected.length, indexed, lost: expected.length - indexed, duplicated, truncated, refusedCopies, fragments, parseFailures, reportedDropped, reports, maxCopies, messages };
}
