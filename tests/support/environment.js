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
        if (TRACE_DIR && this.started) {
            const cpu = cpuMs();
            const line = {
                file: this.testFile,
                wallMs: Date.now() - this.started.at,
                cpuMs: Math.round(cpu.own - this.started.cpu.own),
                childCpuMs: Math.round(cpu.children - this.started.cpu.children),
                // The worker's resident memory after the file: growth from file to file in one worker is a leak.
                rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
                worker: process.pid,
            };
            fs.appendFileSync(path.join(TRACE_DIR, "files.jsonl"), JSON.stringify(line) + "\n");
        }
        await super.teardown();
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
