/**
 * `npm run verify -- [flags]`: checks a deployed stack end to end (see components/operations/verify.ts).
 *
 * Values come from the stack outputs (`pulumi stack output --json --show-secrets`, of the stack `npm run up` made
 * when there is one: scripts/automation/outputs.ts), and flags override them:
 *   --stack NAME          the Pulumi stack to read outputs of (default: dev in npm run up's backend, else the selected one)
 *   --es-url URL          Elasticsearch (default: output elasticsearchUrl)
 *   --ca FILE             CA certificate, PEM (default: output caCertificate)
 *   --user NAME           default: output elasticUser, else elastic
 *   --password-file FILE  the password, read from a file (mode 0600); default: $ELASTIC_PASSWORD, else output
 *                         elasticPassword. `--password PW` is refused: `ps` would show it to every user.
 *   --environment ENV     data stream namespace (default: output environment)
 *   --sources LIST        "nginx:web,django:app" (default: output logSources, else the default sources)
 *   --logstash-host HOST  host of every Logstash port (default: from output logstashEndpoints)
 *   --nginx-port PORT     the nginx UDP port (default: from output logstashEndpoints, else 5140)
 *   --django-port [NAME=]PORT  a Django source's TLS port; repeat per source; without NAME, in source order
 *   --retention-days N    expected retention (default: output logRetentionDays; unchecked when absent)
 *   --count N             lines per source (default 20)
 *   --timeout SECONDS     longest wait for the lines to be searchable (default 60)
 * Exit status: 0 all good, 1 a check failed, 2 bad flags or outputs.
 */
import * as fs from "fs";
import * as path from "path";
import { type LogSource, NGINX_SYSLOG_PORT, datasetFor, parseLogSources } from "../components/model/sources";
import type { SnapshotInfo } from "../components/resources/elkStack";
import { type VerifyOptions, type VerifySource, formatReport, verify } from "../components/operations/verify";
import { OutputsError, readStackOutputs } from "./automation/outputs";

/** A usage or configuration error: exit status 2. */
export class UsageError extends Error {}

/** Flags as given: each name maps to its values in order (repeatable flags keep every value). */
export type Flags = ReadonlyMap<string, readonly string[]>;

const KNOWN_FLAGS = new Set([
    "stack", "es-url", "ca", "user", "password", "password-file", "environment", "sources", "logstash-host", "nginx-port", "django-port", "retention-days", "count", "timeout",
]);

/**
 * Parses `--name value` and `--name=value` pairs of the `known` flags; a flag in `switches` takes no value and
 * records "true".
 */
export function parseFlags(argv: readonly string[], known: ReadonlySet<string> = KNOWN_FLAGS, switches: ReadonlySet<string> = new Set()): Flags {
    const flags = new Map<string, string[]>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("--")) throw new UsageError(`unexpected argument '${arg}'`);
        const eq = arg.indexOf("=");
        const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
        if (!known.has(name) && !switches.has(name)) throw new UsageError(`unknown flag --${name}`);
        if (switches.has(name)) {
            if (eq > 0) throw new UsageError(`--${name} takes no value`);
            flags.set(name, ["true"]);
            continue;
        }
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, [...(flags.get(name) ?? []), value]);
    }
    return flags;
}

/** The stack outputs verify reads; every one is optional, flags can stand in. */
export interface StackOutputs {
    readonly elasticsearchUrl?: string;
    readonly caCertificate?: string;
    readonly elasticUser?: string;
    readonly elasticPassword?: string;
    readonly environment?: string;
    readonly logRetentionDays?: number;
    /** Configured sources: LogSource objects or "kind:name[:port]" strings. */
    readonly logSources?: readonly (string | LogSource)[];
    /** `nginxSyslog: "host:port"`, and per Django source `django: { <name>: "host:port" }`. */
    readonly logstashEndpoints?: { readonly nginxSyslog?: string; readonly django?: Readonly<Record<string, string>> };
    /** The snapshot repository and policy (absent in stacks deployed before it existed). */
    readonly snapshots?: SnapshotInfo;
    /** The earliest certificate expiry and the renewal window (absent in stacks deployed before it existed). */
    readonly certificates?: { readonly earliestExpiry?: string; readonly renewBeforeDays: number };
}

