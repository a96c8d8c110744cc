/**
 * The test harness itself (issue 21): bounded waits, the program memo, work shared by the files of a run, the RSA key
 * pool, commands with a deadline, the exit listeners an evaluation leaves and the SDK it loads, and the watchdog that
 * ends a run jest's own timeouts cannot reach.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { runCommand, runCommandOk } from "./support/command";
import { DeadlineError, waitUntil, withDeadline } from "./support/deadline";
import { KEY_POOL_SIZES, loadKeyPool } from "./support/keyPool";
import { STAND_IN_PACKAGES, StandInUsedError, withIsolatedSdk } from "./support/isolatedSdk";
import { onceInRun } from "./support/packedLibrary";
import { memoKey, recall, remember } from "./support/programMemo";
import { RUN_TMPDIR_ENV, TMPFS_MAGIC, canRunProgramsIn, makeRunTempDir, removeAbandoned, suitsMemoryTemp } from "./support/tempRoot";
import { runProgram } from "./support/program";
import { realTlsState } from "./support/realTls";
import { ipv6LoopbackAvailable } from "./support/syslogCapture";
import { unacknowledgedBytes } from "./support/tcpQueue";

const ROOT = path.join(__dirname, "..");
/** The pid of a process that has ended (a shell that printed its own pid and exited). */
async function endedPid(): Promise<number> {
    return Number((await runCommand("sh", ["-c", "echo $$"], { timeoutMs: 10_000 })).stdout.trim());
}
const fingerprint = (key: crypto.KeyObject) => crypto.createHash("sha256").update(crypto.createPublicKey(key).export({ type: "spki", format: "der" })).digest("hex");

/**
 * Watches the timers code sets and clears from now on, until `restore()`: `setSince(ms, mark)` are the timers of `ms`
 * set since `mark` (a `mark()`), `cleared(t)` whether `t` was cleared.
 */
function watchTimers() {
    const set = jest.spyOn(global, "setTimeout");
    const clear = jest.spyOn(global, "clearTimeout");
    return {
        mark: () => set.mock.calls.length,
        setSince: (ms: number, mark = 0) => set.mock.calls.flatMap((call, i) => (i >= mark && call[1] === ms ? [set.mock.results[i].value as unknown] : [])),
        cleared: (timer: unknown) => clear.mock.calls.some((call) => call[0] === timer),
        restore: () => {
            set.mockRestore();
            clear.mockRestore();
        },
    };
}

describe("bounded waits", () => {
    test("withDeadline passes a value or an error through, and names what it waited for when time runs out", async () => {
        await expect(withDeadline(Promise.resolve(42), 1000, "the answer")).resolves.toBe(42);
        await expect(withDeadline(Promise.reject(new Error("refused")), 1000, "a refusal")).rejects.toThrow("refused");
        const never = new Promise<never>(() => undefined);
        const started = Date.now();
        const error = await withDeadline(never, 50, "a promise that never settles").catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DeadlineError);
        expect((error as Error).message).toBe("gave up after 50 ms waiting for a promise that never settles");
        expect(Date.now() - started).toBeLessThan(5_000);
    });

    test("a wait its caller abandoned keeps no timer: it does not fail at its deadline, and still settles with its promise", async () => {
        const timers = watchTimers();
        try {
            const abandon = new AbortController();
            let settle: (value: string) => void = () => undefined;
            const first = timers.mark();
            const wait = withDeadline(new Promise<string>((resolve) => (settle = resolve)), 50, "an abandoned wait", abandon.signal);
            const [timer] = timers.setSince(50, first);
            expect(timer).toBeDefined();
            let outcome = "pending";
            wait.then((v) => (outcome = `resolved ${v}`), (e: unknown) => (outcome = `rejected ${String(e)}`));
            expect(timers.cleared(timer)).toBe(false);
            abandon.abort();
            expect(timers.cleared(timer)).toBe(true);
            await new Promise((resolve) => setTimeout(resolve, 200));
            expect(outcome).toBe("pending");
            settle("late");
            await new Promise((resolve) => setImmediate(resolve));
            expect(outcome).toBe("resolved late");
            // Already abandoned when made: its timer is cleared at once.
            const gone = new AbortController();
            gone.abort();
            const before = timers.mark();
            void withDeadline(new Promise<never>(() => undefined), 50, "a wait abandoned before it began", gone.signal);
            const [late] = timers.setSince(50, before);
            expect(late).toBeDefined();
            expect(timers.cleared(late)).toBe(true);
        } finally {
            timers.restore();
        }
    });

    test("waitUntil returns the first value that holds, or fails naming the condition", async () => {
        let n = 0;
        await expect(waitUntil(() => (++n >= 3 ? n : undefined), 5_000, "three polls", 1)).resolves.toBe(3);
        await expect(waitUntil(() => false, 30, "a condition that never holds", 5)).rejects.toThrow("gave up after 30 ms waiting for a condition that never holds");
    });

    test("a command past its deadline is killed with everything it started, and says so", async () => {
        // sh prints the pid of a background sleep, then waits: both must be gone after the deadline.
        const run = await runCommand("sh", ["-c", "sleep 30 & echo $!; wait"], { timeoutMs: 300 });
        expect(run.timedOut).toBe(true);
        expect(run.elapsedMs).toBeLessThan(10_000);
        const background = Number(run.stdout.trim());
        expect(background).toBeGreaterThan(0);
        await waitUntil(() => !fs.existsSync(`/proc/${background}`) || fs.readFileSync(`/proc/${background}/stat`, "utf8").split(") ")[1].startsWith("Z"), 5_000, "the background sleep to end");
        await expect(runCommandOk("sh", ["-c", "sleep 30"], { timeoutMs: 200 })).rejects.toThrow("sh -c sleep 30 did not finish within 200 ms and was killed");
        await expect(runCommandOk("sh", ["-c", "echo out; echo err >&2; exit 3"], { timeoutMs: 10_000 })).rejects.toThrow(/sh -c .* failed \(3\):\nout\n\nerr/);
        await expect(runCommandOk("cat", [], { timeoutMs: 10_000, input: "fed" })).resolves.toBe("fed");
    });
});

