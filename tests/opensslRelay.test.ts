/**
 * The openssl relay of the real TLS mock (tests/support/opensslRelay.js) and its client in the jest worker
 * (tests/support/opensslRelayClient.ts): answers, failures, timeouts, a relay that dies or stops answering, and the
 * relay's end when it is idle. Every wait is bounded.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { waitUntil, withDeadline } from "./support/deadline";
import { openssl, relayPid } from "./support/opensslRelayClient";

const RELAY_SCRIPT = path.join(__dirname, "support", "opensslRelay.js");

let dir: string;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "openssl-relay-test-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The pids of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
    const children: number[] = [];
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(entry));
        } catch {
            // Gone meanwhile.
        }
    }
    return children;
}

/** Whether `pid` has ended: no process, or a zombie nobody reaps (an orphan, where PID 1 does not reap). */
function ended(pid: number): boolean {
    try {
        return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].startsWith("Z");
    } catch {
        return true;
    }
}

/** The relay's pid once the client has one. */
function currentRelay(): number {
    const pid = relayPid();
    if (pid === undefined) throw new Error("no relay");
    return pid;
}

/** The one openssl the relay runs, once it has started it. */
const opensslOf = (relay: number) => waitUntil(() => childrenOf(relay)[0], 10_000, `an openssl started by the relay (pid ${relay})`, 10);

/** `promise`'s rejection message; it must reject within 20 s. */
const rejectionOf = (promise: Promise<unknown>, what: string) =>
    withDeadline(
        promise.then(
            () => {
                throw new Error(`${what} resolved`);
            },
            (error: Error) => error.message,
        ),
        20_000,
        what,
    );

