/**
 * What the Django handler counts as Logstash's confirmation, and what that confirmation cannot see. Records count
 * as confirmed only when Logstash's TCP stream ends (a FIN, every byte acknowledged, no reset): a TLS close_notify
 * alone does not confirm them. A kill that finds a connection with nothing unread closes it with a FIN, and what
 * Logstash had read but not queued is then lost while the FIN confirms it: measured here for one read. Real Django
 * (Debian's python3-django); skipped, with the reason, only when /usr/bin/python3 cannot import django (CI installs it).
 */

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ledger } from "./support/deliveryLedger";
import { type App, type Step, describeLive, django, planMessages, sleep, startApp, useFaultLab } from "./support/djangoFaults";
import type { FaultyLogstash } from "./support/faultyLogstash";
import { waitFor } from "./support/syslogCapture";

/** Files the apps wait for (plan step awaitFile), created by the test when it has done its part. */
function signals(): { file(name: string): string; raise(name: string): void; done(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-confirm-"));
    return { file: (name) => path.join(dir, name), raise: (name) => fs.writeFileSync(path.join(dir, name), ""), done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Apps that each log 5 records, wait while the test stops Logstash reading their connections, log a burst that then
 * waits in the socket, and once Logstash was killed (right after reading) and started again, 5 more: the handler sees
 * Logstash's end of the connection on its next write. Resolves with the sizes of the reads the kill came after.
 */
async function killAfterRead(logstash: FaultyLogstash, start: (plan: Step[]) => App, names: readonly string[], burst: { count: number; size: number }) {
    const sig = signals();
    try {
        const plans = names.map((name): Step[] => [
            { prefix: `warm${name}`, count: 5 },
            { marker: "warm" },
            { awaitFile: sig.file("held") },
            { prefix: `burst${name}`, ...burst },
            { marker: "burst" },
            { awaitFile: sig.file("killed") },
            { sleep: 0.3 },
            { prefix: `after${name}`, count: 5 },
            { sleep: 1 },
        ]);
        const apps = plans.map((plan) => start(plan));
        await Promise.all(apps.map((app) => app.stderrMatches(/^warm$/m)));
        await waitFor(() => logstash.lines.length >= 5 * names.length, 20_000, "the first records");
        logstash.nettyStall();
        sig.raise("held");
        await Promise.all(apps.map((app) => app.stderrMatches(/^burst$/m)));
        await sleep(500); // the bursts wait in the sockets
        const killed = logstash.killAfterReads(names.length);
        logstash.resume();
        const sizes = await killed;
        await logstash.start();
        sig.raise("killed");
        const runs = await Promise.all(apps.map((app) => app.done));
        sig.done();
        return { runs, sizes, expected: plans.flatMap((plan) => planMessages(plan)) };
    } catch (error) {
        // Failed before the apps went on: let them go on (they exit, or are killed at their timeout).
        sig.raise("held");
        sig.raise("killed");
        throw error;
    }
}

describeLive("tests/django.confirm.test.ts")(`what confirms delivery, real Django (${django ?? "missing"})`, () => {
    const lab = useFaultLab();

    test("a TLS close_notify without a TCP FIN confirms nothing: the records Logstash had not handed on are sent again", async () => {
        // The first connection hands on its first data (one TLS record, 16 KB), then sends close_notify, keeps its TCP
        // stream open and reads nothing more: the rest of the first burst is acknowledged but never handed on.
        const logstash = await lab.listen({ closeNotifyWithoutFin: true });
        // The second batch comes once the close_notify is in the app's socket (the stand-in counts it when the app's
        // TCP has acknowledged it), so that it goes on a new connection. After a fixed second, the stand-in under CPU
        // load had sometimes not sent it yet. Counted once its write returned, in one of ten runs beside another run
        // and a CPU hog the handler had not found it in its socket when the second batch went out, and 105 records
        // went on the first connection; why is not proven (docs/testing.md).
        const sig = signals();
        const plan: Step[] = [{ prefix: "first", count: 100, size: 100 }, { awaitFile: sig.file("notified") }, { prefix: "second", count: 5 }, { sleep: 2 }];
        const app = startApp(lab.pki, logstash.port, plan, { send_timeout: 1.0, max_backoff: 0.5 });
        let run: Awaited<typeof app.done>;
        try {
            try {
                await waitFor(() => logstash.closeNotifies() > 0, 30_000, "the stand-in's close_notify on the first connection, acknowledged by the app's TCP");
            } finally {
                sig.raise("notified");
            }
            run = await app.done;
        } finally {
            sig.done();
        }
        expect(run.exitCode).toBe(0);
        const result = lab.account(logstash, plan);
        const firstConnection = logstash.lines.filter((l) => l.connection === 0).length;
        console.log(`close_notify without FIN: ${firstConnection} lines handed on by the first connection; handler ${JSON.stringify(run.counters)}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
        // The first connection handed on only part of the first burst.
        expect(firstConnection).toBeGreaterThan(0);
        expect(firstConnection).toBeLessThan(100);
        expect(result).toMatchObject({ logged: 105, indexed: 105, lost: 0, duplicated: 0, truncated: 0 });
        expect(run.counters).toMatchObject({ dropped: 0, unconfirmed: 0, confirmed: 105 });
        // It took every byte but never ended its TCP stream: not confirmed, so the records went out again.
        expect(run.stderr).toMatch(/cannot deliver logs to localhost:\d+ \(100 records not confirmed: Logstash took every byte but did not end the connection in time\)/);
    }, 60_000);

    test("Logstash killed right after reading what waited on two connections, before queueing it: each connection closes with a FIN, and its read is lost and counted as confirmed", async () => {
        const logstash = await lab.listen();
        const burst = { count: 150, size: 150 };
        const { runs, sizes, expected } = await killAfterRead(logstash, (plan) => startApp(lab.pki, logstash.port, plan, {}), ["A", "B"], burst);
        const result = ledger(lab.pipeline, lab.source, logstash.lines, expected);
        const burstLines = logstash.lines.filter((l) => l.data.includes(" burst")).length; // none: each burst was lost whole
        console.log(`kill after one read on each of two connections: reads of ${sizes.join(" and ")} bytes; lost ${result.lost} of ${result.logged}; handlers ${runs.map((r) => JSON.stringify(r.counters)).join(" ")}`);
        for (const run of runs) {
            expect(run.exitCode).toBe(0);
            // The window the confirmation cannot see: every record counted as confirmed, nothing reported.
            expect(run.counters).toMatchObject({ confirmed: 160, dropped: 0, unconfirmed: 0 });
            expect(run.stderr).toBe("warm\nburst\n");
        }
        expect(sizes).toHaveLength(2);
        for (const size of sizes) expect(size).toBeLessThanOrEqual(65536);
        expect(burstLines).toBe(0);
        expect(result).toMatchObject({ logged: 320, lost: 300, duplicated: 0, truncated: 0 });
    }, 60_000);

    test("a reset that comes while the app is quiet (Logstash killed with a burst unread, then a record): Python's ssl reads the reset as an end, yet nothing is confirmed and nothing is lost", async () => {
        // The reset leaves nothing to tell it from a FIN on the handler's next look before a write: its TLS read gives
        // b"" (a ragged end, which the ssl module reports so), a peek gives b"", SO_ERROR is 0 and the send queue is
        // empty. Only the TCP state differs: CLOSE_WAIT after a FIN, CLOSE after a reset. 0.5.0 confirmed the burst and
        // the warm records (unconfirmed till then: confirm_interval is 10 s), and lost the burst.
        const logstash = await lab.listen();
        const sig = signals();
        const plan: Step[] = [
            { prefix: "warm", count: 5 },
            { marker: "warm" },
            { awaitFile: sig.file("held") },
            { prefix: "burst", count: 150, size: 150 },
            { marker: "burst" },
            { awaitFile: sig.file("killed") },
            { prefix: "after", count: 5 },
            { sleep: 1 },
        ];
        const app = startApp(lab.pki, logstash.port, plan, {});
        try {
            await app.stderrMatches(/^warm$/m);
            await waitFor(() => logstash.lines.length >= 5, 20_000, "the first records");
            logstash.nettyStall();
            sig.raise("held");
            await app.stderrMatches(/^burst$/m);
            await sleep(500); // the burst waits in the socket, unread
            await logstash.kill(); // a reset: the socket holds unread bytes
            await sleep(300); // the reset has reached the app, quiet since the burst
            await logstash.start();
        } finally {
            sig.raise("killed");
        }
        const run = await app.done;
        sig.done();
        const result = lab.account(logstash, plan);
        console.log(`reset while quiet: lost ${result.lost}; handler ${JSON.stringify(run.counters)}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
        expect(run.exitCode).toBe(0);
        expect(result).toMatchObject({ logged: 160, indexed: 160, lost: 0, duplicated: 0, truncated: 0 });
        expect(run.counters).toMatchObject({ confirmed: 160, dropped: 0, unconfirmed: 0 });
        expect(run.stderr).toMatch(/cannot deliver logs to localhost:\d+ \(155 records not confirmed: Logstash reset the connection\)/);
    }, 60_000);

    test("a kill that finds more than one read waiting: the connection ends with bytes unacknowledged, nothing is confirmed, and nothing is lost", async () => {
        const logstash = await lab.listen();
        // About 270 KB written (four reads of 64 KiB, as far as the socket takes them); the listener dies after one read.
        const burst = { count: 600, size: 250 };
        const { runs, sizes, expected } = await killAfterRead(logstash, (plan) => startApp(lab.pki, logstash.port, plan, {}), ["C"], burst);
        const result = ledger(lab.pipeline, lab.source, logstash.lines, expected);
        console.log(`kill after one read of ${sizes.join()} bytes with more waiting: lost ${result.lost}; handler ${JSON.stringify(runs[0].counters)}; stderr: ${runs[0].stderr.trim().split("\n").join(" | ")}`);
        expect(runs[0].exitCode).toBe(0);
        expect(sizes).toEqual([65536]);
        expect(result).toMatchObject({ logged: 610, indexed: 610, lost: 0, duplicated: 0, truncated: 0 });
        expect(runs[0].counters).toMatchObject({ confirmed: 610, dropped: 0, unconfirmed: 0 });
        expect(runs[0].stderr).toMatch(/cannot deliver logs to localhost:\d+ \(605 records not confirmed: (?:Logstash closed before acknowledging everything|Logstash reset the connection|.*reset by peer.*)\)/);
    }, 60_000);
});
