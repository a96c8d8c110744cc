/**
 * Benchmark of the Django delivery path (printed figures, not a test): the generated handler's cost per logging
 * call, with Logstash up and with it down, next to the standard library's SysLogHandler in the same Python process
 * and the same run (rounds of each, interleaved, so that load from other processes falls on all alike), held to the
 * target of issue 23: p50 within 1.5× and p99 within 2× of SysLogHandler's; sustained records per second over TLS
 * on loopback, counted when every record has been confirmed by the listener, with the process's CPU time per
 * record; connections per record for a quiet app at the default timing; and what the Django pipeline's groks cost
 * per line on Oniguruma, for the captured corpus (0.4.0's format) and for lines of the current format,
 * pathological ones included. Needs /usr/bin/python3 (Django is not needed: the handler is standard library only).
 * The run fails when the per-call target or the grok budget is missed.
 *
 *     npm run benchmark            (runs this after the program benchmark)
 *     npx ts-node --swc scripts/benchmarkDelivery.ts [--calls N] [--records N] [--quiet-records N] [--quiet-interval S]
 */
import { spawn } from "child_process";
import * as dgram from "dgram";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { djangoLoggingModule } from "../components/model/wiring";
import { logstashPipelines, parseLogSources } from "../components/model/sources";
import { loadBytes, readDjangoCorpus } from "../tests/support/corpora";
import { makeTestPki } from "../tests/support/djangoScenario";
import { Grok, loadOniguruma, readPatternFiles } from "../tests/support/grok";
import { GROK_BUDGET_MS, percentile } from "./grokBenchmark";

const PYTHON = "/usr/bin/python3";

/** Issue 23's target: the handler's cost per call over SysLogHandler's, in the same run. */
export const PER_CALL_TARGET = { p50: 1.5, p99: 2 } as const;

