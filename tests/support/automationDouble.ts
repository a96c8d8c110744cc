/**
 * A recording double of the Automation API surface the scripts use (scripts/automation/stack.ts): every call
 * lands in one shared log, in order, so a test reads the sequence a real run would have sent to Pulumi. Each
 * operation can be told to fail.
 *
 * As strict as what it stands for (@pulumi/pulumi 3.248.0's automation module and the CLI it runs):
 *  - a failure is a real CommandError, made by the Automation API's own `exec` (automation/cmd.js) running a stand-in
 *    `pulumi` that prints the error and exits 255, so the error has the shape scripts meet (code -2, execa's error);
 *  - `setAllConfigJson` takes `pulumi config set-all --json` input as the CLI does (pkg/cmd/pulumi/config/config.go:
 *    an object of `{value, objectValue?, secret}`; a key without a value is refused) and keeps each value's kind;
 *  - creating a stack with the passphrase secrets manager writes its salt into `<workDir>/Pulumi.<stack>.yaml`
 *    (pkg/cmd/pulumi/stack/io.go `CreateStack` saves the project stack), and an update or destroy whose config file
 *    has no salt writes one into that file (pkg/cmd/pulumi/config/io.go `getAndSaveSecretsManager`): the file named by
 *    `configFile`, else `Pulumi.<stack>.yaml`;
 *  - `up` refuses a `policyPacks` folder without a PulumiPolicy.yaml, and a `configFile` that does not exist;
 *  - `exportStack` answers the deployment's resources: none before the first update, the stack and what the update
 *    created after it (on a failed update: the resources the test says it left);
 *  - `removeStack` deletes `<workDir>/Pulumi.<stack>.yaml`, as `pulumi stack rm` does without --preserve-config.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommandError, type Deployment, type DestroyOptions, type DestroyResult, type OutputMap, PulumiCommand, type UpOptions, type UpResult, type UpdateKind, type UpdateSummary } from "@pulumi/pulumi/automation";
import type { StackHandle, StackWorkspace } from "../../scripts/automation/stack";

/** Operations a test can make fail. */
export type FailingOp = "createOrSelectStack" | "selectStack" | "up" | "up#2" | "destroy" | "removeStack" | "setAllConfigJson";

/** The double's settings. */
export interface DoubleOptions {
    readonly calls: string[];
    readonly fail?: readonly FailingOp[];
    /** Outputs every `up` returns. */
    readonly outputs?: OutputMap;
    /** Stacks that exist before the test (selectStack finds them). */
    readonly existing?: readonly string[];
    /** Text each `up` and `destroy` writes to onOutput, as the CLI's progress would. */
    readonly progressText?: string;
    /** Receives the abort signal each `up` was given (undefined when none). */
    readonly upSignals?: (AbortSignal | undefined)[];
    /** Receives the options each `up` was given. */
    readonly upOptions?: (UpOptions | undefined)[];
    /** The project folder: where the stack files are (see the module comment). Without it, no file is written. */
    readonly workDir?: string;
    /** Resource types a failed `up` leaves in the stack's state (none: it failed before creating anything). */
    readonly leftByFailedUp?: readonly string[];
    /** What a failing operation prints on stderr (default: a line naming the operation). */
    readonly errorText?: Partial<Record<FailingOp, string>>;
}

function summary(kind: UpdateKind, result: UpdateSummary["result"]): UpdateSummary {
    const at = new Date(0);
    return { kind, startTime: at, endTime: at, message: "", environment: {}, config: {}, result, version: 1, resourceChanges: { create: 1 } };
}

/**
 * The CommandError the Automation API throws when `pulumi <args>` prints `stderr` and exits 255: made by the API's
 * own exec, running a stand-in CLI (it answers `version` so that PulumiCommand.get accepts it).
 */
export async function realCommandError(args: readonly string[], stderr: string): Promise<CommandError> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "elk-cli-"));
    try {
        fs.mkdirSync(path.join(root, "bin"));
        const quoted = `'${stderr.replace(/'/g, `'\\''`)}'`;
        fs.writeFileSync(path.join(root, "bin", "pulumi"), `#!/bin/sh\nif [ "$1" = version ]; then echo v3.248.0; exit 0; fi\nprintf '%s\\n' ${quoted} >&2\nexit 255\n`, { mode: 0o755 });
        const cli = await PulumiCommand.get({ root, skipVersionCheck: true });
        // `run` is what every Automation API operation goes through; it is internal to the SDK's typings.
        const run = (cli as unknown as { run(a: string[], cwd: string, env: Record<string, string>): Promise<unknown> }).run.bind(cli);
        await run([...args], root, {});
    } catch (err) {
        if (err instanceof CommandError) return err;
        throw err;
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
    throw new Error(`the stand-in pulumi did not fail for ${args.join(" ")}`);
}

