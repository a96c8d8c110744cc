/**
 * The Django handler inside the app's process: a signal handler that logs while the app is inside a logging call,
 * os.fork() while the handler's thread waits on a connection, a stderr nobody reads, and the handler's own thread
 * failing. Each case runs a short Python script beside the generated module (configured from its LOGGING with
 * logging.config.dictConfig, as Django does), bounded in time, against a TLS listener standing in for Logstash on
 * 127.0.0.1; what the listener received is run through the Django pipeline and indexed by id. Needs /usr/bin/python3
 * with django, as the other Django delivery tests (skipped, with the reason, where it is missing; CI installs it).
 */

import { ledger } from "./support/deliveryLedger";
import { describeLive, django, startPython, summary, useFaultLab } from "./support/djangoFaults";

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

describeLive("tests/django.process.test.ts")(`the handler inside the app's process, real Python (${django ?? "missing"})`, () => {
    const lab = useFaultLab();

    test("a signal handler that logs while the app's thread is inside a logging call: no deadlock, every record counted", async () => {
        const logstash = await lab.listen();
        const main = 20_000;
        const run = await startPython(lab.pki, logstash.port, { "signals.py": PRELUDE + SIGNALS }, ["signals.py", String(main)], { timeoutMs: 20_000 }).done;
        console.log(`signals: exit ${run.exitCode} after ${run.elapsedMs} ms; ${run.stdout.trim()}; stderr: ${run.stderr.trim()}`);
        // A deadlock leaves the app hanging until it is killed (exit code null).
        expect(run.exitCode).toBe(0);
        const out = run.counters as unknown as { alarms: number; dropped: number; confirmed: number; unconfirmed: number };
        expect(out.alarms).toBeGreaterThan(100);
        const expected = [...Array.from({ length: main }, (_, n) => `main ${String(n).padStart(6, "0")}`), ...Array.from({ length: out.alarms }, (_, n) => `alarm ${String(n + 1).padStart(6, "0")}`)];
        const result = ledger(lab.pipeline, lab.source, logstash.lines, expected);
        expect(summary(result)).toMatchObject({ logged: main + out.alarms, indexed: main + out.alarms, lost: 0, duplicated: 0, truncated: 0 });
        expect(out).toMatchObject({ dropped: 0, unconfirmed: 0, confirmed: main + out.alarms });
        expect(run.stderr).toBe("");
    }, 60_000);
});