describe("a connection's unacknowledged bytes (tests/support/tcpQueue.ts)", () => {
    test.each(["127.0.0.1", "::1"])("on %s: what a peer that does not read leaves unacknowledged, none once it has read it all, and no figure once the connection is closed", async (host) => {
        if (host === "::1" && !(await ipv6LoopbackAvailable())) {
            console.warn("IPv6 loopback (::1) is not available here: the ::1 case is left out.");
            return;
        }
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(0, host, resolve));
        const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
        const client = net.connect((server.address() as net.AddressInfo).port, host);
        client.pause();
        try {
            const sender = await withDeadline(accepted, 10_000, "the connection");
            const ports = [sender.localPort ?? 0, sender.remotePort ?? 0] as const;
            expect(unacknowledgedBytes(...ports)).toBe(0);
            // More than the kernel's buffers on both sides hold, to a client that reads nothing: the rest waits unsent.
            const total = 64 * 1024 * 1024;
            sender.write(Buffer.alloc(total));
            const waiting = await waitUntil(() => { const n = unacknowledgedBytes(...ports); return n !== undefined && n > 0 && n; }, 10_000, "bytes the client did not acknowledge");
            expect(waiting).toBeGreaterThan(0);
            let received = 0;
            client.on("data", (chunk: Buffer) => (received += chunk.length));
            client.resume();
            await waitUntil(() => received === total, 30_000, "the client reading every byte", 5);
            await waitUntil(() => unacknowledgedBytes(...ports) === 0, 10_000, "every byte acknowledged", 5);
            // Closed on both sides: the sender's socket waits out TIME_WAIT, which is not a connection any more.
            sender.destroy();
            client.destroy();
            await waitUntil(() => unacknowledgedBytes(...ports) === undefined, 10_000, "the closed connection to leave the list", 5);
        } finally {
            client.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    });
});

