/**
 * What the Django delivery fault tests share (tests/django.faults.test.ts, tests/django.accounting.test.ts): an app
 * under real Django (Debian's python3-django) that logs a plan of records through the generated module, a TLS
 * listener standing in for Logstash that can be down, killed, stalled or half-open, and the ledger of what arrived.
 * Two files, so that jest runs their waits beside each other and beside other files.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { type LogSource, parseLogSources } from "../../components/model/sources";
import { djangoLoggingModule } from "../../components/model/wiring";
import { loadPipeline } from "./corpora";
import { type Ledger, ledger } from "./deliveryLedger";
import { SYSTEM_PYTHON, type TestPki, makeTestPki, systemDjangoVersion } from "./djangoScenario";
import { type FaultyLogstash, type FaultyLogstashOptions, startFaultyLogstash } from "./faultyLogstash";
import type { Pipeline } from "./logstash";
import { waitFor } from "./syslogCapture";

/** Django's version under /usr/bin/python3, or undefined when it cannot import django. */
export const django = systemDjangoVersion();

/**
 * `describe` where real Django runs, else `describe.skip` with the reason printed (an error with
 * ELK_REQUIRE_LIVE_TOOLS=1, as CI sets it: there the tests must run).
 */
export function describeLive(file: string): jest.Describe {
    if (!django) console.warn(`SKIPPED ${file}: /usr/bin/python3 cannot import django (apt-get install python3-django).`);
    if (!django && process.env.ELK_REQUIRE_LIVE_TOOLS === "1") throw new Error("ELK_REQUIRE_LIVE_TOOLS=1 but /usr/bin/python3 with django is missing");
    return django ? describe : describe.skip;
}

/** Records the app logs: `count` messages `<prefix> <n> <filler>`, one every `interval` seconds. */
export interface Burst {
    readonly prefix: string;
    readonly count: number;
    readonly size?: number;
    readonly interval?: number;
}
/**
 * `marker`: a line written to stderr once every record before it is queued, for a test to act on; `awaitFile`: waits
 * (up to 60 s) until the test has created that file.
 */
export type Step =
    | Burst
    | { readonly messages: readonly string[] }
    | { readonly sleep: number }
    | { readonly fds: number }
    | { readonly child: readonly string[] }
    | { readonly marker: string }
    | { readonly awaitFile: string };

const SETTINGS = `import inspect, json, os
SECRET_KEY = "elk-stack test only"
INSTALLED_APPS = []
USE_TZ = True
from django_logging import LOGGING, LogstashHandler  # noqa: E402  the module under test
# The handler's own timing, faster: every option whose default is a float is a time in seconds; a case that runs the
# defaults ten times faster sets ELK_TEST_TIME_SCALE=0.1 (and logs ten times faster) instead of naming the options.
scale = float(os.environ.get("ELK_TEST_TIME_SCALE", "1"))
for name, option in inspect.signature(LogstashHandler.__init__).parameters.items():
    if scale != 1 and isinstance(option.default, float):
        LOGGING["handlers"]["elk"][name] = option.default * scale
# Handler options for the case (timeouts, queue size), given the way a user would: in LOGGING.
LOGGING["handlers"]["elk"].update(json.loads(os.environ.get("ELK_TEST_HANDLER", "{}")))
`;

