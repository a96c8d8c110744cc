/**
 * The e2e collector against a stand-in Elasticsearch on 127.0.0.1 (plain HTTP, the official client): documents
 * become searchable after a delay, one much later (as after a restart), one is stored twice, one never; searches
 * fail for a while; pages are small so that paging by timestamp, with several documents on one millisecond,
 * is exercised. What it returns goes through the real accounting.
 */
import { Client } from "@elastic/elasticsearch";
import * as http from "http";
import type { AddressInfo } from "net";
import { type EmittedEvent, account, djangoMessage, eventPath } from "../scripts/e2e/accounting";
import { collectorNotes, startCollector } from "../scripts/e2e/collector";
import { type Refusal, gate, isRefusal, respond } from "./support/esRestApi";

const RUN = "e2e00ff00ff00";

interface Doc {
    readonly index: string;
    readonly id: string;
    readonly timestamp: number;
    readonly message: string;
    readonly visibleAt: number;
}

interface SearchBody {
    size?: number;
    query?: { bool?: { filter?: ({ match_phrase?: { message?: string } } & { range?: { "@timestamp"?: { gte?: number } } })[] } };
}

/** Answers `POST /<index>/_search` over `docs` as Elasticsearch would for the collector's query; 503 while `down()`. */
async function fakeEs(docs: Doc[], down: () => boolean) {
    const bodies: SearchBody[] = [];
    const refusals: Refusal[] = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const headers = { "content-type": "application/json", "x-elastic-product": "Elasticsearch" };
            // Elasticsearch 9.4's own checks of the request first (tests/support/esRestApi.ts); security is off here.
            const checked = gate({ method: req.method ?? "", url: req.url ?? "/", rawBody: Buffer.concat(chunks).toString(), contentType: req.headers["content-type"], accept: req.headers.accept, user: null, authenticated: true });
            if (isRefusal(checked)) {
                refusals.push(checked);
                respond(res, checked);
                return;
            }
            if (checked.api !== "search" || checked.parts.index !== "logs-*-e2e_x" || down()) {
                res.writeHead(503, headers);
                res.end(JSON.stringify({ error: { type: "no_shard_available_action_exception", reason: "restarting" }, status: 503 }));
                return;
            }
            const body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as SearchBody;
            bodies.push(body);
            const filters = body.query?.bool?.filter ?? [];
            const phrase = filters.find((f) => f.match_phrase)?.match_phrase?.message ?? "";
            const gte = filters.find((f) => f.range)?.range?.["@timestamp"]?.gte ?? -Infinity;
            const now = Date.now();
            const hits = docs
                .filter((d) => d.visibleAt <= now && d.message.includes(phrase) && d.timestamp >= gte)
                .sort((a, b) => a.timestamp - b.timestamp)
                .slice(0, body.size ?? 10)
                .map((d) => ({ _index: d.index, _id: d.id, _score: null, _source: { message: d.message }, sort: [d.timestamp] }));
            res.writeHead(200, headers);
            res.end(JSON.stringify({ took: 1, timed_out: false, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, hits: { total: { value: hits.length, relation: "eq" }, hits } }));
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
        bodies,
        refusals,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
        }),
    };
}