describe("the program memo", () => {
    const config = { target: "docker", clusterName: `memo-${process.pid}` };

    test("one key per config and options, whatever their order; none for a run with a program or reads of its own", () => {
        const key = memoKey(config, {});
        expect(key).toMatch(/^[0-9a-f]{64}$/);
        expect(memoKey({ clusterName: config.clusterName, target: "docker" }, { stack: "dev", preview: false, secretKeys: [] })).toBe(key);
        expect(memoKey(config, { preview: true })).not.toBe(key);
        expect(memoKey(config, { stack: "prod" })).not.toBe(key);
        expect(memoKey(config, { secretKeys: ["elasticPassword"] })).not.toBe(key);
        expect(memoKey({ ...config, target: "kubernetes" }, {})).not.toBe(key);
        expect(memoKey(config, { previousOutputs: { a: 1 } })).not.toBe(key);
        expect(memoKey(config, { stashed: { s: "x" } })).not.toBe(key);
        expect(memoKey(config, { program: () => Promise.resolve({}) })).toBeUndefined();
        expect(memoKey(config, { reads: () => ({}) })).toBeUndefined();
        // An option it does not know could change the run: evaluated every time.
        expect(memoKey(config, { somethingNew: true } as never)).toBeUndefined();
    });

    test("gives back an equal copy, undefined properties included, that the caller may change", () => {
        const key = memoKey({ ...config, case: "copy" }, {}) as string;
        const run = { resources: [{ name: "a", inputs: { kept: undefined, list: [1, undefined] } }], outputs: { url: { value: "https://x", secret: false } } };
        remember(key, run);
        const first = recall<typeof run>(key);
        expect(first).toStrictEqual(run);
        expect(first).not.toBe(run);
        (first as typeof run).resources.push({ name: "b", inputs: { kept: undefined, list: [] } });
        expect(recall<typeof run>(key)).toStrictEqual(run);
        // Shared with the other workers of this run through the run's memo directory.
        const dir = process.env.ELK_PROGRAM_MEMO as string;
        expect(fs.existsSync(path.join(dir, `${key}.json`))).toBe(true);
    });

    test("keeps nothing that JSON would not give back exactly", () => {
        const notANumber = memoKey({ ...config, case: "nan" }, {}) as string;
        remember(notANumber, { value: NaN });
        expect(recall(notANumber)).toBeUndefined();
        const bytes = memoKey({ ...config, case: "buffer" }, {}) as string;
        remember(bytes, { value: Buffer.from("x") });
        expect(recall(bytes)).toBeUndefined();
    });
});

describe("work shared by the test files of a run (tests/support/packedLibrary.ts onceInRun)", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-once-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("the first to ask makes the result; the others wait for it and never make their own", async () => {
        const made: string[] = [];
        const produce = (who: string, ms: number) => async () => {
            made.push(who);
            await new Promise((resolve) => setTimeout(resolve, ms));
            return { by: who };
        };
        const [first, second] = await Promise.all([onceInRun(dir, produce("first", 300), "a shared result", 10_000), onceInRun(dir, produce("second", 0), "a shared result", 10_000)]);
        expect(made).toEqual(["first"]);
        expect(first).toEqual({ by: "first" });
        expect(second).toEqual({ by: "first" });
    });

    test("a failure reaches every one that waited, with its message", async () => {
        const failing = onceInRun(dir, () => Promise.reject(new Error("npm pack failed (1)")), "a shared result", 10_000);
        const waiting = onceInRun(dir, () => Promise.resolve("never made"), "a shared result", 10_000);
        await expect(failing).rejects.toThrow("npm pack failed (1)");
        await expect(waiting).rejects.toThrow("a shared result failed:\nnpm pack failed (1)");
    });

    test("a wait for a maker that never finishes ends at its deadline, naming what it waited for", async () => {
        fs.mkdirSync(path.join(dir, "lock"));
        await expect(onceInRun(dir, () => Promise.resolve("never made"), "a shared result", 300)).rejects.toThrow(`gave up after 300 ms waiting for a shared result, in ${dir}`);
    });

    test("a maker that ended without a result fails the wait at once, naming it", async () => {
        // A worker that crashed while it made the result.
        const pid = await endedPid();
        fs.mkdirSync(path.join(dir, "lock"));
        fs.writeFileSync(path.join(dir, "lock", "pid"), String(pid));
        const started = Date.now();
        await expect(onceInRun(dir, () => Promise.resolve("never made"), "a shared result", 60_000)).rejects.toThrow(`a shared result: the process making it (pid ${pid}) ended without a result, in ${dir}`);
        expect(Date.now() - started).toBeLessThan(30_000);
    });

    test("a directory it cannot use fails at once, not after a wait", async () => {
        await expect(onceInRun(path.join(dir, "no-such-dir"), () => Promise.resolve("never made"), "a shared result", 60_000)).rejects.toThrow(/ENOENT/);
    });
});

