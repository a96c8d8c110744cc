/**
 * The e2e load: an HTTP load generator for nginx (each request's URI is its event id) and a Django stand-in, a
 * Python process that configures logging with the generated module's `LOGGING` (from `wiringFiles`, so it runs
 * whatever the module of this checkout does) and logs one record per event with the id in its message.
 * Both emit at a fixed rate and record when each event was emitted.
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as readline from "readline";
import type { LogSource } from "../../components/model/sources";
import { wiringFiles } from "../../components/model/wiring";
import { type EmittedEvent, eventPath } from "./accounting";
import type { RunningLoad } from "./orchestrate";

/** How often the generators check whether events are due, ms. */
const TICK_MS = 20;

/** A load of one source; `stop` returns what it emitted. */
export type SourceLoad = RunningLoad;

/**
 * Sends GET requests to nginx at `ratePerSecond`, each to `/e2e/<run>/<source>/<seq>`. An event counts as
 * emitted when nginx answered (any status): nginx writes its access line when it answers, and a request that
 * never reached it leaves no line to find. Requests that failed are counted in a note.
 */
export function startHttpLoad(o: { baseUrl: string; run: string; source: string; ratePerSecond: number; requestTimeoutMs?: number; now?: () => number }): SourceLoad {
    const now = o.now ?? Date.now;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const emitted: EmittedEvent[] = [];
    const inFlight = new Set<Promise<void>>();
    let failed = 0;
    let lastError = "";
    let seq = 0;
    const started = now();
    const send = (n: number) => {
        const at = now();
        const p = new Promise<void>((resolve) => {
            const req = http.get(`${o.baseUrl}${eventPath(o.run, o.source, n)}`, { agent, timeout: o.requestTimeoutMs ?? 10_000 }, (res) => {
                res.resume();
                res.on("end", () => {
                    emitted.push({ source: o.source, seq: n, emittedAt: at });
                    resolve();
                });
            });
            req.on("timeout", () => req.destroy(new Error("timed out")));
            req.on("error", (err) => {
                failed++;
                lastError = err.message;
                resolve();
            });
        });
        inFlight.add(p);
        void p.then(() => inFlight.delete(p));
    };
    const timer = setInterval(() => {
        const due = Math.floor(((now() - started) * o.ratePerSecond) / 1000);
        while (seq < due) send(seq++);
    }, TICK_MS);
    let stopped: Promise<{ emitted: EmittedEvent[]; notes: string[] }> | undefined;
    return {
        emitted: () => emitted,
        stop: () => {
            stopped ??= (async () => {
                clearInterval(timer);
                await Promise.all([...inFlight]);
                agent.destroy();
                const notes = failed > 0 ? [`nginx:${o.source}: ${failed} of ${seq} requests got no answer (last: ${lastError}); they are not counted as sent`] : [];
                return { emitted: [...emitted].sort((a, b) => a.seq - b.seq), notes };
            })();
            return stopped;
        },
    };
}

/**
 * The Django stand-in: imports the generated module, applies its `LOGGING` with `logging.config.dictConfig` (what
 * Django does with settings.LOGGING), logs `e2e event /e2e/<run>/<source>/<seq>` at the rate given, printing
 * "<seq> <epoch ms>" for each record handed to logging. When its stdin closes it stops, shuts logging down (the
 * handler delivers what it queued) and prints a JSON summary with what the handler says it dropped.
 */
export const DJANGO_STAND_IN = String.raw`
import importlib, json, logging, logging.config, sys, threading, time

module_dir, module_name, run, source, rate = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
sys.path.insert(0, module_dir)
wiring = importlib.import_module(module_name)
logging.config.dictConfig(wiring.LOGGING)
log = logging.getLogger("e2e.load")
stop = threading.Event()

def wait_for_stdin():
    sys.stdin.read()
    stop.set()

threading.Thread(target=wait_for_stdin, daemon=True).start()
out = sys.stdout
start = time.time()
seq = 0
while not stop.is_set():
    due = int((time.time() - start) * rate)
    while seq < due:
        emitted = time.time()
        log.info("e2e event /e2e/%s/%s/%d", run, source, seq)
        out.write("%d %d\n" % (seq, int(emitted * 1000)))
        seq += 1
    out.flush()
    time.sleep(0.02)
handlers = list(logging.getLogger().handlers)
shutdown_started = time.time()
logging.shutdown()
dropped = sum(getattr(h, "dropped", 0) or 0 for h in handlers)
out.write(json.dumps({"emitted": seq, "dropped": dropped, "shutdown_seconds": round(time.time() - shutdown_started, 3)}) + "\n")
out.flush()
`;

