// A watchdog in jest's main process: a test run that stops making progress fails, naming what it was running,
// instead of waiting for CI's limit. Every test and hook of the suite has a jest timeout of at most 300 s, so a test
// file from which no test has started or ended for ELK_TEST_STALL_SECONDS (600 by default) is one where jest's own
// timeout could not fire: a worker blocked in a synchronous call, or one that died and was never replaced (jest 29
// waits for ever on a worker killed by a signal: jestjs/jest#13976). The reporter then prints each running file, how
// long it has been silent and the last thing it reported, kills the workers and ends the run with status 1.
const fs = require("fs");

const DEFAULT_STALL_SECONDS = 600;

/** Kills this process's children (the jest workers), which may be blocked and would outlive the run otherwise. */
function killWorkers() {
    let entries = [];
    try {
        entries = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
    } catch {
        return;
    }
    for (const pid of entries) {
        try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
            if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid) process.kill(Number(pid), "SIGKILL");
        } catch {
            // Gone meanwhile, or not ours to read.
        }
    }
}

class StallReporter {
    constructor(globalConfig) {
        this.limitMs = 1000 * (Number(process.env.ELK_TEST_STALL_SECONDS) || DEFAULT_STALL_SECONDS);
        this.rootDir = globalConfig.rootDir;
        /** Running test files: path -> when it last reported, and what. */
        this.running = new Map();
        this.timer = undefined;
    }

    relative(path) {
        return path.startsWith(`${this.rootDir}/`) ? path.slice(this.rootDir.length + 1) : path;
    }

    note(test, what) {
        this.running.set(test.path, { at: Date.now(), what });
    }

    onRunStart() {
        this.timer = setInterval(() => this.check(), Math.min(15_000, this.limitMs / 4));
        this.timer.unref();
    }

    onTestFileStart(test) {
        this.note(test, "loading the file (no test started yet)");
    }

    onTestCaseStart(test, info) {
        this.note(test, `running the test "${info.fullName}"`);
    }

    onTestCaseResult(test, result) {
        this.note(test, `after the test "${result.fullName}" (${result.status}): in a hook, or starting the next test`);
    }

    onTestFileResult(test) {
        this.running.delete(test.path);
    }

    onRunComplete() {
        clearInterval(this.timer);
    }

    check() {
        const now = Date.now();
        const stalled = [...this.running].filter(([, s]) => now - s.at > this.limitMs);
        if (stalled.length === 0) return;
        const lines = [
            "",
            `STALLED: no test started or ended for more than ${this.limitMs / 1000} s in a running test file, though every test and hook has a shorter jest timeout (ELK_TEST_STALL_SECONDS). Ending the run.`,
            ...[...this.running].map(([path, s]) => `  ${this.relative(path)}: silent for ${Math.round((now - s.at) / 1000)} s, last ${s.what}`),
            "",
        ];
        process.stderr.write(lines.join("\n"));
        killWorkers();
        process.exit(1);
    }
}

module.exports = StallReporter;
