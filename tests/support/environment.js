// The test environment: jest's node environment, plus a trace of where each worker is and what each file cost. With
// ELK_TEST_TRACE set to a directory, every worker appends one line per hook and test it starts and ends to
// <dir>/<pid>.log, so a run that stops making progress shows which file, hook or test each worker was in
// (scripts/hangHunt.ts reads these), and one JSON line per test file to <dir>/files.jsonl: its wall time and the CPU
// time its worker and the child processes it waited for spent on it, which load on the machine hardly changes
// (scripts/testTimes.ts prints them).
const fs = require("fs");
const path = require("path");
const { TestEnvironment } = require("jest-environment-node");

const TRACE_DIR = process.env.ELK_TEST_TRACE;
if (TRACE_DIR) fs.mkdirSync(TRACE_DIR, { recursive: true });

/** The names of a test or hook and of the describe blocks around it, outermost first. */
function fullName(block) {
    const names = [];
    for (let b = block; b && b.name !== "ROOT_DESCRIBE_BLOCK"; b = b.parent) names.unshift(b.name);
    return names.join(" › ");
}

/** CPU milliseconds of this process, and of its children that have ended and been waited for (from /proc). */
function cpuMs() {
    const own = process.cpuUsage();
    let children = 0;
    try {
        const stat = fs.readFileSync("/proc/self/stat", "utf8");
        // Fields after the command name (which may hold spaces): cutime and cstime are the 14th and 15th.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        children = ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
    } catch {
        // No /proc: children are not counted.
    }
    return { own: (own.user + own.system) / 1000, children };
}

/**
 * The resources that keep this process's event loop alive (process.getActiveResourcesInfo() lists only those), with
 * what each ref'd handle is: a child process's command and pid, a server's or socket's address.
 */
function keepingAlive() {
    const described = [];
    for (const handle of process._getActiveHandles()) {
        if (typeof handle.hasRef === "function" && !handle.hasRef()) continue;
        if (handle.spawnfile !== undefined) described.push(`process ${handle.pid}${handle.exitCode !== null || handle.signalCode !== null ? " (ended)" : ""} ${[handle.spawnfile, ...(handle.spawnargs ?? []).slice(1, 3)].join(" ")}`);
        else if (typeof handle.listen === "function" && typeof handle.address === "function") described.push(`server ${JSON.stringify(handle.address())}`);
        else if (handle.remotePort !== undefined) described.push(`socket ${handle.localPort}->${handle.remotePort}`);
    }
    const timers = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    if (timers > 0) described.push(`${timers} timers`);
    return described;
}

class ElkTestEnvironment extends TestEnvironment {
    constructor(config, context) {
        super(config, context);
        this.testFile = path.relative(config.projectConfig.rootDir, context.testPath);
    }

    trace(event, what) {
        if (!TRACE_DIR) return;
        const line = `${new Date().toISOString()} ${this.testFile} ${event}${what ? ` ${what}` : ""}\n`;
        fs.appendFileSync(path.join(TRACE_DIR, `${process.pid}.log`), line);
    }

    async setup() {
        this.started = { at: Date.now(), cpu: cpuMs() };
        this.trace("file_start");
        await super.setup();
    }

    async teardown() {
        this.trace("file_end");
        const cpu = cpuMs();
        await super.teardown();
        if (TRACE_DIR && this.started) {
            const line = {
                file: this.testFile,
                wallMs: Date.now() - this.started.at,
                cpuMs: Math.round(cpu.own - this.started.cpu.own),
                childCpuMs: Math.round(cpu.children - this.started.cpu.children),
                // The worker's resident memory after the file: growth from file to file in one worker is a leak.
                rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
                worker: process.pid,
                // What keeps the worker's event loop alive once the file is done (unref'd timers and handles are not
                // listed; jest's own pipes are): a worker that jest cannot end without force shows here what it held.
                keepsAlive: keepingAlive(),
            };
            fs.appendFileSync(path.join(TRACE_DIR, "files.jsonl"), JSON.stringify(line) + "\n");
        }
    }

    handleTestEvent(event) {
        switch (event.name) {
            case "hook_start":
                this.trace("hook_start", `${event.hook.type} in ${fullName(event.hook.parent) || "(file)"}`);
                break;
            case "hook_success":
            case "hook_failure":
                this.trace(event.name, event.hook.type);
                break;
            case "test_fn_start":
                this.trace("test_start", fullName(event.test));
                break;
            case "test_fn_success":
            case "test_fn_failure":
                this.trace(event.name === "test_fn_success" ? "test_pass" : "test_fail", fullName(event.test));
                break;
            default:
                break;
        }
    }
}

module.exports = ElkTestEnvironment;
