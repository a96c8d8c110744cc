/**
 * The openssl commands of the real TLS mock (realTls.ts), run by a small relay process (opensslRelay.js) rather than
 * by the jest worker. Starting a process forks its parent: from a worker evaluating programs (about 450 MB resident)
 * each openssl cost the worker 4.8 ms of CPU, most of it in the kernel (the fork copies its page tables), and held
 * its event loop for about 15 ms; the relay is about 50 MB. naming.test.ts and program.test.ts (435 commands), run
 * in pairs with and without the relay, took 1.5 to 2.3 s less CPU in all (the relay and openssl included), of about
 * 31 s. The relay is started when a test
 * file first needs openssl and ended when it has had nothing to do for {@link IDLE_MS}.
 *
 * Only this side ends the relay (it closes the relay's stdin, and forgets it, when nothing is pending), so no request
 * is ever sent to a relay on its way out. A relay that dies anyway fails every request it had, and the next request
 * starts a new one.
 */
import { ChildProcess, spawn } from "child_process";
import type { Socket } from "net";
import * as path from "path";
import * as readline from "readline";
// Node's own timers, not the globals a test file may fake: the deadlines and the idle close must run in real time.
import { clearTimeout, setTimeout } from "timers";

/** How long one openssl command may take; it is killed after that, and the resource's creation fails. */
const OPENSSL_TIMEOUT_MS = 60_000;
/** How much longer than the command's own timeout its answer may take before the relay counts as broken. */
const ANSWER_SLACK_MS = 5_000;
/** A relay idle for this long is ended: jest loads this module again for each test file, so each file has its own. */
const IDLE_MS = 1_000;
const RELAY_SCRIPT = path.join(__dirname, "opensslRelay.js");

interface Pending {
    command: string;
    timeoutMs: number;
    resolve(stdout: string): void;
    reject(error: Error): void;
    deadline: NodeJS.Timeout;
}

interface Relay {
    child: ChildProcess;
    pending: Map<number, Pending>;
    idle?: NodeJS.Timeout;
    /** Set once the relay is ended or gone: what it still writes is not read. */
    ended: boolean;
}

interface Answer {
    id: unknown;
    stdout: string;
    stderr: string;
    ok: boolean;
    killed: boolean;
    message: string;
}

let relay: Relay | undefined;
let nextId = 1;

/**
 * openssl's stdout for `args`, run in `dir`; rejects with `openssl <subcommand> failed: <stderr>`, or `... did not
 * finish within <timeoutMs> ms and was killed`, or when the relay ends or does not answer.
 */
export function openssl(dir: string, args: string[], timeoutMs = OPENSSL_TIMEOUT_MS): Promise<string> {
    const r = (relay ??= startRelay());
    const command = `openssl ${args[0]}`;
    return new Promise((resolve, reject) => {
        const id = nextId++;
        const answerMs = timeoutMs + ANSWER_SLACK_MS;
        const deadline = setTimeout(() => {
            r.pending.delete(id);
            reject(new Error(`${command} got no answer from the openssl relay (pid ${r.child.pid}) within ${answerMs} ms`));
            end(r, `was ended after it did not answer ${command} within ${answerMs} ms`);
        }, answerMs);
        if (r.pending.size === 0) busy(r);
        r.pending.set(id, { command, timeoutMs, resolve, reject, deadline });
        r.child.stdin?.write(JSON.stringify({ id, args, cwd: dir, timeoutMs }) + "\n");
    });
}

/** The pid of this module's relay, while there is one (for the tests). */
export function relayPid(): number | undefined {
    return relay?.child.pid;
}

function startRelay(): Relay {
    // A process group of its own, so that the commands it runs go with it when it is killed (see end()): a killed
    // relay can no longer enforce their timeouts, and a command that does not read stdin would run on.
    const child = spawn(process.execPath, [RELAY_SCRIPT], { stdio: ["pipe", "pipe", "inherit"], detached: true });
    const r: Relay = { child, pending: new Map(), ended: false };
    // A write to a relay that died fails with EPIPE; its requests are failed when its exit is seen, below.
    child.stdin?.on("error", () => undefined);
    if (child.stdout) readline.createInterface({ input: child.stdout }).on("line", (line) => received(r, line));
    child.on("error", (error) => end(r, `failed: ${error.message}`));
    // "close" rather than "exit": by then every answer the relay wrote has been read.
    child.on("close", (code, signal) => end(r, `ended (${signal ? `signal ${signal}` : `exit code ${code}`})`));
    return r;
}

function received(r: Relay, line: string): void {
    if (r.ended) return;
    let answer: Answer | undefined;
    try {
        answer = JSON.parse(line) as Answer;
    } catch {
        answer = undefined;
    }
    const pending = typeof answer?.id === "number" ? r.pending.get(answer.id) : undefined;
    if (!answer || !pending) {
        end(r, `was ended after it wrote something that answers no pending request: ${line.slice(0, 500)}`);
        return;
    }
    r.pending.delete(answer.id as number);
    clearTimeout(pending.deadline);
    if (answer.ok) {
        pending.resolve(answer.stdout);
    } else {
        const why = answer.killed ? `did not finish within ${pending.timeoutMs} ms and was killed` : `failed: ${answer.stderr || answer.message}`;
        pending.reject(new Error(`${pending.command} ${why}`));
    }
    if (r.pending.size === 0) idle(r);
}

/** The relay has work: it keeps the worker's event loop alive until the work is done. */
function busy(r: Relay): void {
    clearTimeout(r.idle);
    for (const handle of handles(r)) handle.ref();
}

/** Nothing pending: the relay keeps nothing alive, and is ended if nothing comes for {@link IDLE_MS}. */
function idle(r: Relay): void {
    for (const handle of handles(r)) handle.unref();
    r.idle = setTimeout(() => {
        if (relay === r) relay = undefined;
        r.child.stdin?.end();
    }, IDLE_MS).unref();
}

function handles(r: Relay): Array<ChildProcess | Socket> {
    return [r.child, r.child.stdin as Socket, r.child.stdout as Socket];
}

/** Forgets the relay, fails what it had pending with `how` it ended, and kills it if it still runs. */
function end(r: Relay, how: string): void {
    if (relay === r) relay = undefined;
    clearTimeout(r.idle);
    const pending = [...r.pending.values()];
    r.pending.clear();
    for (const p of pending) {
        clearTimeout(p.deadline);
        p.reject(new Error(`${p.command} got no answer: the openssl relay (pid ${r.child.pid}) ${how}`));
    }
    if (!r.ended) {
        r.ended = true;
        // The whole group: the relay if it still runs, and any openssl it left, unless it ended of its own accord
        // (exit code 0: its stdin ended and its commands had). A group's id is not handed out again while a member
        // lives; once none does, Linux hands out pids in turn (alloc_pid, idr_alloc_cyclic), so the id comes back
        // only after the whole pid space has gone round, and the kill fails with ESRCH.
        try {
            if (r.child.pid !== undefined && r.child.exitCode !== 0) process.kill(-r.child.pid, "SIGKILL");
        } catch {
            // ESRCH: nothing left.
        }
    }
    for (const handle of handles(r)) handle.unref();
}
