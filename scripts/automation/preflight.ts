/**
 * Checks that run before `up`, `down` or `e2e` touch anything: is Docker installed and its engine running, is
 * kubectl there and a cluster reachable, is python3 there. Each failure says what is missing and how to fix it.
 */
import { spawnSync } from "child_process";
import { EXIT, PrerequisiteError } from "./local";

/** The outcome of running a command: exit status, output, or the spawn error (ENOENT when not installed). */
export interface RunResult {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly error?: NodeJS.ErrnoException;
}

/** Runs a command with a time limit; tests hand in one with a different PATH. */
export type CommandRunner = (command: string, args: readonly string[], timeoutMs: number) => RunResult;

/** A runner whose commands see `env` (PATH decides which binaries exist), bounded in time, capturing output. */
export function commandRunner(env: NodeJS.ProcessEnv = process.env): CommandRunner {
    return (command, args, timeoutMs) => {
        const r = spawnSync(command, [...args], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"], env });
        return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
    };
}

/** Runs commands from this process's PATH. */
export const runCommand: CommandRunner = commandRunner();

const DOCKER_INSTALL = "install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop (https://docs.docker.com/desktop/)";

function firstLine(text: string): string {
    return text.trim().split("\n").filter(Boolean).pop() ?? "";
}

/**
 * The Docker engine's version; throws {@link PrerequisiteError} when the client is missing or the engine does
 * not answer. `docker version` exits 1 and names the socket when it cannot reach the engine (Docker 28 client).
 */
export function checkDocker(run: CommandRunner = runCommand): string {
    const r = run("docker", ["version", "--format", "{{.Server.Version}}"], 30_000);
    if (r.error?.code === "ENOENT") throw new PrerequisiteError(`Docker is not installed: there is no 'docker' command on PATH. Fix: ${DOCKER_INSTALL}, start it, and run this again.`);
    if (r.error?.code === "ETIMEDOUT" || (r.error === undefined && r.status === null)) {
        throw new PrerequisiteError("Docker did not answer within 30 s ('docker version'). Fix: check that the Docker engine is running and healthy (docker info), then run this again.");
    }
    if (r.error) throw new PrerequisiteError(`cannot run 'docker' (${r.error.message}). Fix: ${DOCKER_INSTALL}.`);
    const version = r.stdout.trim();
    if (r.status !== 0 || version === "") {
        const said = firstLine(r.stderr);
        if (/permission denied/i.test(said)) {
            throw new PrerequisiteError(`Docker is running but this user may not use it (${said}). Fix: add yourself to the docker group (sudo usermod -aG docker "$USER", then log in again), or use Docker Desktop.`);
        }
        throw new PrerequisiteError(
            `Docker is installed but its engine is not running or not reachable${said ? ` (${said})` : ""}. Fix: start it (Linux: sudo systemctl start docker; macOS and Windows: open Docker Desktop), or point DOCKER_HOST at a running engine, then run this again.`,
        );
    }
    return version;
}

/** Checks that kubectl is installed and the current context's cluster answers; returns the context name. */
export function checkKubernetes(run: CommandRunner = runCommand): string {
    const ctx = run("kubectl", ["config", "current-context"], 15_000);
    if (ctx.error?.code === "ENOENT") {
        throw new PrerequisiteError("kubectl is not installed: there is no 'kubectl' command on PATH. Fix: install it (https://kubernetes.io/docs/tasks/tools/) and point it at a cluster (kind create cluster for a local one).");
    }
    if (ctx.status !== 0) throw new PrerequisiteError(`kubectl has no current context (${firstLine(ctx.stderr)}). Fix: kubectl config use-context NAME, or kind create cluster.`);
    const context = ctx.stdout.trim();
    const ready = run("kubectl", ["get", "--raw", "/readyz"], 30_000);
    if (ready.status !== 0) throw new PrerequisiteError(`the cluster of kubectl context '${context}' does not answer (${firstLine(ready.stderr) || "no response"}). Fix: start the cluster or choose another context.`);
    return context;
}

/** Checks for python3, which runs the Django stand-in of the e2e test; returns its version. */
export function checkPython(run: CommandRunner = runCommand, python = "python3"): string {
    const r = run(python, ["-c", "import logging.config, ssl, sys; print(sys.version.split()[0])"], 15_000);
    if (r.error?.code === "ENOENT") throw new PrerequisiteError(`${python} is not installed; the e2e test runs its Django stand-in with it. Fix: install Python 3 (apt-get install python3).`);
    if (r.status !== 0) throw new PrerequisiteError(`${python} cannot import logging.config and ssl (${firstLine(r.stderr)}). Fix: install a complete Python 3.`);
    return r.stdout.trim();
}

export { EXIT };