describe("the run's temporary directory (tests/support/tempRoot.ts)", () => {
    test("every test file makes its temporary files in the directory the global setup made for the run", () => {
        const dir = process.env[RUN_TMPDIR_ENV];
        expect(dir).toMatch(/[\\/]elk-test-run-[^\\/]+$/);
        expect(os.tmpdir()).toBe(dir);
        expect(fs.statSync(dir as string).isDirectory()).toBe(true);
    });

    test("a memory file system only when it is tmpfs with room; TMPDIR when someone set it", () => {
        const gib = 1024 ** 3;
        expect(suitsMemoryTemp({ type: TMPFS_MAGIC, bavail: (4 * gib) / 4096, bsize: 4096 })).toBe(true);
        expect(suitsMemoryTemp({ type: TMPFS_MAGIC, bavail: gib / 4096, bsize: 4096 })).toBe(false);
        // ext4 (linux/magic.h EXT4_SUPER_MAGIC), and a directory statfs could not read.
        expect(suitsMemoryTemp({ type: 0xef53, bavail: (100 * gib) / 4096, bsize: 4096 })).toBe(false);
        expect(suitsMemoryTemp(undefined)).toBe(false);
        const chosen = fs.mkdtempSync(path.join(os.tmpdir(), "elk-chosen-"));
        const made: string[] = [];
        try {
            made.push(makeRunTempDir({ TMPDIR: chosen }));
            expect(path.dirname(made[0])).toBe(chosen);
            made.push(makeRunTempDir({}, path.join(chosen, "no-such-dir")));
            expect(path.dirname(made[1])).toBe(os.tmpdir());
            // This machine's /dev/shm: taken exactly when it suits.
            made.push(makeRunTempDir({}, "/dev/shm"));
            const shm = fs.existsSync("/dev/shm") ? fs.statfsSync("/dev/shm") : undefined;
            expect(path.dirname(made[2])).toBe(suitsMemoryTemp(shm) ? "/dev/shm" : os.tmpdir());
        } finally {
            for (const dir of [chosen, ...made]) fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("programs must run there; a directory where they cannot is not taken", () => {
        expect(canRunProgramsIn(os.tmpdir())).toBe(true);
        expect(canRunProgramsIn(path.join(os.tmpdir(), "no-such-dir"))).toBe(false);
    });

    test("a run killed before its teardown leaves its directory, which the next run's setup removes once its maker has ended", async () => {
        const parent = fs.mkdtempSync(path.join(os.tmpdir(), "elk-parent-"));
        try {
            const ended = await endedPid();
            const abandoned = makeRunTempDir({ TMPDIR: parent }, "/dev/shm", ended);
            const unowned = fs.mkdtempSync(path.join(parent, "elk-test-run-"));
            expect(fs.readFileSync(path.join(abandoned, "owner.pid"), "utf8")).toBe(String(ended));
            // The next run's setup removes the abandoned one, and nothing else.
            const next = makeRunTempDir({ TMPDIR: parent }, "/dev/shm", process.pid);
            expect([abandoned, next, unowned].map((d) => fs.existsSync(d))).toEqual([false, true, true]);
            // A run that still runs keeps its directory.
            expect(removeAbandoned(parent)).toEqual([]);
            expect(fs.existsSync(next)).toBe(true);
        } finally {
            fs.rmSync(parent, { recursive: true, force: true });
        }
    });
});

describe("the RSA key pool and the keys realTls hands out", () => {
    test("the pool holds distinct keys of each size the stack asks for", () => {
        const pool = loadKeyPool();
        for (const [bits, count] of Object.entries(KEY_POOL_SIZES)) {
            const keys = pool.get(Number(bits)) ?? [];
            expect(keys).toHaveLength(count);
            for (const k of keys) expect(k.asymmetricKeyDetails?.modulusLength).toBe(Number(bits));
            expect(new Set(keys.map(fingerprint)).size).toBe(count);
        }
    });

    test("a pool's worth of keys asked for one after the other are all different, of the size asked for", async () => {
        const count = KEY_POOL_SIZES[4096];
        const fingerprints: string[] = [];
        for (let i = 0; i < count; i++) {
            const state = (await realTlsState("tls:index/privateKey:PrivateKey", { algorithm: "RSA", rsaBits: 4096 })) as Record<string, unknown>;
            const pem = (state.privateKeyPem as { value: string }).value;
            const key = crypto.createPrivateKey(pem);
            expect(key.asymmetricKeyDetails?.modulusLength).toBe(4096);
            fingerprints.push(fingerprint(key));
        }
        expect(new Set(fingerprints).size).toBe(count);
    });

    test("sizes and algorithms the pool does not hold are generated by openssl", async () => {
        for (const [inputs, check] of [
            [{ algorithm: "RSA", rsaBits: 1024 }, (k: crypto.KeyObject) => k.asymmetricKeyDetails?.modulusLength === 1024],
            [{ algorithm: "ECDSA", ecdsaCurve: "P384" }, (k: crypto.KeyObject) => k.asymmetricKeyDetails?.namedCurve === "secp384r1"],
            [{ algorithm: "ED25519" }, (k: crypto.KeyObject) => k.asymmetricKeyType === "ed25519"],
        ] as const) {
            const state = (await realTlsState("tls:index/privateKey:PrivateKey", inputs)) as Record<string, unknown>;
            expect(check(crypto.createPrivateKey((state.privateKeyPemPkcs8 as { value: string }).value))).toBe(true);
        }
    });
});

describe("an evaluation under the mock runtime", () => {
    test("leaves no exit listener behind, though the SDK copy it loads adds one", async () => {
        const before = process.listenerCount("exit");
        let during = 0;
        await runProgram({}, {
            program: async () => {
                const pulumi = await import("@pulumi/pulumi");
                const out = pulumi.output("x").apply((x) => x);
                during = process.listenerCount("exit");
                return { out };
            },
        });
        expect(during).toBeGreaterThan(before);
        expect(process.listenerCount("exit")).toBe(before);
    });

    test("a program that fails while an output still waits leaves no timer behind to hold the worker", async () => {
        // The harness's waits are a minute long: each one set during the run must be cleared by its end.
        const timers = watchTimers();
        try {
            const run = runProgram({}, {
                program: async () => {
                    const pulumi = await import("@pulumi/pulumi");
                    pulumi.output("x").apply(() => {
                        throw new Error("refused by the program");
                    });
                    return { never: pulumi.output(new Promise<string>(() => undefined)) };
                },
            });
            await expect(run).rejects.toThrow("refused by the program");
            const minuteLong = timers.setSince(60_000);
            // The wait for `never` was abandoned with the run, and its timer with it.
            expect(minuteLong.length).toBeGreaterThan(0);
            expect(minuteLong.filter((t) => !timers.cleared(t))).toEqual([]);
        } finally {
            timers.restore();
        }
    });

    test("loads an SDK whose function serialization refuses to run, naming the stand-in, and the real packages outside it", async () => {
        const refused = await withIsolatedSdk(async () => {
            const pulumi = await import("@pulumi/pulumi");
            return {
                // The SDK's own paths to each stand-in: a closure's source parsed by typescript, its packages by arborist.
                serialize: await pulumi.runtime.serializeFunction(() => 1).catch((e: unknown) => e),
                codePaths: await pulumi.runtime.computeCodePaths().catch((e: unknown) => e),
            };
        });
        expect(refused.serialize).toBeInstanceOf(StandInUsedError);
        expect((refused.serialize as Error).message).toMatch(/^typescript is a stand-in in a program evaluation \(tests\/support\/isolatedSdk\.ts\), but the program used its \w+/);
        expect(refused.codePaths).toBeInstanceOf(StandInUsedError);
        expect((refused.codePaths as Error).message).toMatch(/^@npmcli\/arborist is a stand-in in a program evaluation/);
        // Outside the evaluation the real packages load again.
        const ts = (await import("typescript")) as { version?: string };
        expect(ts.version).toMatch(/^\d+\.\d+\.\d+/);
        expect(STAND_IN_PACKAGES).toEqual(["@npmcli/arborist", "typescript"]);
    });
});

describe("the watchdog in jest's main process (tests/support/stallReporter.js)", () => {
    test("ends a run whose worker is blocked where jest's timeout cannot fire, naming the file and the test", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-stall-"));
        try {
            // Atomics.wait blocks the worker's thread (as the crypto deadlock did) without a child process to clean up.
            fs.writeFileSync(path.join(dir, "blocked.test.js"), `test("blocks its worker", () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); }, 1000);\n`);
            fs.writeFileSync(path.join(dir, "quick.test.js"), `test("passes", () => expect(1).toBe(1));\n`);
            const config = { rootDir: dir, testEnvironment: "node", transform: {}, cacheDirectory: path.join(dir, "cache"), reporters: ["default", path.join(ROOT, "tests", "support", "stallReporter.js")] };
            fs.writeFileSync(path.join(dir, "jest.config.json"), JSON.stringify(config));
            const run = await runCommand(process.execPath, [path.join(ROOT, "node_modules", "jest", "bin", "jest.js"), "--config", path.join(dir, "jest.config.json"), "--maxWorkers=2", "--ci"], {
                cwd: dir,
                // 10 s, not less: on a loaded machine (load average 11) starting a worker and loading a file took
                // over 3 s, and the watchdog rightly ended the run before the test began.
                env: { ...process.env, ELK_TEST_STALL_SECONDS: "10" },
                timeoutMs: 150_000,
            });
            expect(run.timedOut).toBe(false);
            expect(run.status).toBe(1);
            expect(run.stderr).toMatch(/STALLED: no test started or ended for more than 10 s/);
            expect(run.stderr).toMatch(/blocked\.test\.js: silent for \d+ s, last running the test "blocks its worker"/);
            // Well before the blocked call would have returned (60 s): the watchdog, not the wait, ended it.
            expect(run.elapsedMs).toBeLessThan(60_000);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }, 180_000);
});