function arg(name: string, fallback: number): number {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const BENCH = String.raw`import gc, json, logging, logging.handlers, os, socket, sys, time
import django_logging as m

calls, records, up_port, down_port, udp_port, quiet_records = (int(x) for x in sys.argv[1:7])
quiet_interval = float(sys.argv[7])
fmt = logging.Formatter("%(message)s")
ROUNDS = 10

def logger_for(handler):
    log = logging.getLogger("bench.%d" % id(handler))
    log.propagate = False
    log.handlers = [handler]
    log.setLevel(logging.INFO)
    return log

def handler(port, **kw):
    h = m.LogstashHandler(host="localhost", port=port, **kw)
    h.setFormatter(fmt)
    return h

def syslog(port):
    h = logging.handlers.SysLogHandler(address=("127.0.0.1", port))
    h.setFormatter(fmt)
    return h

def drained(h):
    # The sending thread has taken every record (written or, Logstash down, waiting): the next case runs alone.
    deadline = time.monotonic() + 30
    while isinstance(h, m.LogstashHandler) and h._failing is None and (h._queue or getattr(h, "_formatting", 0)) and time.monotonic() < deadline:
        time.sleep(0.001)

def stats(samples):
    samples.sort()
    n = len(samples)
    return {"p50_us": samples[n // 2] / 1000, "p99_us": samples[int(n * 0.99)] / 1000, "p999_us": samples[int(n * 0.999)] / 1000,
            "mean_us": sum(samples) / n / 1000, "max_us": samples[-1] / 1000}

# "up": Logstash listening (TLS on loopback; for SysLogHandler a UDP socket that reads); "down": nothing listens.
cases = {"elk_up": handler(up_port), "elk_down": handler(down_port, close_timeout=0.5),
         "stdlib_up": syslog(udp_port), "stdlib_down": syslog(down_port)}
loggers = {name: logger_for(h) for name, h in cases.items()}
samples = {name: [] for name in cases}
for log in loggers.values():  # warm up: first connection, thread start, caches
    for i in range(200):
        log.info("warm up %d", i)
for h in cases.values():
    drained(h)
load_before = os.getloadavg()
for _ in range(ROUNDS):
    for name, log in loggers.items():
        out = samples[name]
        clock = time.perf_counter_ns
        for i in range(calls // ROUNDS):
            t = clock()
            log.info("GET /checkout/ 200 user=%d took %d ms", i, i % 97)
            out.append(clock() - t)
        drained(cases[name])
out = {name: stats(xs) for name, xs in samples.items()}
out["load"] = [load_before, os.getloadavg()]
for h in cases.values():
    h.close()

# Sustained: log as fast as possible; records/s counts until the listener confirmed every record.
# close() confirms at once what is left instead of waiting for confirm_interval, so the time ends with the last record.
h = handler(up_port, queue_size=records + 1, close_timeout=120)
log = logger_for(h)
cpu0 = time.process_time()
t0 = time.perf_counter()
for i in range(records):
    log.info("GET /checkout/ 200 user=%d took %d ms", i, i % 97)
logged = time.perf_counter() - t0
h.close()
elapsed = time.perf_counter() - t0
out["sustained"] = {"records": records, "confirmed": h.confirmed, "dropped": h.dropped, "seconds": elapsed, "logging_seconds": logged,
                    "cpu_us_per_record": (time.process_time() - cpu0) / records * 1e6}

# A quiet app at the default timing: connections (TLS handshakes) per record.
if quiet_records:
    h = handler(up_port)
    log = logger_for(h)
    for i in range(quiet_records):
        log.info("quiet %d", i)
        time.sleep(quiet_interval)
    h.close()
    # (attempts: a module of before the connections counter, run with this script to compare)
    out["quiet"] = {"records": quiet_records, "interval": quiet_interval, "connections": getattr(h, "connections", h.attempts), "confirmed": h.confirmed}
print(json.dumps(out))
`;

type Cost = { p50_us: number; p99_us: number; p999_us: number; mean_us: number; max_us: number };
interface BenchResult {
    elk_up: Cost;
    elk_down: Cost;
    stdlib_up: Cost;
    stdlib_down: Cost;
    load: [number[], number[]];
    sustained: { records: number; confirmed: number; dropped: number; seconds: number; logging_seconds: number; cpu_us_per_record: number };
    quiet?: { records: number; interval: number; connections: number; confirmed: number };
}

/** Runs the Python side against a TLS listener and a UDP socket on loopback; prints the figures; returns targets missed. */
async function deliveryBenchmark(): Promise<number> {
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is needed`);
    const calls = arg("calls", 20_000);
    const records = arg("records", 100_000);
    const quietRecords = arg("quiet-records", 12);
    const quietInterval = arg("quiet-interval", 2.5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-bench-delivery-"));
    let received = 0;
    let lines = 0;
    const pki = makeTestPki(dir, ["localhost"], "bench");
    const server = tls.createServer({ key: pki.serverKey, cert: pki.serverCert }, (socket) => {
        socket.on("data", (b: Buffer) => {
            received += b.length;
            for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
        });
        socket.on("end", () => socket.end());
        socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const upPort = (server.address() as { port: number }).port;
    const udp = dgram.createSocket("udp4");
    udp.on("message", () => undefined);
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    const udpPort = udp.address().port;
    const closed = tls.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const downPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    try {
        fs.writeFileSync(path.join(dir, "django_logging.py"), djangoLoggingModule({ host: "localhost", port: upPort, serviceName: "bench", caPath: pki.caCertPath }));
        fs.writeFileSync(path.join(dir, "bench.py"), BENCH);
        const args = [calls, records, upPort, downPort, udpPort, quietRecords, quietInterval].map(String);
        const stdout = await new Promise<string>((resolve, reject) => {
            // stderr is the handler's reports (Logstash down: "cannot deliver", records dropped): expected, not shown.
            const child = spawn(PYTHON, ["bench.py", ...args], { cwd: dir, env: { PATH: process.env.PATH ?? "", PYTHONPATH: dir }, stdio: ["ignore", "pipe", "pipe"] });
            let out = "";
            let err = "";
            child.stdout.on("data", (b: Buffer) => (out += b.toString()));
            child.stderr.on("data", (b: Buffer) => (err += b.toString()));
            child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`bench.py exited with ${code}: ${err}`))));
        });
        const r = JSON.parse(stdout) as BenchResult;
        const fmt = (x: number) => x.toFixed(1).padStart(7);
        const row = (label: string, c: Cost) => console.log(`  ${label.padEnd(40)} ${fmt(c.p50_us)} ${fmt(c.p99_us)} ${fmt(c.p999_us)} ${fmt(c.mean_us)} ${fmt(c.max_us)}`);
        const [before, after] = r.load;
        console.log(`Django handler, cost per logging call (µs; ${calls} calls per case in 10 interleaved rounds; ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? "?"}; load average ${before.map((x) => x.toFixed(1)).join(" ")} before, ${after.map((x) => x.toFixed(1)).join(" ")} after):`);
        console.log(`  ${"".padEnd(40)} ${"p50".padStart(7)} ${"p99".padStart(7)} ${"p99.9".padStart(7)} ${"mean".padStart(7)} ${"max".padStart(7)}`);
        row("LogstashHandler, Logstash up (TLS)", r.elk_up);
        row("SysLogHandler, a UDP socket that reads", r.stdlib_up);
        row("LogstashHandler, Logstash down", r.elk_down);
        row("SysLogHandler, a closed UDP port", r.stdlib_down);
        // Held to the cheaper SysLogHandler figure of the run, whichever case it came from: the stricter reading.
        const base = { p50: Math.min(r.stdlib_up.p50_us, r.stdlib_down.p50_us), p99: Math.min(r.stdlib_up.p99_us, r.stdlib_down.p99_us) };
        let missed = 0;
        for (const [label, elk] of [["up", r.elk_up], ["down", r.elk_down]] as const) {
            const p50 = elk.p50_us / base.p50;
            const p99 = elk.p99_us / base.p99;
            const ok = p50 <= PER_CALL_TARGET.p50 && p99 <= PER_CALL_TARGET.p99;
            if (!ok) missed++;
            console.log(`  Logstash ${label}: ${p50.toFixed(2)}× SysLogHandler's cheaper figure at p50, ${p99.toFixed(2)}× at p99 (target ≤ ${PER_CALL_TARGET.p50}× and ≤ ${PER_CALL_TARGET.p99}×)${ok ? "" : ": OVER TARGET"}`);
        }
        const s = r.sustained;
        console.log(
            `Sustained over TLS on loopback: ${s.confirmed}/${s.records} records confirmed in ${s.seconds.toFixed(2)} s = ${Math.round(s.confirmed / s.seconds)} records/s (logging calls took ${s.logging_seconds.toFixed(2)} s, ${s.dropped} dropped; the process spent ${s.cpu_us_per_record.toFixed(1)} µs of CPU per record, both threads); the listener read ${lines} lines, ${(received / 1e6).toFixed(1)} MB in all`,
        );
        if (r.quiet) {
            const q = r.quiet;
            console.log(`Quiet app at the default timing: ${q.records} records ${q.interval} s apart took ${q.connections} connections (${(q.records / q.connections).toFixed(1)} records per TLS handshake), ${q.confirmed} confirmed`);
        }
        return missed;
    } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        udp.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * The Django groks (the record, then the truncation check for lines that are no record) per line: corpus, current
 * format, pathological lines up to 32 KB held to the budget, larger records reported beside it.
 */
