/**
 * `npm run test:hang-hunt`: runs the whole test suite again and again on a loaded machine, to catch a run that
 * stops for good (issue 21: two runs on a loaded two-core machine sat with both jest workers idle, and no test
 * timeout fired).
 *
 * Each round starts `--parallel` full `jest --ci` runs at once beside `--hogs` CPU hogs (busy loops), and watches
 * them. Every jest worker writes where it is to a trace (tests/support/environment.js, `ELK_TEST_TRACE`): a hook or
 * a test starting or ending. No test or hook may take longer than its jest timeout (at most 300 s here), so when a
 * run's trace has not moved for `--stall-seconds` (default 420) jest's own timeout did not fire: the run is hung.
 * (The suite's own watchdog, tests/support/stallReporter.js, would end such a run too; here it is given 300 s more,
 * so that this script sees the stall first.)
 * A worker is stuck when its last trace line starts a file, a hook or a test that long ago; a run is also hung when
 * no worker has written anything that long (jest's main process waiting on a worker that is gone). The script then
 * records what each process of the run was doing (the process tree with each process's kernel wait channel and
 * state, the children the workers wait on, the last trace lines of each worker, a Node.js diagnostic report of each
 * worker whose event loop still turns, and each stuck worker's native thread stacks from gdb when it is installed),
 * kills the run and goes on. A run that ends is recorded with its wall time and its tests' tally.
 *
 *   npm run test:hang-hunt -- --rounds 10 --parallel 2 --hogs 2 [--out DIR] [--stall-seconds 420] [-- <jest args>]
 *
 * Prints one line per run and a summary; exits 1 when a run hung or failed. Everything a run wrote stays in
 * `--out` (default: a new directory under the system's temporary directory): `run-<r>-<p>/{stdout,stderr}`, the
 * `trace/` of its workers and, for a hung run, `hang.txt` and the workers' `report.*.json`.
 */
import { type ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";

const ROOT = path.join(__dirname, "..");

interface RunResult {
    readonly name: string;
    readonly outcome: "passed" | "failed" | "hung";
    readonly seconds: number;
    readonly tally: string;
}

/** The pids of `pid` and of all its descendants, from /proc. */
function processTree(pid: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // The command name may hold spaces and parentheses: the fields after it start after the last ")".
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        } catch {
            // The process ended while the tree was read.
        }
    }
    const out: number[] = [];
    const walk = (p: number) => {
        out.push(p);
        for (const c of children.get(p) ?? []) walk(c);
    };
    walk(pid);
    return out;
}

function readOr(file: string, fallback: string): string {
    try {
        return fs.readFileSync(file, "utf8").trim();
    } catch {
        return fallback;
    }
}

/** What each process of a hung run is doing, the last trace lines of each worker, and a report of each node worker. */
function describeHang(jest: ChildProcess, runDir: string, traceDir: string, stuck: number[]): string {
    const lines: string[] = [`hung at ${new Date().toISOString()}`, "", "processes (pid ppid state wchan command):"];
    const pids = processTree(jest.pid as number);
    for (const pid of pids) {
        const stat = readOr(`/proc/${pid}/stat`, "");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const cmd = readOr(`/proc/${pid}/cmdline`, "?").replace(/\0/g, " ").slice(0, 200);
        lines.push(`${pid} ${fields[1]} ${fields[0]} ${readOr(`/proc/${pid}/wchan`, "?")} ${cmd}`);
        const kernelStack = readOr(`/proc/${pid}/stack`, "");
        if (kernelStack) lines.push(kernelStack.split("\n").map((l) => `    ${l}`).join("\n"));
    }
    lines.push("", "last trace lines per worker:");
    for (const file of fs.existsSync(traceDir) ? fs.readdirSync(traceDir) : []) {
        const trace = readOr(path.join(traceDir, file), "").split("\n");
        lines.push(`worker ${file}:`, ...trace.slice(-4).map((l) => `    ${l}`));
    }
    // Node writes a diagnostic report (JavaScript stack, libuv handles: timers, sockets, child processes) on SIGUSR2
    // when its event loop turns; a worker blocked in a synchronous call writes none, which says as much.
    for (const pid of pids.slice(1)) {
        if (readOr(`/proc/${pid}/cmdline`, "").includes("jest-worker")) {
            try {
                process.kill(pid, "SIGUSR2");
            } catch {
                // Gone already.
            }
        }
    }
    execFileSync("sleep", ["5"]);
    const reports = fs.readdirSync(runDir).filter((f) => f.startsWith("report."));
    lines.push("", `node reports written: ${reports.join(", ") || "none (every worker's event loop is blocked)"}`);
    lines.push("", stuck.length > 0 ? `workers stuck inside a file: ${stuck.join(", ")}` : "no worker is inside a file: jest's main process waits on a worker that is gone");
    for (const pid of stuck) lines.push("", `native stacks of worker ${pid}:`, nativeStacks(pid));
    return lines.join("\n") + "\n";
}

/**
 * Whether a run is hung: undefined while it moves, else the pids of the workers stuck inside a file (their last
 * trace line starts a file, a hook or a test, longer ago than `stallMs`), which is empty when every worker sits
 * idle after its last file but no line has been written for `stallMs` (jest's main process waits on a worker that
 * is gone).
 */
function stalledWorkers(traceDir: string, started: number, stallMs: number): number[] | undefined {
    const now = Date.now();
    let newest = started;
    const stuck: number[] = [];
    for (const file of fs.readdirSync(traceDir).filter((f) => /^\d+\.log$/.test(f))) {
        const last = readOr(path.join(traceDir, file), "").split("\n").pop() ?? "";
        const [at, , event] = last.split(" ");
        const when = Date.parse(at);
        if (Number.isNaN(when)) continue;
        newest = Math.max(newest, when);
        if ((event ?? "").endsWith("_start") && now - when > stallMs) stuck.push(Number(file.replace(/\.log$/, "")));
    }
    return stuck.length > 0 || now - newest > stallMs ? stuck : undefined;
}

