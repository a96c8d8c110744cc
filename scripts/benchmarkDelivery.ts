/**
 * Benchmark of the Django delivery path (printed figures, not a test): the generated handler's cost per logging
 * call, with Logstash up and with it down, next to the standard library's SysLogHandler in the same Python
 * process; and sustained records per second over TLS on loopback, counted when every record has been confirmed
 * by the listener; and what the Django pipeline's groks cost per line on Oniguruma, for the captured corpus (0.4.0's
 * format) and for lines of the current format, pathological ones included. Needs /usr/bin/python3 (Django is not
 * needed: the handler is standard library only).
 *
 *     npm run benchmark            (runs this after the program benchmark)
 *     npx ts-node --transpile-only scripts/benchmarkDelivery.ts [--calls N] [--records N]
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { djangoLoggingModule } from "../components/wiring";
import { logstashPipelines, parseLogSources } from "../components/sources";
import { loadBytes, readDjangoCorpus } from "../tests/support/corpora";
import { makeTestPki } from "../tests/support/djangoScenario";
import { Grok, loadOniguruma, readPatternFiles } from "../tests/support/grok";
import { GROK_BUDGET_MS, percentile } from "./grokBenchmark";

const PYTHON = "/usr/bin/python3";

function arg(name: string, fallback: number): number {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const BENCH = String.raw`import json, logging, logging.handlers, os, socket, sys, time
import django_logging as m

calls, records, up_port, down_port = (int(x) for x in sys.argv[1:5])
fmt = logging.Formatter("%(message)s")

def per_call(handler, n):
    log = logging.getLogger("bench.%d" % id(handler))
    log.propagate = False
    log.handlers = [handler]
    log.setLevel(logging.INFO)
    samples = []
    for i in range(n):
        t = time.perf_counter_ns()
        log.info("GET /checkout/ 200 user=%d took %d ms", i, i % 97)
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    return {"p50_us": samples[len(samples) // 2] / 1000, "p99_us": samples[int(len(samples) * 0.99)] / 1000}

def handler(port, **kw):
    h = m.LogstashHandler(host="localhost", port=port, **kw)
    h.setFormatter(fmt)
    return h

out = {}
up = handler(up_port)
out["elk_up"] = per_call(up, calls)
up.close()
down = handler(down_port, close_timeout=0.5)
out["elk_down"] = per_call(down, calls)
down.close()
# The standard library's syslog handler: UDP to the same closed port (it does not wait for anyone either).
std = logging.handlers.SysLogHandler(address=("127.0.0.1", down_port))
std.setFormatter(fmt)
out["stdlib_syslog_udp"] = per_call(std, calls)
std.close()

# Sustained: log as fast as possible; records/s counts until the listener confirmed every record.
# close() confirms at once what is left instead of waiting idle_confirm, so the time ends with the last record.
h = handler(up_port, queue_size=records + 1, close_timeout=120)
log = logging.getLogger("bench.sustained")
log.propagate = False
log.handlers = [h]
log.setLevel(logging.INFO)
t0 = time.perf_counter()
for i in range(records):
    log.info("GET /checkout/ 200 user=%d took %d ms", i, i % 97)
logged = time.perf_counter() - t0
h.close()
elapsed = time.perf_counter() - t0
out["sustained"] = {"records": records, "confirmed": h.confirmed, "dropped": h.dropped, "seconds": elapsed, "logging_seconds": logged}
print(json.dumps(out))
`;

async function main(): Promise<void> {
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is needed`);
    const calls = arg("calls", 20_000);
    const records = arg("records", 100_000);
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
    const closed = tls.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const downPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    try {
        fs.writeFileSync(path.join(dir, "django_logging.py"), djangoLoggingModule({ host: "localhost", port: upPort, serviceName: "bench", caPath: pki.caCertPath }));
        fs.writeFileSync(path.join(dir, "bench.py"), BENCH);
        const stdout = await new Promise<string>((resolve, reject) => {
            const child = spawn(PYTHON, ["bench.py", String(calls), String(records), String(upPort), String(downPort)], { cwd: dir, env: { PATH: process.env.PATH ?? "", PYTHONPATH: dir }, stdio: ["ignore", "pipe", "inherit"] });
            let out = "";
            child.stdout.on("data", (b: Buffer) => (out += b.toString()));
            child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`bench.py exited with ${code}`))));
        });
        const r = JSON.parse(stdout) as Record<string, { p50_us?: number; p99_us?: number; records?: number; confirmed?: number; dropped?: number; seconds?: number; logging_seconds?: number }>;
        const cost = (k: string) => `${(r[k].p50_us ?? 0).toFixed(1)} / ${(r[k].p99_us ?? 0).toFixed(1)}`;
        console.log(`Django handler, cost per logging call (p50 / p99 µs, ${calls} calls, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? "?"}):`);
        console.log(`  LogstashHandler, Logstash up      ${cost("elk_up")}`);
        console.log(`  LogstashHandler, Logstash down    ${cost("elk_down")}`);
        console.log(`  stdlib SysLogHandler (UDP)        ${cost("stdlib_syslog_udp")}`);
        const s = r.sustained;
        console.log(`Sustained over TLS on loopback: ${s.confirmed}/${s.records} records confirmed in ${(s.seconds ?? 0).toFixed(2)} s = ${Math.round((s.confirmed ?? 0) / (s.seconds ?? 1))} records/s (logging calls took ${(s.logging_seconds ?? 0).toFixed(2)} s, ${s.dropped} dropped); the listener read ${lines} lines, ${(received / 1e6).toFixed(1)} MB`);
    } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
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

main()
    .then(() => djangoGrok())
    .then((over) => {
        if (over > 0) process.exitCode = 1;
    })
    .catch((error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
    });