/** The last value given for a flag. */
export function last(flags: Flags, name: string): string | undefined {
    const values = flags.get(name);
    return values?.[values.length - 1];
}

/** A whole number from min to max, or a {@link UsageError} naming `what`. */
export function integer(text: string, what: string, min: number, max: number): number {
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got '${text}'`);
    return n;
}

/** `host:port` (IPv6 in brackets) into its parts. */
export function splitHostPort(text: string): { host: string; port: number } {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
    if (!m) throw new UsageError(`'${text}' is not host:port`);
    return { host: m[1] ?? m[2], port: integer(m[3], `port in '${text}'`, 1, 65535) };
}

function sourcesFrom(flags: Flags, outputs: StackOutputs): Pick<LogSource, "name" | "kind" | "dataset" | "port">[] {
    const given = last(flags, "sources");
    try {
        if (given !== undefined) return parseLogSources(given.split(",").map((s) => s.trim()));
        const out = outputs.logSources;
        if (out !== undefined && out.every((s) => typeof s !== "string")) {
            return out.map((s) => ({ name: s.name, kind: s.kind, port: s.port, dataset: s.dataset ?? datasetFor(s.kind, s.name) }));
        }
        return parseLogSources(out);
    } catch (err) {
        throw new UsageError(`log sources: ${(err as Error).message}`);
    }
}

/** A value a command cannot do without: from a flag or an output, or a {@link UsageError} naming both. */
export type Required = (flag: string, output: string, value: string | undefined) => string;

/**
 * What every command that talks to the stack needs: the outputs (read only when the `sufficient` flags and a
 * password leave something open), the CA (from --ca or the outputs) and a way to demand values.
 */
export function commonInputs(
    flags: Flags,
    sufficient: readonly string[],
    readOutputs: () => StackOutputs,
    env: NodeJS.ProcessEnv,
    readFile: (p: string) => string,
): { outputs: StackOutputs; required: Required; ca: string; caFile: string | undefined; envPassword: string | undefined } {
    if (flags.has("password")) {
        throw new UsageError("--password puts the password on the command line, where ps shows it to every user: write it to a file only you can read and pass --password-file FILE");
    }
    const passwordFile = last(flags, "password-file");
    let filePassword: string | undefined;
    if (passwordFile !== undefined) {
        try {
            // One trailing line break is the file's, not the password's (echo and editors add it).
            filePassword = readFile(passwordFile).replace(/\r?\n$/, "");
        } catch (err) {
            throw new UsageError(`cannot read --password-file ${passwordFile}: ${(err as Error).message}`);
        }
    }
    const envPassword = filePassword ?? (env.ELASTIC_PASSWORD || undefined);
    const complete = sufficient.every((f) => flags.has(f)) && envPassword !== undefined;
    const outputs: StackOutputs = complete ? {} : readOutputs();
    const required: Required = (flag, output, value) => {
        if (value === undefined || value === "") throw new UsageError(`no ${flag.replace("-", " ")}: pass --${flag} or deploy a stack with output '${output}'`);
        return value;
    };
    const caFile = last(flags, "ca");
    let ca: string;
    try {
        ca = caFile !== undefined ? readFile(caFile) : required("ca", "caCertificate", outputs.caCertificate);
    } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`cannot read --ca ${caFile}: ${(err as Error).message}`);
    }
    return { outputs, required, ca, caFile, envPassword };
}

/**
 * Verify's options from flags, the environment (ELASTIC_PASSWORD) and stack outputs. The outputs are read
 * only when the flags leave a required value open, so verify runs without Pulumi when given everything.
 * Throws {@link UsageError} naming the missing value and the flag that provides it.
 */
export function resolveOptions(flags: Flags, readOutputs: () => StackOutputs, env: NodeJS.ProcessEnv, readFile: (p: string) => string = (p) => fs.readFileSync(p, "utf8")): VerifyOptions {
    const { outputs, required, ca, caFile, envPassword } = commonInputs(flags, ["es-url", "ca", "environment", "logstash-host"], readOutputs, env, readFile);
    const retention = last(flags, "retention-days");
    const endpoints = outputs.logstashEndpoints;
    const nginxOut = endpoints?.nginxSyslog !== undefined ? splitHostPort(endpoints.nginxSyslog) : undefined;
    const logstashHost = last(flags, "logstash-host") ?? nginxOut?.host;
    const nginxPort = last(flags, "nginx-port");

    const named = new Map<string, number>();
    const positional: number[] = [];
    for (const f of flags.get("django-port") ?? []) {
        const eq = f.indexOf("=");
        if (eq > 0) named.set(f.slice(0, eq), integer(f.slice(eq + 1), `--django-port ${f}`, 1, 65535));
        else positional.push(integer(f, "--django-port", 1, 65535));
    }
    const sources = sourcesFrom(flags, outputs);
    const djangoSources = sources.filter((s) => s.kind === "django");
    const verifySources: VerifySource[] = sources.map((s) => {
        const base = { name: s.name, kind: s.kind, dataset: s.dataset };
        const host = required("logstash-host", "logstashEndpoints", logstashHost);
        if (s.kind === "nginx") return { ...base, host, port: nginxPort !== undefined ? integer(nginxPort, "--nginx-port", 1, 65535) : (nginxOut?.port ?? NGINX_SYSLOG_PORT) };
        const out = endpoints?.django?.[s.name];
        const fromOut = out !== undefined ? splitHostPort(out) : undefined;
        const port = named.get(s.name) ?? positional[djangoSources.indexOf(s)] ?? fromOut?.port ?? s.port;
        return { ...base, host: last(flags, "logstash-host") ?? fromOut?.host ?? host, port };
    });

    return {
        esUrl: required("es-url", "elasticsearchUrl", last(flags, "es-url") ?? outputs.elasticsearchUrl),
        ca,
        caSource: caFile ?? "stack output caCertificate",
        user: last(flags, "user") ?? outputs.elasticUser ?? "elastic",
        password: required("password-file", "elasticPassword", envPassword ?? outputs.elasticPassword),
        environment: required("environment", "environment", last(flags, "environment") ?? outputs.environment),
        retentionDays: retention !== undefined ? integer(retention, "--retention-days", 1, 3650) : outputs.logRetentionDays,
        sources: verifySources,
        countPerSource: integer(last(flags, "count") ?? "20", "--count", 1, 10_000),
        timeoutMs: integer(last(flags, "timeout") ?? "60", "--timeout", 1, 3600) * 1000,
        // Stacks older than these outputs are checked without them.
        snapshots: outputs.snapshots?.repository !== undefined ? { repository: outputs.snapshots.repository, intervalHours: outputs.snapshots.intervalHours } : undefined,
        certificates: outputs.certificates?.earliestExpiry !== undefined ? { earliestExpiry: outputs.certificates.earliestExpiry, renewBeforeDays: outputs.certificates.renewBeforeDays } : undefined,
    };
}

/**
 * The stack's outputs (`pulumi stack output --json --show-secrets`), from the stack `npm run up` made when there is
 * one, else from the backend the CLI is logged in to (scripts/automation/outputs.ts). `instead` names the flags that
 * make the outputs unnecessary.
 */
export function pulumiStackOutputs(stack: string | undefined, instead = "the values as flags (--es-url, --ca, --environment, ...; the password with --password-file or $ELASTIC_PASSWORD)"): StackOutputs {
    try {
        return readStackOutputs<StackOutputs>(path.resolve(__dirname, ".."), stack);
    } catch (err) {
        if (!(err instanceof OutputsError)) throw err;
        throw new UsageError(`${err.message}. Or pass ${instead}.`);
    }
}

async function main(): Promise<number> {
    let options: VerifyOptions;
    try {
        const flags = parseFlags(process.argv.slice(2));
        options = resolveOptions(flags, () => pulumiStackOutputs(last(flags, "stack"), "--es-url, --ca, --environment and --logstash-host, and the password with --password-file or $ELASTIC_PASSWORD"), process.env);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(`verify: ${err.message}`);
        return 2;
    }
    console.log(`verify: ${options.esUrl}, environment ${options.environment}, ${options.sources.map((s) => `${s.kind}:${s.name} → ${s.host}:${s.port}`).join(", ")}`);
    const report = await verify({ ...options, log: (line) => console.log(`verify: ${line}`) });
    for (const line of formatReport(report)) (report.ok ? console.log : console.error)(line);
    return report.ok ? 0 : 1;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error(`verify: ${err instanceof Error ? err.message : String(err)}`);
            process.exit(1);
        },
    );
}
