/**
 * A failed Pulumi CLI command, said in words. The Automation API runs every command through execa and, whatever went
 * wrong, throws a CommandError whose message is `code: -2\n stdout: \n stderr: <execa's message>\n err?: ...`
 * (node_modules/@pulumi/pulumi/automation/cmd.js `exec`: its catch wraps every execa rejection with the code -2,
 * a missing binary and a command that exited 255 alike). The execa error it keeps (`commandResult.err`, execa 5
 * lib/error.js) says what happened: `code` ENOENT when the binary is missing, `exitCode`, `timedOut`, `signal`,
 * `stderr` and `stdout` of the command, and `command`, the command line.
 */
import * as path from "path";

/** The fields of execa's error this module reads. */
interface ExecaFailure {
    readonly code?: string;
    readonly path?: string;
    readonly command?: string;
    readonly exitCode?: number;
    readonly timedOut?: boolean;
    readonly isCanceled?: boolean;
    readonly signal?: string;
    readonly stderr?: string;
    readonly stdout?: string;
}

/** `pulumi up` from `/x/bin/pulumi up --yes --stack dev ...`: the binary's name and the subcommand words. */
function commandName(commandLine: string | undefined): string {
    if (commandLine === undefined) return "pulumi";
    const [binary, ...args] = commandLine.split(" ");
    const words: string[] = [];
    for (const a of args) {
        if (a.startsWith("-") || words.length === 2) break;
        words.push(a);
    }
    return [path.basename(binary), ...words].join(" ");
}

/** The lines a command printed that say what went wrong: Pulumi's `error:` lines, else its last lines. */
function whatItSaid(...texts: (string | undefined)[]): string {
    const lines = texts.flatMap((t) => (t ?? "").split("\n")).map((l) => l.trim()).filter(Boolean);
    const errors = [...new Set(lines.filter((l) => /^error: /.test(l)))];
    return (errors.length > 0 ? errors : lines.slice(-3)).join(" | ");
}

/** What went wrong, in words, for a failed CLI command of the Automation API; any other error's message. */
export function explainCliError(err: unknown): string {
    // Recognised by its shape, not `instanceof CommandError`: importing the automation module here would load the SDK
    // before `up` and `e2e` have run their quick checks (and a copy of the SDK of another version would not match).
    const result = err instanceof Error ? (err as Error & { commandResult?: { stdout?: string; stderr?: string; err?: ExecaFailure } }).commandResult : undefined;
    if (result === undefined) return err instanceof Error ? err.message : String(err);
    const e = result?.err;
    const name = commandName(e?.command);
    if (e?.code === "ENOENT") return `${name} could not start: ${e.path ?? name.split(" ")[0]} was not found (is the Pulumi CLI installed, and on PATH?)`;
    if (e?.timedOut) return `${name} timed out`;
    if (e?.isCanceled || e?.signal !== undefined) return `${name} was stopped${e.signal !== undefined ? ` by ${e.signal}` : ""}`;
    const said = whatItSaid(e?.stderr ?? result?.stderr, e?.stdout ?? result?.stdout);
    return `${name} failed${e?.exitCode !== undefined ? ` with exit status ${e.exitCode}` : ""}${said ? `: ${said}` : ""}`;
}