/** Each thread's native stack of a process, from gdb when it is installed (what found the crypto deadlock). */
function nativeStacks(pid: number): string {
    try {
        return execFileSync("gdb", ["-p", String(pid), "-batch", "-ex", "set pagination off", "-ex", "thread apply all bt 30"], {
            encoding: "utf8",
            timeout: 120_000,
            stdio: ["ignore", "pipe", "pipe"],
        });
    } catch (error) {
        return `no native stacks (gdb missing or failed: ${(error as Error).message.split("\n")[0]})`;
    }
}

function tallyOf(stdout: string): string {
    return /^tests: .*$/m.exec(stdout)?.[0] ?? "no tally";
}

/** Starts one full jest run and resolves when it ends or is found hung (and killed). */
function oneRun(name: string, outDir: string, stallSeconds: number, jestArgs: string[]): Promise<RunResult> {
    const runDir = path.join(outDir, name);
    const traceDir = path.join(runDir, "trace");
    fs.mkdirSync(traceDir, { recursive: true });
    const stdout = fs.openSync(path.join(runDir, "stdout"), "w");
    const stderr = fs.openSync(path.join(runDir, "stderr"), "w");
    const started = Date.now();
    const jest = spawn(process.execPath, [path.join(ROOT, "node_modules", "jest", "bin", "jest.js"), "--ci", ...jestArgs], {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", stdout, stderr],
        env: {
            ...process.env,
            ELK_TEST_TRACE: traceDir,
            // The suite's own watchdog (tests/support/stallReporter.js) ends a stalled run; it waits longer than this
            // script, so that the script sees the stall first and records what each process was doing.
            ELK_TEST_STALL_SECONDS: String(stallSeconds + 300),
            NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --report-on-signal --report-signal=SIGUSR2 --report-directory=${runDir}`.trim(),
        },
    });
    return new Promise((resolve) => {
        let hung = false;
        const watch = setInterval(() => {
            const stuck = stalledWorkers(traceDir, started, stallSeconds * 1000);
            if (stuck === undefined) return;
            clearInterval(watch);
            fs.writeFileSync(path.join(runDir, "hang.txt"), describeHang(jest, runDir, traceDir, stuck));
            try {
                process.kill(-(jest.pid as number), "SIGKILL");
            } catch {
                // Ended on its own meanwhile.
            }
            hung = true;
        }, 5000);
        jest.on("exit", (code) => {
            clearInterval(watch);
            const seconds = Math.round((Date.now() - started) / 1000);
            const tally = tallyOf(readOr(path.join(runDir, "stdout"), ""));
            resolve({ name, outcome: hung ? "hung" : code === 0 ? "passed" : "failed", seconds, tally });
        });
    });
}

async function main(): Promise<number> {
    const { values, positionals } = parseArgs({
        options: {
            rounds: { type: "string", default: "10" },
            parallel: { type: "string", default: "2" },
            hogs: { type: "string", default: "2" },
            "stall-seconds": { type: "string", default: "420" },
            out: { type: "string" },
        },
        allowPositionals: true,
    });
    const rounds = Number(values.rounds);
    const parallel = Number(values.parallel);
    const hogCount = Number(values.hogs);
    const stall = Number(values["stall-seconds"]);
    if (![rounds, parallel, stall].every((n) => Number.isInteger(n) && n > 0) || !Number.isInteger(hogCount) || hogCount < 0) {
        console.error("--rounds, --parallel and --stall-seconds take a positive whole number, --hogs a whole number");
        return 2;
    }
    const outDir = values.out ?? fs.mkdtempSync(path.join(os.tmpdir(), "elk-hang-hunt-"));
    fs.mkdirSync(outDir, { recursive: true });
    console.log(`hang hunt: ${rounds} rounds of ${parallel} full runs beside ${hogCount} CPU hogs on ${os.cpus().length} CPUs; logs in ${outDir}`);
    const hogs = Array.from({ length: hogCount }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
    const stopHogs = () => hogs.forEach((h) => h.kill("SIGKILL"));
    process.on("exit", stopHogs);
    process.on("SIGINT", () => process.exit(130));
    const results: RunResult[] = [];
    try {
        for (let r = 1; r <= rounds; r++) {
            const load = os.loadavg()[0].toFixed(1);
            const round = await Promise.all(Array.from({ length: parallel }, (_, p) => oneRun(`run-${r}-${p + 1}`, outDir, stall, positionals)));
            for (const result of round) {
                console.log(`${result.name}: ${result.outcome} in ${result.seconds} s (${result.tally}; load average ${load} at the start)`);
                if (result.outcome === "hung") console.log(`  what each process was doing: ${path.join(outDir, result.name, "hang.txt")}`);
            }
            results.push(...round);
        }
    } finally {
        stopHogs();
    }
    const hung = results.filter((r) => r.outcome === "hung").length;
    const failed = results.filter((r) => r.outcome === "failed").length;
    const times = results.filter((r) => r.outcome !== "hung").map((r) => r.seconds).sort((a, b) => a - b);
    const median = times.length > 0 ? times[Math.floor(times.length / 2)] : NaN;
    console.log(`${results.length} runs: ${results.length - hung - failed} passed, ${failed} failed, ${hung} hung; median ${median} s, slowest ${times[times.length - 1] ?? NaN} s`);
    return hung + failed > 0 ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (error: unknown) => {
        console.error(error);
        process.exit(1);
    },
);