test("finds every stored copy, records when each event became searchable, and rides out failing searches", async () => {
    const t0 = Date.now();
    const emitted: EmittedEvent[] = [];
    const docs: Doc[] = [];
    let n = 0;
    for (let seq = 0; seq < 30; seq++) {
        // Three events per millisecond: more than fit in one of the collector's pages at once.
        const at = t0 + Math.floor(seq / 3);
        emitted.push({ source: "web", seq, emittedAt: at }, { source: "app", seq, emittedAt: at });
        if (seq !== 9) docs.push({ index: ".ds-logs-nginx.web-e2e_x-000001", id: String(n++), timestamp: at, message: `web ${at / 1000} 127.0.0.1 "GET" "${eventPath(RUN, "web", seq)}"`, visibleAt: at + 300 });
        docs.push({ index: ".ds-logs-django.app-e2e_x-000001", id: String(n++), timestamp: at, message: djangoMessage(RUN, "app", seq), visibleAt: at + (seq === 3 ? 2500 : 300) });
    }
    // web/7 stored twice (another _id), and a document of another run that must not count.
    docs.push({ index: ".ds-logs-nginx.web-e2e_x-000001", id: "dup", timestamp: t0 + 2, message: `"GET" "${eventPath(RUN, "web", 7)}"`, visibleAt: t0 + 300 });
    docs.push({ index: ".ds-logs-nginx.web-e2e_x-000001", id: "other", timestamp: t0 + 2, message: `"GET" "${eventPath("e2e11111111111", "web", 1)}"`, visibleAt: t0 });
    // A document with the run id but no event id.
    docs.push({ index: ".ds-logs-django.app-e2e_x-000001", id: "odd", timestamp: t0 + 3, message: `${RUN} truncated`, visibleAt: t0 });
    // "Elasticsearch restarts" 600 ms in: down for 600 ms and for at least two searches, since under load the
    // collector may not search at all within a fixed 600 ms (a run beside two others and a CPU hog did not).
    let refused = 0;
    const down = (): boolean => {
        const now = Date.now();
        if (now <= t0 + 600 || (refused >= 2 && now >= t0 + 1200)) return false;
        refused++;
        return true;
    };
    const es = await fakeEs(docs, down);
    const client = new Client({ node: es.url, maxRetries: 0, requestTimeout: 5000 });
    try {
        let shown: EmittedEvent[] = [];
        const collector = startCollector({ client, index: "logs-*-e2e_x", run: RUN, emitted: () => shown, pollIntervalMs: 100, pageSize: 8, marginMs: 50 });
        shown = emitted;
        await new Promise((r) => setTimeout(r, 1500));
        const found = await collector.finish(emitted, 2500);
        const [web, app] = account([{ name: "web", kind: "nginx" }, { name: "app", kind: "django" }], emitted, found);
        expect(web).toMatchObject({ sent: 30, indexed: 29, lost: 1, duplicated: 1, lostSample: [9] });
        expect(app).toMatchObject({ sent: 30, indexed: 30, lost: 0, duplicated: 0 });
        // Found while polling: none before it became visible, and within a few polls of it.
        const seen = new Map(found.filter((d) => d.source === "app").map((d) => [d.seq, d.firstSeenAt ?? NaN]));
        expect((seen.get(3) ?? 0) - t0).toBeGreaterThanOrEqual(2500);
        expect((seen.get(3) ?? 0) - t0).toBeLessThan(4500);
        expect(app.latencyMs?.p50).toBeGreaterThanOrEqual(299);
        expect(app.latencyMs?.max).toBeGreaterThanOrEqual(2500);
        // Searches failed while "Elasticsearch restarted", and the collector says so.
        expect(collector.stats.failedSearches).toBeGreaterThan(0);
        expect(collectorNotes(collector.stats)[0]).toMatch(/^collector: \d+ searches, [1-9]\d* failed \(last: .*no_shard_available_action_exception/);
        expect(collectorNotes(collector.stats)[1]).toBe("collector: 1 documents carry the run id but no event id the accounting can read");
        // Every search was one Elasticsearch 9.4 accepts.
        expect(es.refusals).toEqual([]);
        // While polling, the window starts near the oldest unfound event, not at the beginning of time.
        const windowed = es.bodies.filter((b) => b.query?.bool?.filter?.some((f) => f.range)).length;
        expect(windowed).toBeGreaterThan(5);
        // ... and the final count reads all of the run's documents, with no window.
        const ranged = (b: SearchBody) => b.query?.bool?.filter?.some((f) => f.range) ?? false;
        expect(es.bodies.map(ranged).lastIndexOf(false)).toBeGreaterThan(es.bodies.map(ranged).indexOf(true));
    } finally {
        await client.close();
        await es.close();
    }
});

test("when Elasticsearch never answers, finish gives up at its deadline and says the final search failed", async () => {
    const es = await fakeEs([], () => true);
    const client = new Client({ node: es.url, maxRetries: 0, requestTimeout: 2000 });
    try {
        const emitted: EmittedEvent[] = [{ source: "app", seq: 0, emittedAt: Date.now() }];
        const collector = startCollector({ client, index: "logs-*-e2e_x", run: RUN, emitted: () => emitted, pollIntervalMs: 100 });
        const started = Date.now();
        await expect(collector.finish(emitted, 1000)).rejects.toThrow(/^the final search of the run's documents failed: /);
        expect(Date.now() - started).toBeLessThan(5000);
        await collector.close();
    } finally {
        await client.close();
        await es.close();
    }
});
