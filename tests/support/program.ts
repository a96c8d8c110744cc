/**
 * Runs the real program (index.ts) under Pulumi's mock runtime and records every resource it registers:
 * type, name, inputs (secrets still wrapped, so tests can tell a secret from plain text), parent and
 * dependencies. TLS resources are backed by real key and certificate generation (realTls.ts).
 */
import * as crypto from "crypto";
import * as path from "path";
// Node's own timers, not the globals a test file may fake: the harness's waits run in real time.
import * as timers from "timers";
import type * as pulumiType from "@pulumi/pulumi";
import { IDENTITY_DECRYPTER, type ProjectFile, readProjectFile, readStackFile, resolveStackConfig, stackConfigFromTexts } from "../../scripts/cliConfig";
import { isSecretValue, unwrapSecrets } from "../../scripts/secretEnvelope";
import { captureProgramFailure } from "./programFailure";
import { withDeadline } from "./deadline";
import { memoKey, recall, remember } from "./programMemo";
import { withIsolatedSdk } from "./isolatedSdk";
import { realTlsState } from "./realTls";

export { isSecretValue, unwrapSecrets } from "../../scripts/secretEnvelope";

/** One resource the program registered. */
export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly parent: string;
    /** URNs of every resource this one depends on (explicit dependsOn and inputs). */
    readonly dependencies: readonly string[];
    /** Inputs as sent to the engine; secret values are `{[SECRET_SIG_KEY]: SECRET_SIG, value}` objects. */
    readonly inputs: Record<string, unknown>;
    /** State the mock returned (outputs). */
    readonly state: Record<string, unknown>;
    /** Resource options as sent to the engine. */
    readonly options: RecordedOptions;
}

/** The resource options the engine acts on, read off the registration request. */
export interface RecordedOptions {
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly ignoreChanges: readonly string[];
    readonly replaceOnChanges: readonly string[];
    readonly deleteBeforeReplace: boolean;
    /** Aliases as the engine receives them (`{ spec: { name, type, ... } }` or a URN). */
    readonly aliases: readonly unknown[];
    /** Provider reference (`<provider URN>::<id>`) the resource is registered with; "" for the default provider. */
    readonly provider: string;
    /** `customTimeouts` as sent ("" where unset). */
    readonly customTimeouts: { readonly create: string; readonly update: string; readonly delete: string };
}

const NO_OPTIONS: RecordedOptions = {
    protect: false,
    retainOnDelete: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    deleteBeforeReplace: false,
    aliases: [],
    provider: "",
    customTimeouts: { create: "", update: "", delete: "" },
};

/** A resolved stack output. */
export interface ResolvedOutput {
    readonly value: unknown;
    readonly secret: boolean;
}

/** What one program run produced. */
export interface ProgramRun {
    readonly resources: RecordedResource[];
    readonly outputs: Record<string, ResolvedOutput>;
    /** Values the mocks generated for secrets (passwords, keys); none may appear in plain text. */
    readonly generatedSecrets: string[];
}

/** Options of {@link runProgram}. */
export interface RunOptions {
    readonly stack?: string;
    readonly preview?: boolean;
    /** Config keys (without project prefix) set as secrets. */
    readonly secretKeys?: readonly string[];
    /**
     * The program to run instead of index.ts; its module imports must happen inside it (`await import(...)`), so
     * that they load with the run's own Pulumi SDK. Returns the stack outputs.
     */
    readonly program?: () => Promise<Record<string, unknown>>;
    /**
     * The stack's outputs from its last update, as a reference to the stack itself reads them back (the engine's
     * built-in provider answers with `{ name, outputs, secretOutputNames }`); none by default, as for a new stack.
     */
    readonly previousOutputs?: Record<string, unknown>;
    /**
     * The value each `pulumi:index:Stash` (by resource name) saved at its creation in an earlier update. The
     * engine's built-in provider keeps that first value as `output` on every later update
     * (pulumi/pulumi pkg/resource/deploy/builtins.go); without an entry, the stash is created now.
     */
    readonly stashed?: Record<string, unknown>;
    /**
     * Answers reads of live objects (`Resource.get`): the object's state, or a throw for one that does not exist.
     * Without it a read returns its inputs.
     */
    readonly reads?: (type: string, id: string) => Record<string, unknown>;
}