/** The salt line the passphrase secrets manager writes (pkg/secrets/passphrase/manager.go: `v1:<salt>:<check>`). */
const SALT_LINE = "encryptionsalt: v1:c2FsdHNhbHQ=:v1:AAAAAAAAAAAAAAAA:Y2hlY2s=";

/** What the CLI does to a stack file when its secrets manager has no state in it: writes the salt at the top. */
function saveSalt(file: string): void {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (/^encryptionsalt:/m.test(text)) return;
    fs.writeFileSync(file, `${SALT_LINE}\n${text}`);
}

/** A StackHandle whose calls are recorded under its name. */
class RecordingStack implements StackHandle {
    private ups = 0;
    /** Resource types in the stack's state. */
    private resources: string[] = [];
    /** The config as `pulumi config set-all --json` left it: key to value, secret flag and object flag. */
    readonly config = new Map<string, { value: string; secret: boolean; object: boolean }>();
    constructor(
        readonly name: string,
        private readonly o: DoubleOptions,
    ) {}

    private failing(op: FailingOp): boolean {
        return this.o.fail?.includes(op) ?? false;
    }

    private fail(op: FailingOp, args: string[]): Promise<never> {
        return realCommandError(args, this.o.errorText?.[op] ?? `error: ${op} failed`).then((e) => Promise.reject(e));
    }

    /** The stack file an operation with these global options reads and saves (relative paths from the workDir). */
    private stackFile(configFile: string | undefined): string | undefined {
        if (this.o.workDir === undefined) return undefined;
        return configFile !== undefined ? path.resolve(this.o.workDir, configFile) : path.join(this.o.workDir, `Pulumi.${this.name}.yaml`);
    }