describe("the openssl relay", () => {
    test("runs the command in the directory it is given and answers with its output", async () => {
        await expect(withDeadline(openssl(dir, ["version"]), 20_000, "openssl version")).resolves.toMatch(/^OpenSSL \d/);
        await withDeadline(openssl(dir, ["rand", "-out", "random.bin", "16"]), 20_000, "openssl rand");
        expect(fs.statSync(path.join(dir, "random.bin")).size).toBe(16);
    });

    test("a failing command rejects with openssl's stderr", async () => {
        const message = await rejectionOf(openssl(dir, ["req", "-in", "missing.csr", "-noout"]), "openssl req of a missing file");
        expect(message).toMatch(/^openssl req failed: .*missing\.csr/s);
    });

    test("concurrent commands each get their own answer, from one relay", async () => {
        const files = Array.from({ length: 12 }, (_, i) => {
            const name = `data-${i}`;
            fs.writeFileSync(path.join(dir, name), crypto.randomBytes(1000 + i));
            return name;
        });
        const running = Promise.all(files.map((f) => openssl(dir, ["sha256", "-r", f])));
        const relay = currentRelay();
        const answers = await withDeadline(running, 30_000, "twelve openssl sha256");
        answers.forEach((answer, i) => {
            const expected = crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, files[i]))).digest("hex");
            expect(answer).toBe(`${expected} *${files[i]}\n`);
        });
        expect(relayPid()).toBe(relay);
    });

    test("keeps the event loop alive only while a command is pending", async () => {
        await withDeadline(openssl(dir, ["version"]), 20_000, "openssl version");
        const processes = () => process.getActiveResourcesInfo().filter((r) => r === "ProcessWrap").length;
        const idle = processes();
        const pending = openssl(dir, ["version"]);
        expect(processes()).toBe(idle + 1);
        await withDeadline(pending, 20_000, "openssl version");
        expect(processes()).toBe(idle);
    });

    test("a command past its timeout is killed and reported, and the relay goes on", async () => {
        // With no file, openssl sha256 reads the stdin the relay holds open: it never ends on its own.
        const pending = openssl(dir, ["sha256"], 1_000);
        const relay = currentRelay();
        const command = await opensslOf(relay);
        expect(await rejectionOf(pending, "openssl sha256 past its timeout")).toBe("openssl sha256 did not finish within 1000 ms and was killed");
        // The relay answers once it has reaped the command.
        expect(fs.existsSync(`/proc/${command}`)).toBe(false);
        await expect(withDeadline(openssl(dir, ["version"]), 20_000, "openssl version")).resolves.toMatch(/^OpenSSL/);
        expect(relayPid()).toBe(relay);
    });

    test("a relay that dies fails what it had pending, and the next command gets a new relay", async () => {
        const pending = openssl(dir, ["sha256"]);
        const relay = currentRelay();
        const command = await opensslOf(relay);
        process.kill(relay, "SIGKILL");
        expect(await rejectionOf(pending, "openssl sha256 on a killed relay")).toBe(`openssl sha256 got no answer: the openssl relay (pid ${relay}) ended (signal SIGKILL)`);
        await expect(withDeadline(openssl(dir, ["version"]), 20_000, "openssl version on a new relay")).resolves.toMatch(/^OpenSSL/);
        expect(relayPid()).not.toBe(relay);
        await waitUntil(() => ended(command), 10_000, `the openssl of the killed relay (pid ${command}) to end`);
    });

    test("a relay that dies takes the commands it ran with it, also one that does not read its stdin", async () => {
        // A 16384-bit RSA key takes openssl minutes, reading nothing: orphaned, it would run on with no timeout.
        const pending = openssl(dir, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:16384", "-out", "big.key"], 600_000);
        const relay = currentRelay();
        const command = await opensslOf(relay);
        try {
            process.kill(relay, "SIGKILL");
            expect(await rejectionOf(pending, "openssl genpkey on a killed relay")).toBe(`openssl genpkey got no answer: the openssl relay (pid ${relay}) ended (signal SIGKILL)`);
            await waitUntil(() => ended(command), 10_000, `the openssl of the killed relay (pid ${command}) to end`);
        } finally {
            if (!ended(command)) process.kill(command, "SIGKILL");
        }
    });

    test("a relay that stops answering fails the command after its deadline, and is killed", async () => {
        await withDeadline(openssl(dir, ["version"]), 20_000, "openssl version");
        const relay = currentRelay();
        process.kill(relay, "SIGSTOP");
        try {
            // The deadline is the command's timeout and 5 s.
            const message = await rejectionOf(openssl(dir, ["version"], 100), "openssl version on a stopped relay");
            expect(message).toBe(`openssl version got no answer from the openssl relay (pid ${relay}) within 5100 ms`);
            await waitUntil(() => ended(relay), 10_000, `the stopped relay (pid ${relay}) to be killed`);
        } finally {
            if (!ended(relay)) process.kill(relay, "SIGKILL");
        }
        await expect(withDeadline(openssl(dir, ["version"]), 20_000, "openssl version on a new relay")).resolves.toMatch(/^OpenSSL/);
        expect(relayPid()).not.toBe(relay);
    });

    test("an idle relay is ended", async () => {
        await withDeadline(openssl(dir, ["version"]), 20_000, "openssl version");
        const relay = currentRelay();
        await waitUntil(() => relayPid() === undefined && !fs.existsSync(`/proc/${relay}`), 10_000, `the idle relay (pid ${relay}) to end`);
    });

    test("a malformed request is answered as such; the relay ends with its stdin, killing what still runs", async () => {
        const child = spawn(process.execPath, [RELAY_SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
        let command: number | undefined;
        try {
            child.stdin.write(['not json', '{"id":7,"args":"version"}', JSON.stringify({ id: 8, args: ["version"], cwd: dir, timeoutMs: 20_000 })].join("\n") + "\n");
            await waitUntil(() => stdout.split("\n").length > 3, 20_000, "three answers");
            // A command that runs for minutes when its stdin ends (the worker died): nobody is left to want it.
            child.stdin.write(JSON.stringify({ id: 9, args: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:16384"], cwd: dir, timeoutMs: 600_000 }) + "\n");
            command = await opensslOf(child.pid as number);
            child.stdin.end();
            expect(await withDeadline(closed, 20_000, "the relay to end with its stdin")).toBe(0);
            await waitUntil(() => ended(command as number), 10_000, `the openssl the relay ran (pid ${command}) to end`);
        } finally {
            child.kill("SIGKILL");
            if (command !== undefined && !ended(command)) process.kill(command, "SIGKILL");
        }
        const answers = stdout
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as { id: number | null; ok: boolean; killed: boolean; stdout: string; message: string });
        expect(answers.map((a) => [a.id, a.ok])).toEqual([
            [null, false],
            [7, false],
            [8, true],
            [9, false],
        ]);
        expect(answers[0].message).toMatch(/^malformed request \(not JSON .*\): not json$/);
        expect(answers[1].message).toBe('malformed request (args is not a list of strings): {"id":7,"args":"version"}');
        expect(answers[2].stdout).toMatch(/^OpenSSL/);
        expect(answers[3].killed).toBe(true);
        expect(stderr).toContain("opensslRelay: malformed request (not JSON");
    });
});
