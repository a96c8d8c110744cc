/**
 * `npm run test:times`: runs the test suite once and prints where the time goes: the run's wall time and CPU time,
 * then per test file its wall time, the CPU time its jest worker and the processes it started spent on it (read by
 * tests/support/environment.js), its number of tests and its slowest test, and the slowest tests overall.
 * A process's CPU time reaches its parent's figure when the parent waits for it: a process that outlives its parent
 * is in no file's figure, and one the worker reaps late (a process killed and not waited for) lands in the next file's.
 * The machine's busy time over the run counts everything, on a quiet machine the run's true cost.
 *
 *   npm run test:times [-- --slowest 20] [-- <jest args>]
 *
 * On a loaded machine wall times stretch with the load while CPU times hardly move: compare CPU times between runs
 * on a shared machine, wall times only between runs on a quiet one.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";

const ROOT = path.join(__dirname, "..");

interface JestJson {
    readonly numTotalTests: number;
    readonly numPassedTests: number;
    readonly numFailedTests: number;
    readonly testResults: {
        readonly name: string;
        readonly startTime: number;
        readonly endTime: number;
        readonly assertionResults: { readonly fullName: string; readonly duration?: number | null }[];
    }[];
}

interface FileCost {
    readonly file: string;
    readonly wallMs: number;
    readonly cpuMs: number;
    readonly childCpuMs: number;
}

/** CPU seconds of the children this process has waited for (jest and, through it, its workers). */
function childrenCpuSeconds(): number {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * CPU seconds the whole machine has spent busy since boot (/proc/stat: user, nice, system, irq, softirq; not steal,
 * the time a virtual machine's host gave to other guests; in USER_HZ, 100 per second on Linux).
 * Over a run on an otherwise quiet machine, the run's true cost: it also counts what the per-file figures miss, the
 * processes a test started that outlived their parent (a killed command's own children), which no process waits for
 * and whose time therefore lands in no parent's figure.
 */
function machineBusySeconds(): number {
    const [user, nice, system, , , irq, softirq] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq) / 100;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

function main(): number {
    const { values, positionals } = parseArgs({ options: { slowest: { type: "string", default: "15" } }, allowPositionals: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-test-times-"));
    const json = path.join(dir, "results.json");
    const trace = path.join(dir, "trace");
    const load = os.loadavg().map((l) => l.toFixed(1)).join(" ");
    const started = Date.now();
    const cpuBefore = childrenCpuSeconds();
    const busyBefore = machineBusySeconds();
    const run = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "jest", "bin", "jest.js"), "--ci", "--json", `--outputFile=${json}`, ...positionals], {
        cwd: ROOT,
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, ELK_TEST_TRACE: trace },
    });
    const wall = Date.now() - started;
    const cpu = childrenCpuSeconds() - cpuBefore;
    const busy = machineBusySeconds() - busyBefore;
    if (!fs.existsSync(json)) {
        console.error(`jest wrote no results (exit ${run.status ?? run.signal}); see its output above`);
        return 1;
    }
    const results = JSON.parse(fs.readFileSync(json, "utf8")) as JestJson;
    const costs = new Map<string, FileCost>();
    const costFile = path.join(trace, "files.jsonl");
    if (fs.existsSync(costFile)) {
        for (const line of fs.readFileSync(costFile, "utf8").split("\n").filter(Boolean)) {
            const cost = JSON.parse(line) as FileCost;
            costs.set(cost.file, cost);
        }
    }
    console.log(`\n${results.numTotalTests} tests (${results.numPassedTests} passed, ${results.numFailedTests} failed), ${results.testResults.length} files`);
    console.log(`wall ${seconds(wall)} s, CPU ${cpu.toFixed(1)} s (jest, its workers and every process they waited for), machine busy ${busy.toFixed(1)} s (every process, the run's own and any other), ${os.cpus().length} CPUs, load average at the start ${load}, at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    console.log("\nper file (s): wall, CPU of the worker, CPU of the processes it started, tests, slowest test");
    const rows = results.testResults.map((r) => {
        const file = path.relative(ROOT, r.name);
        const cost = costs.get(file);
        const slowest = [...r.assertionResults].sort((a, b) => (b.duration ?? 0) - (a.duration ?? 0))[0];
        return { file, wall: r.endTime - r.startTime, cost, tests: r.assertionResults.length, slowest };
    });
    rows.sort((a, b) => (b.cost ? b.cost.cpuMs + b.cost.childCpuMs : b.wall) - (a.cost ? a.cost.cpuMs + a.cost.childCpuMs : a.wall));
    for (const r of rows) {
        const cpuCols = r.cost ? `${seconds(r.cost.cpuMs).padStart(6)} ${seconds(r.cost.childCpuMs).padStart(6)}` : "     ?      ?";
        const slow = r.slowest ? `${seconds(r.slowest.duration ?? 0)} ${r.slowest.fullName.slice(0, 70)}` : "";
        console.log(`${seconds(r.wall).padStart(6)} ${cpuCols} ${String(r.tests).padStart(4)}  ${r.file.padEnd(34)} ${slow}`);
    }
    const sumWall = rows.reduce((n, r) => n + r.wall, 0);
    const sumCpu = rows.reduce((n, r) => n + (r.cost ? r.cost.cpuMs + r.cost.childCpuMs : 0), 0);
    console.log(`sum over files: wall ${seconds(sumWall)} s, CPU ${seconds(sumCpu)} s`);
    const tests = results.testResults.flatMap((r) => r.assertionResults.map((a) => ({ file: path.relative(ROOT, r.name), name: a.fullName, ms: a.duration ?? 0 })));
    tests.sort((a, b) => b.ms - a.ms);
    console.log(`\nslowest tests (s, wall):`);
    for (const t of tests.slice(0, Number(values.slowest))) console.log(`${seconds(t.ms).padStart(6)}  ${t.file}: ${t.name.slice(0, 110)}`);
    fs.rmSync(dir, { recursive: true, force: true });
    return run.status ?? 1;
}

process.exit(main());