const EMIT = `import json, logging, multiprocessing, os, resource, sys, time
import django

django.setup()
log = logging.getLogger("shop.faults")
kept = []


def child(texts):
    for text in texts:
        log.info("%s", text)


for step in json.load(open(sys.argv[1], encoding="utf-8")):
    if "sleep" in step:
        time.sleep(step["sleep"])
    elif "marker" in step:
        sys.stderr.write(step["marker"] + "\\n")
        sys.stderr.flush()
    elif "awaitFile" in step:
        deadline = time.monotonic() + 60
        while not os.path.exists(step["awaitFile"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    elif "fds" in step:
        # A busy app: the handler's sockets get descriptor numbers of 1024 and up.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, step["fds"] + 256), hard))
        kept.extend(open(os.devnull) for _ in range(step["fds"]))
    elif "child" in step:
        # A worker forked by multiprocessing that logs and ends (its exit skips atexit).
        worker = multiprocessing.get_context("fork").Process(target=child, args=(step["child"],))
        worker.start()
        worker.join()
    elif "messages" in step:
        for text in step["messages"]:
            log.info("%s", text)
    else:
        filler = "x" * step.get("size", 0)
        for n in range(step["count"]):
            log.info("%s %06d %s", step["prefix"], n, filler)
            if step.get("interval"):
                time.sleep(step["interval"])
handler = logging.getLogger().handlers[0]
# What the handler counted once it has closed (as it would at exit): the counters then include the last confirmation.
logging.shutdown()
print(json.dumps({k: getattr(handler, k, None) for k in ("dropped", "confirmed", "attempts", "unconfirmed", "connections")}))
`;

/** The messages a plan logs, in order, as Python formats them. */
export function planMessages(plan: readonly Step[]): string[] {
    return plan.flatMap((step) => {
        if ("messages" in step) return [...step.messages];
        if ("child" in step) return [...step.child];
        if ("sleep" in step || "fds" in step || "marker" in step || "awaitFile" in step) return [];
        return Array.from({ length: step.count }, (_, n) => `${step.prefix} ${String(n).padStart(6, "0")} ${"x".repeat(step.size ?? 0)}`);
    });
}

export interface AppRun {
    readonly exitCode: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly elapsedMs: number;
    readonly counters?: { dropped: number; confirmed: number; attempts: number; unconfirmed?: number; connections?: number };
}

