/**
 * `npm run snapshot` (take one now and wait for it) and `npm run restore -- --snapshot NAME [--indices PATTERN]
 * [--force]`, with the official client (components/operations/snapshotOps.ts).
 *
 * Values come from the stack outputs (`pulumi stack output --json --show-secrets`), and flags override them:
 *   --stack NAME, --es-url URL, --ca FILE, --user NAME, --password-file FILE (or $ELASTIC_PASSWORD), --environment ENV,
 *   --repository NAME (default: output snapshots.repository), --timeout SECONDS (default 3600)
 * restore only:
 *   --snapshot NAME    the snapshot to restore (required)
 *   --indices PATTERN  what to restore (default: the environment's log data streams, logs-*-<environment>)
 *   --force            delete open data streams (close open indices) of the same names first instead of refusing
 *   --writer-role NAME the role of the users that write the data streams, paused meanwhile (repeatable; default
 *                      Logstash's, elk_logstash_writer)
 * Exit status: 0 done, 1 the operation failed or was refused, 2 bad flags or outputs.
 */
import * as fs from "fs";
import { elasticsearchClient } from "../components/operations/esClient";
import { SnapshotError, type SnapshotTarget, restoreSnapshot, takeSnapshot } from "../components/operations/snapshotOps";
import { type Flags, type StackOutputs, UsageError, commonInputs, integer, last, parseFlags, pulumiStackOutputs } from "./verify";

const COMMON = ["stack", "es-url", "ca", "user", "password", "password-file", "environment", "repository", "timeout"];
const KNOWN: Record<"take" | "restore", ReadonlySet<string>> = {
    take: new Set(COMMON),
    restore: new Set([...COMMON, "snapshot", "indices", "writer-role"]),
};

/** Where to connect and what to act on. */
export interface CommandSettings {
    readonly esUrl: string;
    readonly ca: string;
    readonly user: string;
    readonly password: string;
    readonly environment: string;
    readonly repository: string;
    readonly timeoutMs: number;
}

/** Settings from flags, $ELASTIC_PASSWORD and, only when flags leave something open, the stack outputs. */
export function resolveSettings(flags: Flags, readOutputs: () => StackOutputs, env: NodeJS.ProcessEnv, readFile: (p: string) => string = (p) => fs.readFileSync(p, "utf8")): CommandSettings {
    const { outputs, required, ca, envPassword } = commonInputs(flags, ["es-url", "ca", "environment", "repository"], readOutputs, env, readFile);
    return {
        esUrl: required("es-url", "elasticsearchUrl", last(flags, "es-url") ?? outputs.elasticsearchUrl),
        ca,
        user: last(flags, "user") ?? outputs.elasticUser ?? "elastic",
        password: required("password-file", "elasticPassword", envPassword ?? outputs.elasticPassword),
        environment: required("environment", "environment", last(flags, "environment") ?? outputs.environment),
        repository: required("repository", "snapshots.repository", last(flags, "repository") ?? outputs.snapshots?.repository),
        timeoutMs: integer(last(flags, "timeout") ?? "3600", "--timeout", 1, 86_400) * 1000,
    };
}

/** Runs `take` or `restore` with `argv`; returns the exit status. Output goes through `out` and `err`. */
export async function runCommand(
    command: "take" | "restore",
    argv: readonly string[],
    deps: { readOutputs?: (stack: string | undefined) => StackOutputs; env?: NodeJS.ProcessEnv; out?: (line: string) => void; err?: (line: string) => void; pollIntervalMs?: number } = {},
): Promise<number> {
    const out = deps.out ?? ((l: string) => console.log(l));
    const err = deps.err ?? ((l: string) => console.error(l));
    const label = command === "take" ? "snapshot" : "restore";
    let settings: CommandSettings;
    let flags: Flags;
    try {
        flags = parseFlags(argv, KNOWN[command], command === "restore" ? new Set(["force"]) : new Set());
        settings = resolveSettings(flags, () => (deps.readOutputs ?? pulumiStackOutputs)(last(flags, "stack")), deps.env ?? process.env);
        if (command === "restore" && last(flags, "snapshot") === undefined) throw new UsageError("--snapshot NAME is required (list them: GET _snapshot/<repository>/_all)");
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        err(`${label}: ${e.message}`);
        return 2;
    }
    const client = elasticsearchClient({ esUrl: settings.esUrl, ca: settings.ca, user: settings.user, password: settings.password, requestTimeoutMs: 30_000 });
    const target: SnapshotTarget = {
        client,
        repository: settings.repository,
        environment: settings.environment,
        log: (line) => out(`${label}: ${line}`),
        pollIntervalMs: deps.pollIntervalMs,
        timeoutMs: settings.timeoutMs,
    };
    try {
        if (command === "take") {
            await takeSnapshot(target);
        } else {
            await restoreSnapshot(target, { snapshot: last(flags, "snapshot") as string, indices: last(flags, "indices"), force: flags.has("force"), writerRoles: flags.get("writer-role") });
        }
        return 0;
    } catch (e) {
        err(`${label}: FAILED: ${e instanceof SnapshotError ? e.message : e instanceof Error ? e.message : String(e)}`);
        return 1;
    } finally {
        await client.close();
    }
}

if (require.main === module) {
    const [command, ...rest] = process.argv.slice(2);
    if (command !== "take" && command !== "restore") {
        console.error("usage: snapshot.ts take|restore [flags]");
        process.exit(2);
    }
    runCommand(command, rest).then(
        (code) => process.exit(code),
        (e: unknown) => {
            console.error(`${command}: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(1);
        },
    );
}
