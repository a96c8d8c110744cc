/**
 * The Django handler inside the app's process: a signal handler that logs while the app is inside a logging call,
 * os.fork() while the handler's thread waits on a connection, a stderr nobody reads, and the handler's own thread
 * failing. Each case runs a short Python script beside the generated module (configured from its LOGGING with
 * logging.config.dictConfig, as Django does), bounded in time, against a TLS listener standing in for Logstash on
 * 127.0.0.1; what the listener received is run through the Django pipeline and indexed by id. Needs /usr/bin/python3
 * with django, as the other Django delivery tests (skipped, with the reason, where it is missing; CI installs it).
 */

import { ledger } from "./support/deliveryLedger";
import { describeLive, django, startPython, stderrDropped, summary, useFaultLab } from "./support/djangoFaults";

/** What every script shares: the module's LOGGING with the test's handler options, as Django applies it. */
const PRELUDE = String.raw`import json, logging, logging.config, os, sys, time
import django_logging as m

options = json.loads(os.environ.get("ELK_TEST_HANDLER", "{}"))
m.LOGGING["handlers"]["elk"].update(options)
logging.config.dictConfig(m.LOGGING)
handler = logging.getLogger().handlers[0]


def counters(h=None):
    h = h or handler
    return {k: getattr(h, k) for k in ("dropped", "confirmed", "attempts", "unconfirmed", "connections")}
`;

const SIGNALS = String.raw`import signal
log = logging.getLogger("shop.signals")
alarms = 0


def on_alarm(signum, frame):
    global alarms
    alarms += 1
    log.info("alarm %06d", alarms)


# SIGALRM every 0.2 ms while the app logs: the handler runs between two bytecodes of the app's thread, often inside
# a logging call, and logs there.
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
started = time.monotonic()
for n in range(int(sys.argv[1])):
    log.info("main %06d", n)
signal.setitimer(signal.ITIMER_REAL, 0, 0)
logged = time.monotonic() - started
logging.shutdown()
print(json.dumps(dict(counters(), alarms=alarms, seconds=logged)))
`;

const FORKS = String.raw`import socket
log = logging.getLogger("shop.fork")
# A connect that hangs, on 127.0.0.1: a listener whose accept queue (backlog 0) is full drops new SYNs.
hole_listener = socket.socket()
hole_listener.bind(("127.0.0.1", 0))
hole_listener.listen(0)
filler = socket.create_connection(hole_listener.getsockname())
hole = m.LogstashHandler(host="127.0.0.1", port=hole_listener.getsockname()[1], connect_timeout=3.0, close_timeout=0.5)
hole_log = logging.getLogger("shop.hole")
hole_log.propagate = False
hole_log.addHandler(hole)
hole_log.info("into the hole")
log.info("before the forks")
# Both threads now wait: one on a handshake Logstash never answers (the listener holds its first connection), the
# other on the blackholed connect; for connect_timeout (2 s and 3 s).
time.sleep(0.5)
forks = []
for i in range(5):
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        # The child's handlers start afresh: nothing queued, no thread, no connection of the parent's.
        state = {"queued": len(handler._queue) + len(hole._queue), "no_thread": handler._thread is None and hole._thread is None,
                 "no_connection": handler._conn is None and hole._conn is None}
        log.info("from child %d", i)
        logging.shutdown()
        print("CHILD " + json.dumps(dict(state, confirmed=handler.confirmed)), flush=True)
        os._exit(0)
    forks.append((time.monotonic() - started) * 1000)
    os.waitpid(pid, 0)
# Past the hung handshake's timeout (2 s): the parent's thread has connected again.
time.sleep(3.0)
log.info("after the forks")
logging.shutdown()
print(json.dumps(dict(counters(), forks_ms=forks)))
`;