/** A running app: `done` resolves when it exits; `stderrMatches` / `stdoutMatches` when its output matches. */
export interface App {
    readonly done: Promise<AppRun>;
    stderrMatches(re: RegExp, timeoutMs?: number): Promise<void>;
    stdoutMatches(re: RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts the app (killed after `timeoutMs`); `timeScale` multiplies every timing default of the handler. */
export function startApp(pki: TestPki, port: number, plan: readonly Step[], handler: Record<string, unknown>, opts: { caPath?: string; timeoutMs?: number; timeScale?: number } = {}): App {
    return startPython(pki, port, { "elk_test_settings.py": SETTINGS, "emit.py": EMIT, "plan.json": JSON.stringify(plan) }, ["emit.py", "plan.json"], {
        env: { DJANGO_SETTINGS_MODULE: "elk_test_settings", ELK_TEST_HANDLER: JSON.stringify(handler), ELK_TEST_TIME_SCALE: String(opts.timeScale ?? 1) },
        caPath: opts.caPath,
        timeoutMs: opts.timeoutMs,
    });
}

/**
 * Runs `args` under /usr/bin/python3 in a directory holding the generated module (django_logging.py, for Logstash
 * at localhost:`port`) and `files`; the process group (forked children too) is killed after `timeoutMs`. The last
 * line of stdout, when it is JSON, is the run's counters.
 */
export function startPython(pki: TestPki, port: number, files: Record<string, string>, args: readonly string[], opts: { env?: Record<string, string>; caPath?: string; timeoutMs?: number } = {}): App {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-faults-"));
    fs.writeFileSync(path.join(dir, "django_logging.py"), djangoLoggingModule({ host: "localhost", port, serviceName: "shop", caPath: opts.caPath ?? pki.caCertPath }));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", PYTHONPATH: dir, PYTHONIOENCODING: "utf-8", ...opts.env };
    const started = Date.now();
    let stdout = "";
    let stderr = "";
    const done = new Promise<AppRun>((resolve) => {
        const child = spawn(SYSTEM_PYTHON, [...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
        child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
        child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
        const killGroup = () => {
            try {
                if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
            } catch {
                // already gone
            }
        };
        const timer = setTimeout(killGroup, opts.timeoutMs ?? 60_000);
        child.once("close", (exitCode) => {
            clearTimeout(timer);
            killGroup(); // a forked child left behind
            fs.rmSync(dir, { recursive: true, force: true });
            const last = stdout.trim().split("\n").pop() ?? "";
            let counters: AppRun["counters"];
            try {
                counters = JSON.parse(last) as AppRun["counters"];
            } catch {
                counters = undefined;
            }
            resolve({ exitCode, stdout, stderr, elapsedMs: Date.now() - started, counters });
        });
    });
    return {
        done,
        stderrMatches: (re, timeoutMs = 20_000) => waitFor(() => re.test(stderr), timeoutMs, `the app's stderr to match ${re}`),
        stdoutMatches: (re, timeoutMs = 20_000) => waitFor(() => re.test(stdout), timeoutMs, `the app's stdout to match ${re}`),
    };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The counts a report prints, for the test log and for failures. */
export const summary = (l: Ledger) => ({ logged: l.logged, indexed: l.indexed, lost: l.lost, duplicated: l.duplicated, truncated: l.truncated, refusedCopies: l.refusedCopies, fragments: l.fragments, parseFailures: l.parseFailures, reportedDropped: l.reportedDropped, maxCopies: l.maxCopies });

/** The records the app's stderr says it dropped in all (0 when it says nothing of the kind). */
export const stderrDropped = (stderr: string) => Number(/in all, (\d+) records dropped/.exec(stderr)?.[1] ?? 0);

/** Exact both ways: the handler's count, the index's (elk.dropped) and stderr's all equal the records that never arrived. */
export function expectExactDropCount(run: AppRun, result: Ledger): void {
    console.log(`${expect.getState().currentTestName}: handler ${JSON.stringify(run.counters)}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
    expect({ handler: run.counters?.dropped, index: result.reportedDropped, stderr: stderrDropped(run.stderr) }).toEqual({ handler: result.lost, index: result.lost, stderr: result.lost });
    expect(run.counters?.unconfirmed).toBe(0);
}

/** What each test of a fault file shares: the stack's PKI, the Django pipeline, and the listeners it started. */
export interface FaultLab {
    readonly pki: TestPki;
    readonly pipeline: Pipeline;
    readonly source: LogSource;
    /** A TLS listener standing in for Logstash, closed after the file's tests. */
    listen(opts?: Omit<FaultyLogstashOptions, "key" | "cert">): Promise<FaultyLogstash>;
    /** What `listener` received, run through the pipeline and indexed by id, against what `plan` logged. */
    account(listener: FaultyLogstash, plan: readonly Step[]): Ledger;
}

/** Sets up a {@link FaultLab} before a file's tests (beforeAll) and tears it down after them (afterAll). */
export function useFaultLab(): FaultLab {
    const sources = parseLogSources(["django:shop"]);
    const source = sources[0];
    let pki: TestPki | undefined;
    let pkiDir = "";
    let pipeline: Pipeline | undefined;
    const listeners: FaultyLogstash[] = [];
    beforeAll(async () => {
        pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-faults-pki-"));
        pki = makeTestPki(pkiDir, ["localhost"]);
        pipeline = await loadPipeline(sources, "django");
    });
    afterAll(async () => {
        await Promise.all(listeners.map((l) => l.close()));
        if (pkiDir) fs.rmSync(pkiDir, { recursive: true, force: true });
    });
    const ready = <T>(v: T | undefined, what: string): T => {
        if (v === undefined) throw new Error(`the fault lab's ${what} is made in beforeAll`);
        return v;
    };
    return {
        get pki() {
            return ready(pki, "PKI");
        },
        get pipeline() {
            return ready(pipeline, "pipeline");
        },
        source,
        async listen(opts = {}) {
            const l = await startFaultyLogstash({ key: ready(pki, "PKI").serverKey, cert: ready(pki, "PKI").serverCert, ...opts });
            listeners.push(l);
            return l;
        },
        account(l, plan) {
            const result = ledger(ready(pipeline, "pipeline"), source, l.lines, planMessages(plan));
            console.log(`${expect.getState().currentTestName}: ${JSON.stringify(summary(result))}`);
            return result;
        },
    };
}
