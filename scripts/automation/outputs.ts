/**
 * How `npm run verify`, `npm run snapshot` and `npm run restore` read a stack's outputs: `pulumi stack output --json
 * --show-secrets`, run the way `npm run up` runs the CLI when the stack is the one `npm run up` made.
 *
 * Which backend: the project's local backend (`.pulumi-local/state`, the passphrase beside it; see local.ts) when
 * `npm run up` made one (its passphrase file exists) and the environment names no backend of its own
 * (`PULUMI_BACKEND_URL`, which the CLI would otherwise follow: sdk/go/common/env/env.go `BackendURL`); then the stack
 * is `dev` unless `--stack` says otherwise. Else the CLI's own login and selected stack, as before.
 * Which CLI: `pulumi` on PATH, else the one `npm run up` installed into `.pulumi-local/cli/<version>/bin`, run with
 * that folder first on PATH (its bundled plugins, as the Automation API runs it: automation/cmd.js `run`).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PULUMI_CLI_VERSION, cliEnvironment, localBackend } from "./local";

/** The outputs could not be read; the message says why and what to do. */
export class OutputsError extends Error {}

/** How the outputs are read: the command, its arguments and environment, and where from (for messages). */
export interface OutputsCommand {
    readonly command: string;
    readonly args: readonly string[];
    readonly env: NodeJS.ProcessEnv;
    readonly from: string;
}

/** The stack `npm run up` manages (scripts/up.ts DEV_STACK). */
const UP_STACK = "dev";

/** The first executable `name` in the folders of `pathVar`, or undefined. */
export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
    for (const dir of (pathVar ?? "").split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}

/** Decides backend, stack and CLI as the module comment says; throws {@link OutputsError} when there is no CLI. */
export function stackOutputsCommand(projectRoot: string, stack: string | undefined, env: NodeJS.ProcessEnv, version: string = PULUMI_CLI_VERSION): OutputsCommand {
    const backend = localBackend(projectRoot, version);
    const installed = path.join(backend.cliRoot, "bin", "pulumi");
    const onPath = findOnPath("pulumi", env.PATH);
    const command = onPath ?? (fs.existsSync(installed) ? installed : undefined);
    if (command === undefined) {
        throw new OutputsError(`no Pulumi CLI: there is no 'pulumi' on PATH, and npm run up has not installed one into ${backend.cliRoot}. Install it (https://www.pulumi.com/docs/install/), or run npm run up first`);
    }
    const useLocal = (env.PULUMI_BACKEND_URL ?? "") === "" && fs.existsSync(backend.passphraseFile);
    const runEnv: NodeJS.ProcessEnv = { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" };
    if (command === installed) runEnv.PATH = `${path.dirname(installed)}${path.delimiter}${env.PATH ?? ""}`;
    let from = `the backend pulumi is logged in to`;
    let which = stack;
    if (useLocal) {
        const cli = cliEnvironment(backend);
        for (const name of cli.unset) delete runEnv[name];
        Object.assign(runEnv, cli.set);
        which = stack ?? UP_STACK;
        from = `the local backend of npm run up (${backend.stateDir})`;
    }
    return { command, args: ["stack", "output", "--json", "--show-secrets", "--non-interactive", ...(which !== undefined ? ["--stack", which] : [])], env: runEnv, from: `stack ${which ?? "(the selected one)"} in ${from}` };
}

/** What the CLI said that matters: its `error:` lines, else its last line. */
function said(stderr: string): string {
    const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
    const errors = lines.filter((l) => l.startsWith("error:"));
    return (errors.length > 0 ? errors : lines.slice(-1)).join(" | ");
}

/** Runs the command of {@link stackOutputsCommand} (a minute at most) and parses the outputs; throws {@link OutputsError}. */
export function readStackOutputs<T>(projectRoot: string, stack: string | undefined, env: NodeJS.ProcessEnv = process.env): T {
    const c = stackOutputsCommand(projectRoot, stack, env);
    const r = spawnSync(c.command, [...c.args], { cwd: projectRoot, env: c.env, encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
    const what = `cannot read the outputs of ${c.from} with ${c.command}`;
    if (r.error) {
        const code = (r.error as NodeJS.ErrnoException).code;
        throw new OutputsError(code === "ETIMEDOUT" ? `${what}: it did not answer within 60 s` : `${what}: it could not run (${code ?? r.error.message})`);
    }
    if (r.status !== 0) throw new OutputsError(`${what}: it exited with status ${String(r.status)}${said(r.stderr) ? `: ${said(r.stderr)}` : ""}`);
    try {
        return JSON.parse(r.stdout) as T;
    } catch {
        throw new OutputsError(`${what}: it printed no JSON`);
    }
}