const STDERR = String.raw`import fcntl, threading
log = logging.getLogger("shop.stderr")
other = m.LogstashHandler(close_timeout=0.5)
other_log = logging.getLogger("shop.other")
other_log.propagate = False
other_log.addHandler(other)
# stderr becomes a pipe nobody reads, filled up: a write to it waits until someone reads.
read_end, write_end = os.pipe()
saved = os.dup(2)
os.dup2(write_end, 2)
flags = fcntl.fcntl(2, fcntl.F_GETFL)
fcntl.fcntl(2, fcntl.F_SETFL, flags | os.O_NONBLOCK)
try:
    while True:
        os.write(2, b"x" * 4096)
except BlockingIOError:
    pass
fcntl.fcntl(2, fcntl.F_SETFL, flags)
# Logstash is down (nothing listens) and the queue holds 20: the handler has reports to make, about failures and drops.
slowest = 0.0
started = time.monotonic()
for n in range(200):
    t = time.monotonic()
    log.info("blocked %03d", n)
    other_log.info("other %03d", n)
    slowest = max(slowest, time.monotonic() - t)
logged = time.monotonic() - started
time.sleep(0.5)
# Closed with stderr still blocked (its reports wait), then a record logged after close (another report).
t = time.monotonic()
other.close()
closing = time.monotonic() - t
t = time.monotonic()
other_log.info("after close")
after_close = time.monotonic() - t
# Someone reads stderr again: the handler's thread writes what it had to report.
drained = []


def drain():
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        drained.append(chunk)


reader = threading.Thread(target=drain, daemon=True)
reader.start()
time.sleep(1.5)
os.dup2(saved, 2)
os.close(write_end)
reader.join(5)
logging.shutdown()
reports = b"".join(drained).replace(b"x", b"").decode()
print(json.dumps(dict(counters(), slowest_ms=slowest * 1000, logged_ms=logged * 1000, close_ms=closing * 1000,
                      after_close_ms=after_close * 1000, reports=reports)))
`;

const CRASH = String.raw`log = logging.getLogger("shop.crash")
fault = {"next": None}
peer_closed = m.LogstashHandler._peer_closed


def scripted(self, conn):
    what, fault["next"] = fault["next"], None
    if what == "reset":
        return "reset"  # as if Logstash had reset the connection: what it carried waits to be sent again
    if what == "fail":
        raise RuntimeError("a fault injected into the handler's thread")
    return peer_closed(self, conn)


m.LogstashHandler._peer_closed = scripted


def until(condition, what):
    # The handler's thread, not a fixed sleep, says when the next step may come: under load it is late.
    deadline = time.monotonic() + 8  # within the 20 s the test gives the whole script
    while not condition():
        if time.monotonic() > deadline:
            sys.stderr.write("gave up after 8 s waiting for %s\n" % what)
            sys.exit(3)
        time.sleep(0.005)


class Unformattable(logging.Filter):
    def filter(self, record):
        if record.getMessage() == "poison":
            record.lineno = "not a number"  # the handler's thread cannot turn this record into a line
        return True


log.addFilter(Unformattable())
for n in range(10):
    log.info("first %03d", n)
# Written, and not confirmed for confirm_interval (10 s).
until(lambda: len(handler._inflight) == 10, "the first burst to be written")
fault["next"] = "reset"
for n in range(10):
    log.info("second %03d", n)
# The thread took the second burst and met the reset: both bursts wait to be sent again.
until(lambda: fault["next"] is None, "the thread to meet the reset")
# The thread backs off (0.25 to 0.5 s): meanwhile 80 records overflow the 50-record queue (30 dropped); then the
# thread fails on its next write, holding the 20 records to send again, 50 messages and the count of 30 dropped.
# (With fixed sleeps of 0.5 s and 0.1 s instead of the two waits above, in one run of four beside another run and two
# CPU hogs 40 were dropped, as when the reset meets the first burst's write while the second burst is still queued.)
fault["next"] = "fail"
for n in range(80):
    log.info("third %03d", n)
time.sleep(1.5)
if sys.argv[1] == "more":
    log.info("poison")
    for n in range(5):
        log.info("fourth %03d", n)
    time.sleep(0.5)
logging.shutdown()
print(json.dumps(counters()))
`;