function mockPassword(name: string, length: number): string {
    const base = crypto.createHash("sha256").update(name).digest("base64").replace(/[^a-zA-Z0-9]/g, "");
    return (base + base).slice(0, length);
}

type RegisterRequest = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getProtect(): boolean;
    getRetainondelete(): boolean;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getDeletebeforereplace(): boolean;
    getAliasesList(): { toObject(): unknown }[];
    getProvider(): string;
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
};

const ROOT = path.join(__dirname, "..", "..");
let project: ProjectFile | undefined;
/** The repository's Pulumi.yaml, read once. */
function projectFile(): ProjectFile {
    project ??= readProjectFile(ROOT);
    return project;
}

/** How long the run may still register resources after it failed, and the quiet time that ends the wait. */
const SETTLE_LIMIT_MS = 30_000;
const SETTLE_QUIET_MS = 1000;

/**
 * Evaluates index.ts for a project "elk-stack" stack with the given config and returns what it registered.
 * `config` is what a stack file would hold (keys bare or namespaced, each value the text the program is to receive;
 * `secretKeys` are held encrypted): the program gets it as the Pulumi CLI would hand it over, with every default of
 * Pulumi.yaml applied and the declared types checked (scripts/cliConfig.ts). Throws what the CLI refuses
 * (CliConfigError, before the program runs), what the program throws (e.g. a config error), and the first resource
 * registration that fails (an input that rejects, as a change the program refuses does): the engine ends a program
 * on either.
 */
