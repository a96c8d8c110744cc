/**
 * The Django handler against a stalled Logstash, as its tcp input stalls when its queue is full: netty stops
 * reading, yet TLS handshakes of new connections still complete and each has one read taken, and nothing is closed
 * (tests/support/faultyLogstash.ts, `nettyStall`). Writes then block or time out, and confirmations time out. A
 * record is given up after `max_copies` only for the half-open signature (every byte acknowledged by Logstash's
 * TCP, no FIN); every other failure keeps it for the next connection, so what is missing after a stall is exactly
 * what the handler dropped and counted. Real Django (Debian's python3-django); skipped, with the reason, only when
 * /usr/bin/python3 cannot import django (CI installs it).
 */

import { type Step, describeLive, django, sleep, startApp, stderrDropped, useFaultLab } from "./support/djangoFaults";
import { waitFor } from "./support/syslogCapture";

describeLive("tests/django.stall.test.ts")(`delivery against a stalled Logstash, real Django (${django ?? "missing"})`, () => {
    const lab = useFaultLab();

    test("a stall through more than max_copies connections, then recovery: nothing is given up undelivered; what is missing is exactly what was dropped", async () => {
        const logstash = await lab.listen();
        // About 700 records of 2 KB a second for 8 s: the stall (6 s) outlasts three connections of 0.5 s confirmations
        // and 0.5 s timeouts, what the socket buffers on both sides hold (writes time out), and the 1,000-record queue
        // (records are dropped).
        const plan: Step[] = [{ prefix: "flow", count: 6000, size: 2000, interval: 0.001 }, { sleep: 2 }];
        const app = startApp(lab.pki, logstash.port, plan, { send_timeout: 0.5, connect_timeout: 1.0, confirm_interval: 0.5, max_backoff: 0.5, queue_size: 1000 }, { timeoutMs: 60_000 });
        await waitFor(() => logstash.lines.length >= 200, 20_000, "200 records");
        logstash.nettyStall();
        const stalledAt = logstash.lines.length;
        await sleep(6000);
        const duringStall = logstash.lines.length - stalledAt;
        logstash.resume();
        const run = await app.done;
        expect(run.exitCode).toBe(0);
        const result = lab.account(logstash, plan);
        console.log(`netty stall: ${duringStall} lines handed on during the stall (first reads of new connections); handler ${JSON.stringify(run.counters)}; accepted ${logstash.accepted()}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
        // Records cut by a reset are kept aside (fragments, or parse failures when the cut fell in the header), never events.
        expect(result).toMatchObject({ logged: 6000, duplicated: 0, truncated: 0 });
        // The stall was long enough to matter: connections failed, and the queue overflowed.
        expect(logstash.accepted()).toBeGreaterThanOrEqual(4);
        expect(result.lost).toBeGreaterThan(0);
        // Exact: every record missing was dropped and counted, by the handler, on stderr and in elk.dropped; none was
        // given up while it sat unwritten or unacknowledged.
        expect({ handler: run.counters?.dropped, index: result.reportedDropped, stderr: stderrDropped(run.stderr) }).toEqual({ handler: result.lost, index: result.lost, stderr: result.lost });
    }, 60_000);
});
