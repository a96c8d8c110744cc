/**
 * `npm run e2e` flags, and the config of the stack the run brings up: the dev stack's config with its own
 * cluster name (and, on Kubernetes, a namespace of its own), plus the change applied under load. Pure.
 */
import { parseArgs } from "util";
import { CONFIG_SCHEMA, ConfigError, PASSWORD_KEYS, type StackConfig, type Target, parseStackConfig } from "../../components/model/config";
import {
    CliConfigError,
    type CliConfigValue,
    type Decrypter,
    IDENTITY_DECRYPTER,
    type ProjectFile,
    type ResolvedConfig,
    type StackFile,
    fromJson,
    goJson,
    projectValues,
    qualifyKey,
    resolveStackConfig,
    stackConfigFromTexts,
} from "../cliConfig";

/** A usage error: exit status 2. */
export class UsageError extends Error {}

/** What a run does. */
export interface E2eOptions {
    readonly target: Target;
    /** Events per second per source. */
    readonly ratePerSource: number;
    /** Config changes applied while the load runs, key → value (keys without the project prefix). */
    readonly change: Readonly<Record<string, string>>;
    /** Leave the stack running at the end instead of destroying and removing it. */
    readonly keep: boolean;
    /** Largest share of nginx events that may be lost, 0..1. */
    readonly nginxLossThreshold: number;
    readonly reportFile: string;
    /** Seconds of load before the change, and after the stack is healthy again. */
    readonly loadBeforeSeconds: number;
    readonly loadAfterSeconds: number;
    /** Longest wait for the last events to become searchable after the load stops, seconds. */
    readonly drainTimeoutSeconds: number;
}

/** Defaults, in one place (the table in docs/testing.md repeats them). */
export const E2E_DEFAULTS = {
    ratePerSource: 200,
    nginxLossThreshold: 0.25,
    reportFile: "e2e-report.json",
    loadBeforeSeconds: 30,
    loadAfterSeconds: 30,
    drainTimeoutSeconds: 120,
} as const;

/**
 * The change when none is given: more heap for Elasticsearch and Logstash, which recreates both containers
 * (pods) and stays within 75% of the dev stack's memory limits (1536 and 1024 MiB).
 */
export const DEFAULT_CHANGE: Readonly<Record<string, string>> = { elasticsearchHeapMb: "576", logstashHeapMb: "576" };

/** Keys a change may not touch: where the stack runs and what it is called, and secrets (never on a command line). */
const FIXED_KEYS: readonly string[] = ["target", "clusterName", "kubernetesNamespace", "environment", ...PASSWORD_KEYS];