async function djangoGrok(runs = 50): Promise<number> {
    await loadOniguruma();
    const { files } = logstashPipelines(parseLogSources(["django:shop"]));
    const patterns = readPatternFiles(files.filter((f) => f.path.startsWith("patterns/")).map((f) => ({ name: f.path, content: f.content })));
    const record = new Grok("%{DJANGO_RFC5424}", patterns);
    const truncated = new Grok("%{DJANGO_TRUNCATED}", patterns);
    const parse = (line: string) => record.match(line) !== undefined || truncated.match(line) !== undefined;
    const head = (logger = "shop.views") =>
        `<14>1 2026-11-30T10:00:00.000Z app1 shop 42 shop.views [elk@32473 id="0193a2b4c5d6e7f8091a2b3c4d5e6f70" level="INFO" logger="${logger}" file="views.py" line="7" function="index" thread="MainThread"] \uFEFF`;
    const corpus = readDjangoCorpus();
    const lines: { group: string; what: string; text: string }[] = [
        ...loadBytes(corpus.stream).toString("utf8").split("\n").filter((l) => l !== "").map((text, i) => ({ group: "corpus (0.4.0)", what: `record ${i + 1}`, text })),
        { group: "current", what: "short record", text: `${head()}order 42 placed#004` },
        { group: "current", what: "traceback of 40 lines", text: `${head()}${"  File \"/app/views.py\", line 7, in index#012".repeat(40)}#004` },
        { group: "pathological", what: "10 KB message", text: `${head()}${"x".repeat(10_000)}#004` },
        { group: "pathological", what: "2,000 escapes (#035, #012)", text: `${head()}${"#035#012".repeat(1000)}#004` },
        { group: "pathological", what: "300 escaped quotes in the logger", text: `${head('\\"'.repeat(300))}msg#004` },
        { group: "pathological", what: "10 KB fragment (no end mark)", text: `${head()}${"x".repeat(10_000)}` },
        { group: "pathological", what: "fragment cut in the SD after 300 quotes", text: head('\\"'.repeat(300)).slice(0, -40) },
        { group: "pathological", what: "30 KB message", text: `${head()}${"y".repeat(30_000)}#004` },
        { group: "large", what: "1 MB record", text: `${head()}${"z".repeat(1_000_000)}#004` },
    ];
    for (const l of lines) parse(l.text);
    const costs = lines.map((l) => {
        const xs: number[] = [];
        for (let i = 0; i < (l.group === "large" ? 5 : runs); i++) {
            const t0 = process.hrtime.bigint();
            parse(l.text);
            xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        return { ...l, ms: percentile(xs.sort((a, b) => a - b), 50) };
    });
    const us = (x: number) => (x * 1000).toFixed(1).padStart(10);
    console.log(`\nDjango grok cost per line on Oniguruma (record grok, then the truncation check; median of ${runs} runs; budget ${GROK_BUDGET_MS} ms up to 32 KB)`);
    console.log("group            lines     p50 µs     p99 µs     max µs");
    for (const group of [...new Set(costs.map((c) => c.group))]) {
        const ms = costs.filter((c) => c.group === group).map((c) => c.ms).sort((a, b) => a - b);
        console.log(`${group.padEnd(16)} ${String(ms.length).padStart(5)} ${us(percentile(ms, 50))} ${us(percentile(ms, 99))} ${us(ms[ms.length - 1])}`);
    }
    for (const c of costs.filter((x) => x.group !== "corpus (0.4.0)")) console.log(`  ${`${c.group}: ${c.what}`.padEnd(60)} ${String(c.text.length).padStart(8)} B ${us(c.ms)} µs`);
    const over = costs.filter((c) => c.group !== "large" && c.ms > GROK_BUDGET_MS);
    for (const c of over) console.log(`OVER BUDGET: ${c.group} ${c.what}`);
    return over.length;
}

deliveryBenchmark()
    .then(async (missed) => {
        const over = await djangoGrok();
        if (missed > 0 || over > 0) process.exitCode = 1;
    })
    .catch((error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
    });