export async function runProgram(config: Record<string, string>, options: RunOptions = {}): Promise<ProgramRun> {
    // The same config and options evaluated earlier in this test run give the same record (programMemo.ts).
    const memo = memoKey(config, options);
    const remembered = memo === undefined ? undefined : recall<ProgramRun>(memo);
    if (remembered) return remembered;
    const stack = options.stack ?? "dev";
    const cliConfig = resolveStackConfig(projectFile(), stack, stackConfigFromTexts(projectFile(), config, options.secretKeys), IDENTITY_DECRYPTER);
    const resources: RecordedResource[] = [];
    const generatedSecrets: string[] = [];
    const deps = new Map<string, { urn: string; parent: string; dependencies: string[]; options: RecordedOptions }>();
    let outputs: Record<string, ResolvedOutput> = {};
    // The engine refuses a program that registers one URN twice; the mock monitor does not check, so this does.
    const seenUrns = new Set<string>();
    const duplicateUrns: string[] = [];
    // The program fails as under the engine, on its first unhandled rejection (programFailure.ts); when the runtime
    // last did anything tells when what it started has settled.
    const capture = captureProgramFailure();
    let lastActivity = Date.now();

    const exitListeners = process.listeners("exit");
    // The SDK captures a stack trace for every promise it makes (runtime/debuggable.js `debuggablePromise`, for its
    // leak report at exit, which a test run never prints): each frame costs V8 a few microseconds, and a run makes
    // thousands of them. No frames during an evaluation cut a prod evaluation's CPU time from about 0.82 s (10 frames;
    // 1.3 s with jest's 100) to 0.58 s on the quiet 2-core machine. Errors the program throws keep their messages;
    // ELK_TEST_STACK_FRAMES=N gives them N frames again when a failure needs its trace.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = Number(process.env.ELK_TEST_STACK_FRAMES ?? 0);
    await withIsolatedSdk(async () => {
        const pulumi: typeof pulumiType = await import("@pulumi/pulumi");
        await pulumi.runtime.setMocks(
            {
                newResource: async (args) => {
                    lastActivity = Date.now();
                    if (args.id !== undefined && args.id !== "" && options.reads) {
                        const state = options.reads(args.type, args.id);
                        resources.push({ type: args.type, name: args.name, urn: "", parent: "", dependencies: [], inputs: args.inputs as Record<string, unknown>, state, options: NO_OPTIONS });
                        return { id: args.id, state };
                    }
                    const inputs = args.inputs as Record<string, unknown>;
                    const d = deps.get(`${args.type}::${args.name}`) ?? { urn: "", parent: "", dependencies: [], options: NO_OPTIONS };
                    // Recorded in registration order, though a certificate's state is ready only when openssl is done.
                    const slot = resources.push({ type: args.type, name: args.name, urn: d.urn, parent: d.parent, dependencies: d.dependencies, inputs, state: {}, options: d.options }) - 1;
                    let state: Record<string, unknown> = { ...inputs };
                    const tlsState = await realTlsState(args.type, unwrapSecrets(inputs) as Record<string, unknown>);
                    if (tlsState) {
                        state = tlsState;
                        for (const k of ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"]) {
                            if (typeof state[k] === "string") generatedSecrets.push(state[k]);
                        }
                    } else if (args.type === "random:index/randomPassword:RandomPassword") {
                        const result = mockPassword(args.name, Number(unwrapSecrets(inputs.length)));
                        generatedSecrets.push(result);
                        state = { ...inputs, result };
                    } else if (args.type === "pulumi:pulumi:StackReference") {
                        state = { name: inputs.name, outputs: options.previousOutputs ?? {}, secretOutputNames: [] };
                    } else if (args.type === "pulumi:index:Stash") {
                        const earlier = options.stashed?.[args.name];
                        state = { input: inputs.input, output: earlier === undefined ? inputs.input : earlier };
                    } else if (args.type === "docker:index/remoteImage:RemoteImage") {
                        state = { ...inputs, imageId: `sha256:${crypto.createHash("sha256").update(String(inputs.name)).digest("hex")}` };
                    } else if (args.type === "docker:index/container:Container") {
                        state = { ...inputs, exitCode: 0, containerLogs: "" };
                    } else if (args.type.startsWith("kubernetes:") && !args.type.startsWith("pulumi:providers")) {
                        // Like the provider's auto-naming: an object without a name gets the resource name and a suffix.
                        const metadata = (unwrapSecrets(inputs.metadata) ?? {}) as Record<string, unknown>;
                        const suffix = crypto.createHash("sha256").update(args.name).digest("hex").slice(0, 8);
                        state = { ...inputs, metadata: { ...metadata, name: metadata.name ?? `${args.name}-${suffix}` } };
                    }
                    resources[slot] = { ...resources[slot], state };
                    lastActivity = Date.now();
                    return { id: `${args.name}-id`, state };
                },
                call: (args) => args.inputs as Record<string, unknown>,
            },
            "elk-stack",
            stack,
            options.preview ?? false,
            // What the CLI passes for a self-managed backend; a stack's reference to itself is named with it.
            "organization",
        );
        // MockResourceArgs carries no dependencies; read them off the request before the mocks see it.
        const monitor = pulumi.runtime.getMonitor() as unknown as {
            registerResource(req: RegisterRequest, cb: (...a: unknown[]) => void): void;
            newUrn(parent: string, type: string, name: string): string;
        };
        const original = monitor.registerResource.bind(monitor);
        // Every other call a run makes counts as activity too (settle below).
        const calls = monitor as unknown as Record<"registerResourceOutputs" | "invoke" | "readResource", (req: unknown, cb: (...a: unknown[]) => void) => void>;
        for (const method of ["registerResourceOutputs", "invoke", "readResource"] as const) {
            const originalCall = calls[method].bind(monitor);
            calls[method] = (req, cb) => {
                lastActivity = Date.now();
                originalCall(req, cb);
            };
        }
        monitor.registerResource = (req, cb) => {
            lastActivity = Date.now();
            const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
            if (seenUrns.has(urn)) duplicateUrns.push(urn);
            seenUrns.add(urn);
            deps.set(`${req.getType()}::${req.getName()}`, {
                urn,
                parent: req.getParent(),
                dependencies: req.getDependenciesList(),
                options: {
                    protect: req.getProtect(),
                    retainOnDelete: req.getRetainondelete(),
                    ignoreChanges: req.getIgnorechangesList(),
                    replaceOnChanges: req.getReplaceonchangesList(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    aliases: req.getAliasesList().map((a) => a.toObject()),
                    provider: req.getProvider(),
                    customTimeouts: {
                        create: req.getCustomtimeouts()?.getCreate() ?? "",
                        update: req.getCustomtimeouts()?.getUpdate() ?? "",
                        delete: req.getCustomtimeouts()?.getDelete() ?? "",
                    },
                },
            });
            original(req, cb);
        };
        pulumi.runtime.setAllConfig(cliConfig.values, [...cliConfig.secretKeys]);

        // Once the program has failed, nothing awaits run() any more: its deadlines must not keep the worker alive.
        const abandon = new AbortController();
        const run = async () => {
            const program = options.program ? await options.program() : ((await import("../../index")) as Record<string, unknown>);
            const resolved: Record<string, ResolvedOutput> = {};
            for (const [name, value] of Object.entries(program)) {
                if (pulumi.Output.isInstance(value)) {
                    // In a preview an unknown value never reaches apply: bounded, and named, rather than a hang.
                    const v = await withDeadline(new Promise<unknown>((resolve) => value.apply((x) => resolve(x))), 60_000, `the stack output ${name} to resolve`, abandon.signal);
                    resolved[name] = { value: v, secret: await pulumi.isSecret(value) };
                } else {
                    resolved[name] = { value, secret: false };
                }
            }
            await withDeadline(pulumi.runtime.disconnect(), 60_000, "the mock runtime's outstanding calls to finish (pulumi.runtime.disconnect)", abandon.signal);
            outputs = resolved;
        };
        await Promise.race([run().catch(capture.fail), capture.failed]);
        abandon.abort();
        // Node reports a rejection nobody handled once the microtask queue is empty, after the run above has ended
        // when the failure came with the last RPC (a registration refused as the runtime drained; the SDK releases the
        // RPC, then rethrows). The engine's handler stays for the life of the process (cmd/run/run.ts), so it fails
        // the program: so does the harness, which waits for that report here.
        await new Promise<void>((resolve) => timers.setImmediate(resolve));
        if (capture.error()) {
            // What the program started before it failed still runs against this run's mocks: let it finish here
            // (until the runtime has been quiet a while; what waits on a failed resource never ends), so none of it
            // reaches the next run's.
            const until = Date.now() + SETTLE_LIMIT_MS;
            let drained = false;
            void pulumi.runtime.disconnect().then(() => (drained = true), () => (drained = true));
            while (!drained && Date.now() - lastActivity < SETTLE_QUIET_MS && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        }
    }).finally(() => {
        capture.release();
        Error.stackTraceLimit = stackTraceLimit;
        dropExitListenersSince(exitListeners);
    });
    const failure = capture.error();
    if (failure) throw failure.error;
    if (duplicateUrns.length > 0) throw new Error(`the program registers these URNs more than once: ${[...new Set(duplicateUrns)].join(", ")}`);
    const run: ProgramRun = { resources, outputs, generatedSecrets };
    if (memo !== undefined) remember(memo, run);
    return run;
}

/**
 * Removes the `exit` listeners added since `before`. Each evaluation loads its own copy of the Pulumi SDK, whose
 * promise-leak report (runtime/debuggable.js) adds a listener to the test file's `process`, an object jest made for
 * the file that never emits `exit`: dead listeners that kept every copy of the SDK alive and passed Node's limit of
 * ten (MaxListenersExceededWarning).
 */
function dropExitListenersSince(before: readonly NodeJS.ExitListener[]): void {
    for (const listener of process.listeners("exit")) {
        if (!before.includes(listener)) process.removeListener("exit", listener);
    }
}

/** The type part of a URN (`parent$type` as the mock monitor writes it: the parent's own type only). */
function urnType(urn: string): string {
    return urn.split("::")[2];
}

/**
 * The URNs the engine would look up for `r`'s aliases, computed the way the mock monitor computes URNs
 * (runtime/mocks.js `newUrn` in @pulumi/pulumi: the parent's own type, then the resource's type, then the name).
 * An alias spec leaves out what stays the same: its name, type, stack, project or parent default to the resource's.
 */
export function aliasUrns(r: RecordedResource): string[] {
    // A read resource (a stack reference) has no URN of its own here, and no aliases.
    if (r.options.aliases.length === 0) return [];
    const m = /^urn:pulumi:(.*?)::(.*?)::/.exec(r.urn);
    if (!m) throw new Error(`not a URN: ${r.urn}`);
    const [, stack, project] = m;
    return r.options.aliases.map((a) => {
        const alias = a as { urn?: string; spec?: { name?: string; type?: string; stack?: string; project?: string; parenturn?: string; noparent?: boolean } };
        if (alias.urn) return alias.urn;
        const spec = alias.spec ?? {};
        const type = spec.type || r.type;
        const parent = spec.noparent ? "" : spec.parenturn || r.parent;
        const qualified = parent ? `${urnType(parent).split("$").pop()}$${type}` : type;
        return `urn:pulumi:${spec.stack || stack}::${spec.project || project}::${qualified}::${spec.name || r.name}`;
    });
}

/** The resources of one type. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/** The one resource with this type and name. */
export function resource(run: ProgramRun, type: string, name: string): RecordedResource {
    const found = run.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}; have: ${run.resources.map((r) => `${r.type}::${r.name}`).join(", ")}`);
    return found;
}

/** Every URN `r` depends on, directly or through its dependencies and component children. */
export function transitiveDependencies(run: ProgramRun, r: RecordedResource): Set<string> {
    const byUrn = new Map(run.resources.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const stack = [...r.dependencies];
    while (stack.length > 0) {
        const urn = stack.pop() as string;
        if (seen.has(urn)) continue;
        seen.add(urn);
        const next = byUrn.get(urn);
        if (next) stack.push(...next.dependencies);
    }
    return seen;
}

/**
 * A stack file's config as it stands in the file (no defaults: {@link runProgram} applies them), keys without the
 * project prefix, each value as the CLI hands it to the program (scripts/cliConfig.ts). The shipped stack files hold
 * no secure values; one that did would need its secret keys too, so it is refused.
 */
export function stackFileConfig(stack: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of readStackFile(ROOT, stack, projectFile().name).config) {
        if (v.secure) throw new Error(`Pulumi.${stack}.yaml holds ${k} encrypted: stackFileConfig cannot hand it over as plain text`);
        if (!k.startsWith(`${projectFile().name}:`)) throw new Error(`Pulumi.${stack}.yaml sets ${k}, of another namespace: stackFileConfig hands over the project's keys only`);
        out[k.slice(projectFile().name.length + 1)] = v.text;
    }
    return out;
}


/**
 * A stack file's config on the `manifests` Kubernetes engine: the stack's own StatefulSets instead of ECK's custom
 * resources, with the node sets' total as elasticsearchNodeCount (node sets and zones are eck-only).
 */
export function onManifestsEngine(config: Record<string, string>): Record<string, string> {
    const rest = Object.fromEntries(Object.entries(config).filter(([k]) => k !== "elasticsearchNodeSets" && k !== "elasticsearchZones"));
    const sets = config.elasticsearchNodeSets ? (JSON.parse(config.elasticsearchNodeSets) as { count: number }[]) : [];
    return { ...rest, kubernetesEngine: "manifests", ...(sets.length > 0 ? { elasticsearchNodeCount: String(sets.reduce((n, s) => n + s.count, 0)) } : {}) };
}

/** Every string in `v` that is not inside a secret wrapper, with its path. */
export function plainStrings(v: unknown, at = "", out: { at: string; s: string }[] = []): { at: string; s: string }[] {
    if (isSecretValue(v)) return out;
    if (typeof v === "string") out.push({ at, s: v });
    else if (Array.isArray(v)) v.forEach((x, i) => plainStrings(x, `${at}[${i}]`, out));
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) plainStrings(x, `${at}.${k}`, out);
    return out;
}