function wholeNumber(text: string, flag: string, min: number, max: number): number {
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got '${text}'`);
    return n;
}

/** A loss threshold: a fraction (0.05) or a percentage (5%). */
export function parseThreshold(text: string): number {
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
    const value = m ? Number(m[1]) / (m[2] === "%" ? 100 : 1) : NaN;
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`--nginx-loss-threshold must be a fraction from 0 to 1 (0.05) or a percentage (5%), got '${text}'`);
    return value;
}

/** Parses the flags; throws {@link UsageError} naming the flag and what it accepts. */
export function parseE2eArgs(argv: readonly string[]): E2eOptions {
    let values: ReturnType<typeof parse>["values"];
    try {
        values = parse(argv).values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const target = values.target;
    if (target !== "docker" && target !== "kubernetes") throw new UsageError(`--target must be docker or kubernetes, got ${target === undefined ? "nothing" : `'${target}'`}`);
    const change: Record<string, string> = {};
    for (const c of values.change ?? []) {
        const eq = c.indexOf("=");
        if (eq <= 0) throw new UsageError(`--change takes key=value (e.g. --change elasticsearchHeapMb=640), got '${c}'`);
        const k = c.slice(0, eq).replace(/^elk-stack:/, "");
        if (!(k in CONFIG_SCHEMA)) throw new UsageError(`--change ${k}: no such config key (see components/model/configSchema.ts)`);
        if (FIXED_KEYS.includes(k)) throw new UsageError(`--change ${k}: the e2e run sets this key itself and a change may not touch it`);
        change[k] = c.slice(eq + 1);
    }
    return {
        target,
        ratePerSource: values.rate !== undefined ? wholeNumber(values.rate, "rate", 1, 5000) : E2E_DEFAULTS.ratePerSource,
        change: Object.keys(change).length > 0 ? change : DEFAULT_CHANGE,
        keep: values.keep ?? false,
        nginxLossThreshold: values["nginx-loss-threshold"] !== undefined ? parseThreshold(values["nginx-loss-threshold"]) : E2E_DEFAULTS.nginxLossThreshold,
        reportFile: values.report ?? E2E_DEFAULTS.reportFile,
        loadBeforeSeconds: values["load-before"] !== undefined ? wholeNumber(values["load-before"], "load-before", 0, 3600) : E2E_DEFAULTS.loadBeforeSeconds,
        loadAfterSeconds: values["load-after"] !== undefined ? wholeNumber(values["load-after"], "load-after", 0, 3600) : E2E_DEFAULTS.loadAfterSeconds,
        drainTimeoutSeconds: values["drain-timeout"] !== undefined ? wholeNumber(values["drain-timeout"], "drain-timeout", 1, 3600) : E2E_DEFAULTS.drainTimeoutSeconds,
    };
}

function parse(argv: readonly string[]) {
    return parseArgs({
        args: [...argv],
        strict: true,
        allowPositionals: false,
        options: {
            target: { type: "string" },
            rate: { type: "string" },
            change: { type: "string", multiple: true },
            keep: { type: "boolean" },
            "nginx-loss-threshold": { type: "string" },
            report: { type: "string" },
            "load-before": { type: "string" },
            "load-after": { type: "string" },
            "drain-timeout": { type: "string" },
        },
    });
}

/**
 * One key of the run's stack as the run sets it (`pulumi config set-all --json`, the format of `pulumi config --json`):
 * its plaintext, whether it is a secret (encrypted under the run's own passphrase) and whether it is a JSON list or
 * map (an object value, as a YAML list in a stack file is).
 */
export interface E2eConfigValue {
    readonly value: string;
    readonly secret: boolean;
    readonly object: boolean;
}

/** The run's stack config, by fully qualified key (`elk-stack:target`), as it is set: no defaults applied. */
export type E2eConfig = Readonly<Record<string, E2eConfigValue>>;

/** Name of the run's stack. */
export function e2eStackName(run: string): string {
    return `e2e-${run.replace(/^e2e/, "")}`;
}

/**
 * The dev stack file's config as the run's stack holds it: each value as the CLI keeps it, a secret decrypted (with
 * `decrypt`, the dev stack's secrets manager) so that the run can set it as a secret of its own stack.
 */
export function e2eBaseConfig(stackFile: StackFile, decrypt: Decrypter): E2eConfig {
    const out: Record<string, E2eConfigValue> = {};
    for (const [key, v] of stackFile.config) {
        const value = v.secure && !v.object ? decrypt(v.text, key) : v.secure ? goJson(fromJson(JSON.parse(v.text)), (leaf) => JSON.stringify(decrypt(leaf.ciphertext, key))) : v.text;
        out[key] = { value, secret: v.secure, object: v.object };
    }
    return out;
}

/** A config value as a stack file holding it would (scripts/cliConfig.ts), to resolve it as the CLI would. */
function asStackConfig(config: E2eConfig): Map<string, CliConfigValue> {
    return new Map(Object.entries(config).map(([k, v]) => [k, { text: v.value, secure: v.secret, object: v.object }]));
}

/** What the program of the run's stack receives, and the settings it reads from it; throws what either refuses. */
export function e2eSettings(project: ProjectFile, stack: string, config: E2eConfig): { resolved: ResolvedConfig; settings: StackConfig } {
    const resolved = resolveStackConfig(project, stack, asStackConfig(config), IDENTITY_DECRYPTER);
    const values = projectValues(project, resolved);
    const secret = new Set(resolved.secretKeys);
    const settings = parseStackConfig({ project: project.name, stack, get: (k) => values[k], isSecret: (k) => secret.has(`${project.name}:${k}`) });
    return { resolved, settings };
}

/**
 * The config of the run's stack before and after the change: the dev stack's config with a cluster name of the
 * run's own (so that its Docker containers, network and volumes are new ones, never an earlier run's) and, on
 * Kubernetes, a namespace of its own; then the change. Each is resolved as the Pulumi CLI resolves it and checked by
 * the same parser `pulumi up` runs, so a change the CLI or the program would refuse fails here, before anything is
 * created. Throws {@link UsageError}.
 */
export function e2eStackConfigs(project: ProjectFile, base: E2eConfig, options: Pick<E2eOptions, "target" | "change">, run: string): { before: E2eConfig; after: E2eConfig; settings: StackConfig } {
    const stack = e2eStackName(run);
    const key = (k: string) => qualifyKey(project.name, k);
    const plain = (value: string): E2eConfigValue => ({ value, secret: false, object: false });
    const before: E2eConfig = {
        ...base,
        [key("target")]: plain(options.target),
        [key("clusterName")]: plain(stack),
        ...(options.target === "kubernetes" ? { [key("kubernetesNamespace")]: plain(stack) } : {}),
    };
    // A change is given as text on the command line: a list for a key Pulumi.yaml declares an array, else a string.
    const changed = stackConfigFromTexts(project, options.change);
    const after: E2eConfig = { ...before, ...Object.fromEntries([...changed].map(([k, v]) => [k, { value: v.text, secret: false, object: v.object }])) };
    const checked: Record<string, ResolvedConfig> = {};
    let settings: StackConfig | undefined;
    for (const [when, config] of [["before the change", before], ["after the change", after]] as const) {
        try {
            const r = e2eSettings(project, stack, config);
            checked[when] = r.resolved;
            settings ??= r.settings;
        } catch (err) {
            if (err instanceof ConfigError || err instanceof CliConfigError) throw new UsageError(`the e2e stack's config ${when} is invalid: ${err.message}`);
            throw err;
        }
    }
    // What the program receives decides whether anything changes: the CLI writes Pulumi.yaml's defaults in.
    const unchanged = Object.keys(options.change).filter((k) => checked["before the change"].values[key(k)] === checked["after the change"].values[key(k)]);
    if (unchanged.length === Object.keys(options.change).length) {
        throw new UsageError(`--change ${unchanged.map((k) => `${k}=${options.change[k]}`).join(" ")} changes nothing: the stack already has ${unchanged.length === 1 ? "that value" : "those values"}`);
    }
    return { before, after, settings: settings as StackConfig };
}

/** The config as `pulumi config set-all --json` takes it (Automation API `setAllConfigJson`). */
export function toConfigJson(config: E2eConfig): string {
    return JSON.stringify(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v.value, secret: v.secret, ...(v.object ? { objectValue: JSON.parse(v.value) as unknown } : {}) }])),
    );
}