/** Where the stand-in's Logstash is, as this machine reaches it, and the CA that vouches for it. */
export interface DjangoTarget {
    readonly source: LogSource;
    /** A name in Logstash's certificate that reaches it from here. */
    readonly host: string;
    readonly port: number;
    readonly caPath: string;
}

/** Starts the stand-in in `workDir` (the generated module is written there) with `python`. */
export function startDjangoLoad(o: { target: DjangoTarget; run: string; ratePerSecond: number; workDir: string; python?: string }): SourceLoad {
    const { source } = o.target;
    const file = wiringFiles([source], o.target.host, o.target.caPath, () => o.target.port).find((f) => f.fileName.endsWith(".py"));
    if (file === undefined) throw new Error(`wiringFiles wrote no Python module for ${source.kind}:${source.name}`);
    fs.mkdirSync(o.workDir, { recursive: true });
    fs.writeFileSync(path.join(o.workDir, file.fileName), file.content);
    const child: ChildProcess = spawn(o.python ?? "python3", ["-c", DJANGO_STAND_IN, o.workDir, file.fileName.replace(/\.py$/, ""), o.run, source.name, String(o.ratePerSecond)], {
        stdio: ["pipe", "pipe", "pipe"],
    });
    const emitted: EmittedEvent[] = [];
    const notes: string[] = [];
    const stderr: string[] = [];
    let summary: { emitted: number; dropped: number; shutdown_seconds: number } | undefined;
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        const m = /^(\d+) (\d+)$/.exec(line);
        if (m) emitted.push({ source: source.name, seq: Number(m[1]), emittedAt: Number(m[2]) });
        else if (line.startsWith("{")) summary = JSON.parse(line) as typeof summary;
    });
    child.stderr?.on("data", (b: Buffer) => {
        // The handler reports connection trouble on stderr: keep the last lines for the report.
        stderr.push(...b.toString().split("\n").filter(Boolean));
        stderr.splice(0, Math.max(0, stderr.length - 20));
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let stopped: Promise<{ emitted: EmittedEvent[]; notes: string[] }> | undefined;
    return {
        emitted: () => emitted,
        stop: () => {
            stopped ??= (async () => {
                child.stdin?.end();
                // The handler gives itself a few seconds to deliver its queue at shutdown; allow for that and more.
                const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
                const code = await exited;
                clearTimeout(timer);
                if (summary === undefined) {
                    notes.push(`django:${source.name}: the stand-in exited with ${String(code)} before its summary${stderr.length > 0 ? `: ${stderr.slice(-3).join(" | ")}` : ""}`);
                } else {
                    notes.push(`django:${source.name}: the handler reports ${summary.dropped} records dropped from its bounded queue; logging.shutdown took ${summary.shutdown_seconds} s`);
                    if (summary.emitted !== emitted.length) notes.push(`django:${source.name}: the stand-in says it logged ${summary.emitted} records, ${emitted.length} were read back`);
                }
                const said = stderr.filter((l) => l.startsWith("elk-stack logging:"));
                if (said.length > 0) notes.push(`django:${source.name}: the handler said: ${said.slice(-3).join(" | ")}`);
                return { emitted, notes };
            })();
            return stopped;
        },
    };
}

/** Several loads as one: emitted is their union, stop stops them all. */
export function combineLoads(loads: readonly SourceLoad[]): RunningLoad {
    return {
        emitted: () => loads.flatMap((l) => l.emitted()),
        stop: async () => {
            const results = await Promise.all(loads.map((l) => l.stop()));
            return { emitted: results.flatMap((r) => r.emitted), notes: results.flatMap((r) => r.notes) };
        },
    };
}

/**
 * nginx.conf for the e2e nginx: the generated snippet included inside `http { }`, a server answering 204 on
 * `listen` for every `/e2e/` URI. `prefix` puts the pid and temporary files there, for a run as a normal user.
 */
export function e2eNginxConf(o: { snippetPath: string; listen: string; prefix?: string; user?: string }): string {
    const p = o.prefix;
    return `${o.user !== undefined ? `user ${o.user};\n` : ""}worker_processes 1;
${p !== undefined ? `pid ${p}/nginx.pid;\nerror_log ${p}/error.log notice;\n` : ""}events { worker_connections 1024; }
http {
${p !== undefined ? ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `    ${t}_temp_path ${p}/${t};`).join("\n") + "\n" : ""}    include ${o.snippetPath};
    server {
        listen ${o.listen};
        location /e2e/ { return 204; }
        location / { return 404; }
    }
}
`;
}
