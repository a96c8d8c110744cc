/**
 * The Django handler against a stalled Logstash, as its tcp input stalls when its queue is full: netty stops
 * reading, yet TLS handshakes of new connections still complete and each has one read taken, and nothing is closed
 * (tests/support/faultyLogstash.ts, `nettyStall`). Writes then block or time out, and confirmations time out. A
 * record is given up after `max_copies` only for the half-open signature (every byte acknowledged by Logstash's
 * TCP, no FIN); every other failure keeps it for the next connection, so what is missing after a stall is exactly
 * what the handler dropped and counted. Real Django (Debian's python3-django); skipped, with the reason, only when
 * /usr/bin/python3 cannot import django (CI installs it).
 */

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { type Step, describeLive, django, planMessages, sleep, startApp, stderrDropped, useFaultLab } from "./support/djangoFaults";
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

    for (const end of ["resumes", "is killed"] as const) {
        test(`records given up after max_copies connections that took every byte during a stall were with Logstash: ${end === "resumes" ? "they arrive when it resumes, also from a connection the handler had reset" : "lost only when it is killed before reading them, and counted as unconfirmed"}`, async () => {
            const logstash = await lab.listen();
            const held = path.join(os.tmpdir(), `elk-stall-held-${process.pid}-${Date.now()}`);
            // 45 records on the connection open when the stall begins (40 of them written after it began, unread): its
            // confirmation times out with every byte acknowledged (the half-open signature), and so do two more connections,
            // each having one read taken.
            const plan: Step[] = [{ prefix: "early", count: 5 }, { marker: "warm" }, { awaitFile: held }, { prefix: "held", count: 40, size: 300 }, { sleep: 9 }, { prefix: "late", count: 5 }, { sleep: 1 }];
            const app = startApp(lab.pki, logstash.port, plan, { send_timeout: 0.5, confirm_interval: 1.0, max_backoff: 0.5, connect_timeout: 1.0 });
            let exited = false;
            try {
                await app.stderrMatches(/^warm$/m);
                await waitFor(() => logstash.lines.length >= 5, 20_000, "the first records");
                logstash.nettyStall();
                fs.writeFileSync(held, "");
                await app.stderrMatches(/records were written 3 times/, 20_000);
                const resumedAt = Date.now();
                if (end === "resumes") logstash.resume();
                else {
                    await logstash.kill();
                    await logstash.start();
                }
                const run = await app.done;
                fs.rmSync(held, { force: true });
                exited = true;
                const result = lab.account(logstash, plan);
                const afterResume = logstash.lines.filter((l) => l.connection === 0 && l.at >= resumedAt && l.data.includes("held 0")).length;
                console.log(`given up in a stall, Logstash ${end}: ${result.lost} lost, ${afterResume} records handed on by the first connection after it resumed; handler ${JSON.stringify(run.counters)}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
                expect(run.exitCode).toBe(0);
                expect(run.stderr).toMatch(/45 records were written 3 times to localhost:\d+, every byte acknowledged, without a confirmation/);
                expect(run.counters).toMatchObject({ dropped: 0, unconfirmed: 45 });
                if (end === "resumes") {
                    // All of them arrived: nothing is lost.
                    expect(result).toMatchObject({ logged: 50, indexed: 50, lost: 0, duplicated: 0, truncated: 0 });
                    // The first connection, reset by the handler after its confirmation timed out, handed on what it held
                    // once Logstash read again.
                    expect(afterResume).toBe(40);
                } else {
                    // Killed with them unread: those lost are among the 45 counted as unconfirmed, none counted as dropped.
                    // How many is up to the reads: the stalled stand-in hands on each new connection's first read, as
                    // netty does, and under CPU load one read took a whole copy (a loaded run lost none of the 45).
                    expect(result).toMatchObject({ logged: 50, duplicated: 0, truncated: 0 });
                    expect(result.lost).toBeLessThanOrEqual(45);
                    const missing = planMessages(plan).filter((m) => !result.messages.has(m));
                    expect(missing).toHaveLength(result.lost);
                    // Only records of the stalled connection, never the warm-up's (confirmed) or the later ones.
                    expect(missing.filter((m) => !m.startsWith("held "))).toEqual([]);
                    expect(result.messages.has("late 000004 ")).toBe(true);
                }
            } finally {
                // Failed before the app went on: let it go on (it exits, or is killed at its timeout) and leave the file.
                if (!exited) fs.writeFileSync(held, "");
            }
        }, 60_000);
    }
});
