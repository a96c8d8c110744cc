/**
 * The Django delivery contract under failure: real Django (Debian's python3-django) logs through the generated
 * module to a TLS listener that is down at start, killed and restarted, stalled past the send timeout, or that
 * closes idle connections; what it received runs through the real Django pipeline files and is "indexed" with
 * op_type create by id (tests/support/deliveryLedger.ts). For each case: records logged, indexed, lost,
 * duplicated, truncated. Within the bounds the module documents, lost, duplicated and truncated are 0; beyond
 * them (a full queue, exit while Logstash is away) what the app reports as dropped equals what is missing.
 * Skipped, with the reason, only when /usr/bin/python3 cannot import django (CI installs it).
 */

import { ledger } from "./support/deliveryLedger";
import { type Step, describeLive, django, planMessages, sleep, startApp, summary, useFaultLab } from "./support/djangoFaults";
import { waitFor } from "./support/syslogCapture";

describeLive("tests/django.faults.test.ts")(`delivery under faults, real Django (${django ?? "missing"})`, () => {
    const lab = useFaultLab();

    test("Logstash down at start: every record arrives once when it comes up", async () => {
        const logstash = await lab.listen({ startListening: false });
        const plan: Step[] = [{ prefix: "early", count: 300, interval: 0.005 }];
        const app = startApp(lab.pki, logstash.port, plan, { max_backoff: 1.0 });
        await app.stderrMatches(/cannot deliver logs/);
        await logstash.start();
        const run = await app.done;
        expect(run.exitCode).toBe(0);
        expect(run.stderr).toMatch(/cannot deliver logs to localhost:\d+ .*will retry/);
        expect(run.stderr).toMatch(/delivering to localhost:\d+ again \(0 records dropped meanwhile\)/);
        expect(summary(lab.account(logstash, plan))).toMatchObject({ logged: 300, indexed: 300, lost: 0, duplicated: 0, truncated: 0 });
    }, 60_000);

    test("killed and restarted 5 times while the app logs: nothing lost, nothing doubled, nothing cut", async () => {
        const logstash = await lab.listen();
        const plan: Step[] = [{ prefix: "restart", count: 3000, size: 200, interval: 0.001 }];
        const app = startApp(lab.pki, logstash.port, plan, { max_backoff: 0.5 });
        await waitFor(() => logstash.lines.length > 0, 20_000, "the first record");
        for (let i = 0; i < 5; i++) {
            const before = logstash.lines.length;
            await logstash.kill();
            await sleep(150);
            await logstash.start();
            // Kill again only once records flow again, so that each kill interrupts a delivery.
            await waitFor(() => logstash.lines.length > before, 20_000, "records after a restart");
            await sleep(100);
        }
        const run = await app.done;
        expect(run.exitCode).toBe(0);
        expect(run.counters).toMatchObject({ dropped: 0, unconfirmed: 0 });
        const result = lab.account(logstash, plan);
        expect(summary(result)).toMatchObject({ logged: 3000, indexed: 3000, lost: 0, duplicated: 0, truncated: 0, parseFailures: 0 });
        // Every kill cut a connection: the app reconnected after each.
        expect(logstash.accepted()).toBeGreaterThanOrEqual(6);
    }, 60_000);

    test("stalled longer than the send timeout: the batch is sent again, stored once, and the cut record is no event", async () => {
        const logstash = await lab.listen();
        // 12 MB: more than the socket buffers on both sides hold, so the sender's write blocks.
        const plan: Step[] = [{ prefix: "first", count: 5 }, { sleep: 0.5 }, { prefix: "stall", count: 6000, size: 2000 }, { sleep: 4 }];
        const app = startApp(lab.pki, logstash.port, plan, { send_timeout: 1.0, connect_timeout: 1.0, max_backoff: 0.5, queue_size: 20000 });
        await waitFor(() => logstash.lines.length >= 5, 20_000, "the first records");
        logstash.stall();
        await app.stderrMatches(/cannot deliver logs/);
        await sleep(1000);
        logstash.resume();
        const run = await app.done;
        expect(run.exitCode).toBe(0);
        expect(run.stderr).toMatch(/cannot deliver logs to localhost:\d+ \((?:The write operation timed out|Logstash did not confirm)/);
        const result = lab.account(logstash, plan);
        // A record cut on the old connection, if any, is counted in fragments: kept aside, never an event of the service.
        expect(summary(result)).toMatchObject({ logged: 6005, indexed: 6005, lost: 0, duplicated: 0, truncated: 0, parseFailures: 0 });
    }, 90_000);

    test("Logstash (or a load balancer) closes connections: the first batch after a close is not lost", async () => {
        const logstash = await lab.listen({ closeAfterMs: 150 });
        const plan: Step[] = [{ prefix: "idle", count: 40, interval: 0.05 }];
        const run = await startApp(lab.pki, logstash.port, plan, { max_backoff: 0.5 }).done;
        expect(run.exitCode).toBe(0);
        const result = lab.account(logstash, plan);
        expect(summary(result)).toMatchObject({ logged: 40, indexed: 40, lost: 0, duplicated: 0, truncated: 0 });
        // Every connection was closed under the app: it noticed each close and opened a new connection.
        expect(logstash.accepted()).toBeGreaterThanOrEqual(2);
        // Every close handed on what the stand-in had read: no record lost to the stand-in itself.
        expect(logstash.forcedCloses()).toBe(0);
    }, 60_000);

    test("a lone surrogate, an empty message and a 1 MB record: each arrives whole, and later records still do", async () => {
        const logstash = await lab.listen();
        const surrogate = "file caf\udce9.txt";
        const big = `big ${"é".repeat(500_000)}`;
        const plan: Step[] = [{ messages: ["before", surrogate, "", big] }, { prefix: "after", count: 50 }];
        const run = await startApp(lab.pki, logstash.port, plan, {}).done;
        expect(run.exitCode).toBe(0);
        expect(run.stderr).toBe("");
        const result = ledger(lab.pipeline, lab.source, logstash.lines, ["before", "", big, ...planMessages([{ prefix: "after", count: 50 }])]);
        expect(summary(result)).toMatchObject({ lost: 0, duplicated: 0, parseFailures: 0 });
        // The surrogate is replaced by its escape, never a reason to drop the record.
        expect(result.messages.get("file caf\\udce9.txt")).toBe(1);
        expect(result.truncated).toBe(1); // that replaced record is the one message not logged verbatim
    }, 60_000);

    test("backs off while Logstash is away, however fast the app logs", async () => {
        const logstash = await lab.listen({ resetOnAccept: true });
        const plan: Step[] = [{ prefix: "away", count: 200, interval: 0.025 }];
        const run = await startApp(lab.pki, logstash.port, plan, { close_timeout: 1.0 }).done;
        expect(run.exitCode).toBe(0);
        // 5 s of logging with waits of 0.5, 1, 2, 4 s (each drawn between half and all of it): at most 7 attempts
        // in the worst case of the jitter, plus the one more attempt at exit; 0.4.0 made one per record.
        expect(logstash.accepted()).toBeGreaterThanOrEqual(3);
        expect(logstash.accepted()).toBeLessThanOrEqual(9);
        expect(run.stderr.match(/cannot deliver logs/g)).toHaveLength(1);
    }, 60_000);
});