    async setAllConfigJson(configJson: string): Promise<void> {
        let parsed: unknown;
        try {
            parsed = JSON.parse(configJson);
        } catch (err) {
            throw new Error(`could not parse --json argument: ${(err as Error).message}`);
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("could not parse --json argument: not an object");
        const entries = Object.entries(parsed as Record<string, { value?: unknown; objectValue?: unknown; secret?: unknown }>);
        for (const [key, v] of entries) {
            // pkg/cmd/pulumi/config/config.go: every key needs its value; the value is text, objectValue its parse.
            if (v.value === undefined || v.value === null) throw new Error(`value for --json object key "${key}" is nil`);
            if (typeof v.value !== "string") throw new Error(`could not parse --json argument: value of ${key} is not a string`);
            if (v.objectValue !== undefined && JSON.stringify(v.objectValue) !== JSON.stringify(JSON.parse(v.value))) throw new Error(`${key}: objectValue is not the value's parse`);
            if (!/^[^:]+:[^:]+$/.test(key)) throw new Error(`invalid --json object key "${key}": the run's keys are namespaced`);
        }
        const shown = entries
            .map(([k, v]) => `${k}=${v.secret === true ? "[secret]" : String(v.value)}${v.objectValue !== undefined ? " (object)" : ""}`)
            .sort()
            .join(",");
        this.o.calls.push(`setAllConfigJson ${this.name} ${shown}`);
        if (this.failing("setAllConfigJson")) return this.fail("setAllConfigJson", ["config", "set-all", "--stack", this.name, "--json", configJson]);
        for (const [k, v] of entries) this.config.set(k, { value: String(v.value), secret: v.secret === true, object: v.objectValue !== undefined });
    }

    async up(opts?: UpOptions): Promise<UpResult> {
        this.ups++;
        this.o.calls.push(`up ${this.name}`);
        this.o.upSignals?.push(opts?.signal);
        this.o.upOptions?.push(opts);
        for (const pack of opts?.policyPacks ?? []) {
            const dir = path.resolve(this.o.workDir ?? process.cwd(), pack);
            if (!fs.existsSync(path.join(dir, "PulumiPolicy.yaml"))) throw await realCommandError(["up", "--policy-pack", pack], `error: could not load policy pack: no PulumiPolicy.yaml in ${dir}`);
        }
        const file = this.stackFile(opts?.configFile);
        if (opts?.configFile !== undefined && file !== undefined && !fs.existsSync(file)) throw await realCommandError(["up", "--config-file", opts.configFile], `error: could not read config file ${file}`);
        if (file !== undefined) saveSalt(file);
        if (this.o.progressText !== undefined) opts?.onOutput?.(this.o.progressText);
        if (this.failing("up") || (this.ups === 2 && this.failing("up#2"))) {
            this.resources = [...(this.o.leftByFailedUp ?? [])];
            throw await realCommandError(["up", "--yes", "--stack", this.name], this.o.errorText?.up ?? `error: up #${this.ups} failed: Docker container es01 unhealthy`);
        }
        this.resources = ["pulumi:pulumi:Stack", "pulumi:providers:docker", "docker:index/container:Container"];
        return { stdout: "", stderr: "", outputs: this.o.outputs ?? {}, summary: summary("update", "succeeded") };
    }

    async destroy(opts?: DestroyOptions): Promise<DestroyResult> {
        this.o.calls.push(`destroy ${this.name}`);
        const file = this.stackFile(opts?.configFile);
        if (file !== undefined) saveSalt(file);
        if (this.o.progressText !== undefined) opts?.onOutput?.(this.o.progressText);
        if (this.failing("destroy")) return this.fail("destroy", ["destroy", "--yes", "--stack", this.name]);
        this.resources = [];
        return { stdout: "", stderr: "", summary: summary("destroy", "succeeded") };
    }

    outputs(): Promise<OutputMap> {
        this.o.calls.push(`outputs ${this.name}`);
        return Promise.resolve(this.o.outputs ?? {});
    }

    exportStack(): Promise<Deployment> {
        this.o.calls.push(`exportStack ${this.name}`);
        const resources = this.resources.map((type, i) => ({ urn: `urn:pulumi:${this.name}::elk-stack::${type}::r${i}`, type, custom: !type.startsWith("pulumi:pulumi:") }));
        return Promise.resolve({ version: 3, deployment: { manifest: {}, resources } });
    }
}

/** A StackWorkspace that records every call into `options.calls`. */
export function recordingWorkspace(options: DoubleOptions): StackWorkspace & { readonly stacks: Map<string, RecordingStack> } {
    const stacks = new Map<string, RecordingStack>();
    const failing = (op: FailingOp) => options.fail?.includes(op) ?? false;
    const open = (name: string) => {
        const s = stacks.get(name) ?? new RecordingStack(name, options);
        stacks.set(name, s);
        return s;
    };
    // A removed stack stays in `stacks` for the test to read, and is gone for the workspace.
    const removed = new Set<string>();
    const exists = (name: string) => !removed.has(name) && (options.existing?.includes(name) || stacks.has(name));
    return {
        stacks,
        createOrSelectStack: async (name) => {
            options.calls.push(`createOrSelectStack ${name}`);
            if (failing("createOrSelectStack")) throw await realCommandError(["stack", "init", name], options.errorText?.createOrSelectStack ?? "error: could not create secrets manager for new stack: passphrase must be set");
            // `pulumi stack init` with the passphrase secrets manager saves the new salt into Pulumi.<stack>.yaml.
            if (!exists(name) && options.workDir !== undefined) saveSalt(path.join(options.workDir, `Pulumi.${name}.yaml`));
            removed.delete(name);
            return open(name);
        },
        selectStack: async (name) => {
            options.calls.push(`selectStack ${name}`);
            if (failing("selectStack")) throw await realCommandError(["stack", "select", name], options.errorText?.selectStack ?? "error: select failed");
            return exists(name) ? open(name) : undefined;
        },
        removeStack: async (name) => {
            options.calls.push(`removeStack ${name}`);
            if (failing("removeStack")) throw await realCommandError(["stack", "rm", name], options.errorText?.removeStack ?? "error: remove failed");
            removed.add(name);
            // `pulumi stack rm` deletes the stack's config file too, unless --preserve-config (stack_rm.go).
            if (options.workDir !== undefined) fs.rmSync(path.join(options.workDir, `Pulumi.${name}.yaml`), { force: true });
        },
    };
}