describeLive("tests/django.process.test.ts")(`the handler inside the app's process, real Python (${django ?? "missing"})`, () => {
    const lab = useFaultLab();

    test("a signal handler that logs while the app's thread is inside a logging call: no deadlock, every record counted", async () => {
        const logstash = await lab.listen();
        const main = 10_000;
        const run = await startPython(lab.pki, logstash.port, { "signals.py": PRELUDE + SIGNALS }, ["signals.py", String(main)], { timeoutMs: 20_000 }).done;
        console.log(`signals: exit ${run.exitCode} after ${run.elapsedMs} ms; ${run.stdout.trim()}; stderr: ${run.stderr.trim()}`);
        // A deadlock leaves the app hanging until it is killed (exit code null).
        expect(run.exitCode).toBe(0);
        const out = run.counters as unknown as { alarms: number; dropped: number; confirmed: number; unconfirmed: number };
        expect(out.alarms).toBeGreaterThan(100);
        const expected = [...Array.from({ length: main }, (_, n) => `main ${String(n).padStart(6, "0")}`), ...Array.from({ length: out.alarms }, (_, n) => `alarm ${String(n + 1).padStart(6, "0")}`)];
        const result = ledger(lab.pipeline, lab.source, logstash.lines, expected);
        // On a loaded machine the sending thread may fall behind the 10,000-record queue while 10,000 records and the
        // alarms' are logged in a fraction of a second (705 dropped at a load average of 4): then the oldest are
        // dropped, and what is missing must be exactly what the handler counted and said it dropped.
        const logged = main + out.alarms;
        expect(summary(result)).toMatchObject({ logged, indexed: logged - out.dropped, lost: out.dropped, duplicated: 0, truncated: 0 });
        expect(out).toMatchObject({ unconfirmed: 0, confirmed: logged - out.dropped });
        if (out.dropped === 0) expect(run.stderr).toBe("");
        else expect(run.stderr.trim().split("\n").every((l) => /records or \d+ bytes wait for .*: dropping the oldest from now on \(each one counted\)|dropped/.test(l))).toBe(true);
    }, 60_000);

    test("os.fork() while the handler's thread waits on a handshake that hangs and on a blackholed connect: the fork is not held up, and the child's handler starts afresh and delivers", async () => {
        const logstash = await lab.listen({ hangHandshakes: 1 });
        const run = await startPython(lab.pki, logstash.port, { "forks.py": PRELUDE + FORKS }, ["forks.py"], { env: { ELK_TEST_HANDLER: JSON.stringify({ connect_timeout: 2.0 }) }, timeoutMs: 30_000 }).done;
        console.log(`forks: exit ${run.exitCode} after ${run.elapsedMs} ms; ${run.stdout.trim().split("\n").join(" | ")}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
        expect(run.exitCode).toBe(0);
        const out = run.counters as unknown as { forks_ms: number[]; dropped: number; unconfirmed: number };
        // The fork waits for no network wait of the handler's thread: before, it waited up to 1 s for each handler's
        // guard (2,018 ms for the first fork here). A fork took 2 to 22 ms in our runs; under load the
        // scheduler adds tens of ms (49 ms seen at load 14), so the median is held to 50 ms and every fork to 500 ms.
        expect(out.forks_ms).toHaveLength(5);
        expect([...out.forks_ms].sort((a, b) => a - b)[2]).toBeLessThan(50);
        for (const ms of out.forks_ms) expect(ms).toBeLessThan(500);
        const children = run.stdout.split("\n").filter((l) => l.startsWith("CHILD ")).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
        expect(children).toEqual(Array.from({ length: 5 }, () => ({ queued: 0, no_thread: true, no_connection: true, confirmed: 1 })));
        const expected = ["before the forks", ...Array.from({ length: 5 }, (_, i) => `from child ${i}`), "after the forks"];
        expect(summary(ledger(lab.pipeline, lab.source, logstash.lines, expected))).toMatchObject({ logged: 7, indexed: 7, lost: 0, duplicated: 0, truncated: 0 });
        expect(out).toMatchObject({ dropped: 0, unconfirmed: 0 });
        // The first handshake did hang: the parent's records went out on a later connection.
        expect(run.stderr).toMatch(/cannot deliver logs to localhost:\d+ \(.*timed out.*\); will retry/);
    }, 60_000);

    test("a stderr nobody reads holds up no logging call, nor close; the handler's reports come out once stderr is read again", async () => {
        const logstash = await lab.listen({ startListening: false });
        const app = startPython(lab.pki, logstash.port, { "stderr.py": PRELUDE + STDERR }, ["stderr.py"], {
            env: { ELK_TEST_HANDLER: JSON.stringify({ queue_size: 20, max_backoff: 0.5, close_timeout: 1.0 }) },
            timeoutMs: 20_000,
        });
        const run = await app.done;
        console.log(`stderr blocked: exit ${run.exitCode} after ${run.elapsedMs} ms; ${run.stdout.trim()}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
        // Before, the first report written from a logging call waited for a reader that never came: killed at 20 s.
        expect(run.exitCode).toBe(0);
        const out = run.counters as unknown as { slowest_ms: number; close_ms: number; after_close_ms: number; reports: string; dropped: number };
        expect(out.slowest_ms).toBeLessThan(500);
        // close waits for stderr no longer than its close_timeout (0.5 s), and a record after close not at all.
        expect(out.close_ms).toBeLessThan(1500);
        expect(out.after_close_ms).toBeLessThan(500);
        // What the handler's thread could not write while stderr was blocked came out once it was read.
        expect(out.reports).toMatch(/cannot deliver logs to localhost:\d+ .*will retry/);
        expect(out.reports).toMatch(/more than 20 records or \d+ bytes wait for localhost:\d+: dropping the oldest/);
        expect(out.dropped).toBeGreaterThanOrEqual(180);
    }, 60_000);

    const crashed = (more: boolean) => [
        ...Array.from({ length: 10 }, (_, n) => `first ${String(n).padStart(3, "0")}`),
        ...Array.from({ length: 10 }, (_, n) => `second ${String(n).padStart(3, "0")}`),
        ...Array.from({ length: 80 }, (_, n) => `third ${String(n).padStart(3, "0")}`),
        ...(more ? ["poison", ...Array.from({ length: 5 }, (_, n) => `fourth ${String(n).padStart(3, "0")}`)] : []),
    ];

    for (const more of [true, false]) {
        test(`the handler's thread fails holding records to send again, messages and a dropped count${more ? ", and a record cannot be formatted" : ", and no record follows before exit"}: nothing it held is lost, and what is lost is counted`, async () => {
            const logstash = await lab.listen();
            const run = await startPython(lab.pki, logstash.port, { "crash.py": PRELUDE + CRASH }, ["crash.py", more ? "more" : "exit"], {
                env: { ELK_TEST_HANDLER: JSON.stringify({ queue_size: 50, max_backoff: 0.5 }) },
                timeoutMs: 20_000,
            }).done;
            console.log(`thread failure (${more ? "more" : "exit"}): exit ${run.exitCode}; ${run.stdout.trim()}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
            expect(run.exitCode).toBe(0);
            expect(run.stderr).toMatch(/the thread sending to localhost:\d+ failed \(RuntimeError\("a fault injected into the handler's thread"\)\)/);
            const result = ledger(lab.pipeline, lab.source, logstash.lines, crashed(more));
            // Lost: the 30 oldest of the third burst, dropped from the full queue; with more records, the record that
            // cannot be formatted and the k oldest of the 50 messages put back into the queue, pushed out by the 6
            // records that came after them. k is 6 when the thread, started again by the first of those, has taken
            // nothing yet when the sixth comes; it took some first in one loaded run of ten (k = 2). Whatever k is,
            // the lost records are exactly the oldest, and each is counted.
            const k = more ? result.lost - 31 : 0;
            expect(k).toBeGreaterThanOrEqual(0);
            expect(k).toBeLessThanOrEqual(6);
            const lost = more ? 30 + k + 1 : 30;
            expect(summary(result)).toMatchObject({ logged: more ? 106 : 100, lost, duplicated: 0, truncated: 0 });
            // Missing: third 000 up to the (30 + k)th, and the poison; as many as are lost, so every other one arrived.
            const third = (n: number) => `third ${String(n).padStart(3, "0")}`;
            for (let n = 0; n < 30 + k; n++) expect(result.messages.has(third(n))).toBe(false);
            expect(result.messages.has(third(30 + k))).toBe(true);
            if (more) expect(result.messages.has("poison")).toBe(false);
            expect(result.messages.has("first 000") && result.messages.has("second 009") && result.messages.has("third 079")).toBe(true);
            // Counted exactly: by the handler, on stderr and in elk.dropped.
            expect({ handler: run.counters?.dropped, stderr: stderrDropped(run.stderr), index: result.reportedDropped }).toEqual({ handler: lost, stderr: lost, index: lost });
            if (more) expect(run.stderr).toMatch(/1 records could not be turned into lines \(TypeError\(.*\)\): dropped, each one counted/);
        }, 60_000);
    }
});
