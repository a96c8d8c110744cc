/** Runs a generated bash script for real, with only the given environment, bounded in time. */
import { spawn } from "child_process";

/** How a run ended. */
export interface ScriptRun {
    readonly code: number | null;
    /** Signal that ended it, if any. */
    readonly signal: NodeJS.Signals | null;
    readonly elapsedMs: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly timedOut: boolean;
}

/** Runs `bash script` with `env` (plus PATH); kills its whole process group after `timeoutMs`. */
export function runScript(script: string, env: Record<string, string>, timeoutMs = 30_000): Promise<ScriptRun> {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const child = spawn("bash", [script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        const timer = setTimeout(() => {
            timedOut = true;
            if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        }, timeoutMs);
        child.on("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, elapsedMs: Date.now() - started, stdout, stderr, timedOut });
        });
    });
}
