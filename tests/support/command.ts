/**
 * Runs a command as a child process without blocking the event loop (so jest's timeout can fire while it runs),
 * bounded in time: after `timeoutMs` its whole process group is killed (npm, tsc and ts-node start processes of
 * their own) and the run fails with what it ran, for how long, and its output.
 */
import { spawn } from "child_process";

/** How a command ended. */
export interface CommandRun {
    readonly status: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly timedOut: boolean;
    readonly elapsedMs: number;
}

/** Options of {@link runCommand}. */
export interface CommandOptions {
    readonly cwd?: string;
    /** The whole environment of the command (the test's own by default). */
    readonly env?: NodeJS.ProcessEnv;
    /** Written to its stdin, which is then closed; stdin is /dev/null without it. */
    readonly input?: string | Buffer;
    /** Deadline; the command's process group is killed with SIGKILL when it passes. */
    readonly timeoutMs: number;
}

/** Runs `cmd args` and resolves with how it ended, whatever its status; rejects only when it cannot be started. */
export function runCommand(cmd: string, args: readonly string[], options: CommandOptions): Promise<CommandRun> {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const child = spawn(cmd, args, {
            cwd: options.cwd,
            env: options.env ?? process.env,
            stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
            // Its own process group, so that the deadline ends whatever it started too.
            detached: true,
        });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        if (options.input !== undefined) {
            // A command that exits without reading its input is not an error here; its status says what happened.
            child.stdin?.on("error", () => undefined);
            child.stdin?.end(options.input);
        }
        const timer = setTimeout(() => {
            timedOut = true;
            try {
                if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
            } catch {
                // Already gone.
            }
        }, options.timeoutMs);
        child.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        child.on("close", (status, signal) => {
            clearTimeout(timer);
            resolve({ status, signal, stdout, stderr, timedOut, elapsedMs: Date.now() - started });
        });
    });
}

/** Runs `cmd args` and resolves with its stdout; rejects, with its output, when it fails or runs past its deadline. */
export async function runCommandOk(cmd: string, args: readonly string[], options: CommandOptions): Promise<string> {
    const r = await runCommand(cmd, args, options);
    const what = `${cmd} ${args.join(" ")}`;
    if (r.timedOut) throw new Error(`${what} did not finish within ${options.timeoutMs} ms and was killed:\n${r.stdout}\n${r.stderr}`);
    if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}
