/**
 * A recording double of the Automation API surface the scripts use (scripts/automation/stack.ts): every call
 * lands in one shared log, in order, so a test reads the sequence a real run would have sent to Pulumi. Each
 * operation can be told to fail.
 */
import type { ConfigMap, DestroyOptions, DestroyResult, OutputMap, UpOptions, UpResult, UpdateKind, UpdateSummary } from "@pulumi/pulumi/automation";
import type { StackHandle, StackWorkspace } from "../../scripts/automation/stack";

/** Operations a test can make fail. */
export type FailingOp = "createOrSelectStack" | "selectStack" | "up" | "up#2" | "destroy" | "removeStack" | "setAllConfig";

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
}

function summary(kind: UpdateKind, result: UpdateSummary["result"]): UpdateSummary {
    const at = new Date(0);
    return { kind, startTime: at, endTime: at, message: "", environment: {}, config: {}, result, version: 1, resourceChanges: { create: 1 } };
}

/** A StackHandle whose calls are recorded under its name. */
class RecordingStack implements StackHandle {
    private ups = 0;
    readonly config: ConfigMap[] = [];
    constructor(
        readonly name: string,
        private readonly o: DoubleOptions,
    ) {}

    private failing(op: FailingOp): boolean {
        return this.o.fail?.includes(op) ?? false;
    }

    setAllConfig(config: ConfigMap): Promise<void> {
        const shown = Object.entries(config)
            .map(([k, v]) => `${k}=${v.value}`)
            .sort()
            .join(",");
        this.o.calls.push(`setAllConfig ${this.name} ${shown}`);
        this.config.push(config);
        return this.failing("setAllConfig") ? Promise.reject(new Error("setAllConfig failed")) : Promise.resolve();
    }

    up(opts?: UpOptions): Promise<UpResult> {
        this.ups++;
        this.o.calls.push(`up ${this.name}`);
        this.o.upSignals?.push(opts?.signal);
        if (this.o.progressText !== undefined) opts?.onOutput?.(this.o.progressText);
        if (this.failing("up") || (this.ups === 2 && this.failing("up#2"))) return Promise.reject(new Error(`up #${this.ups} failed: error: Docker container es01 unhealthy`));
        return Promise.resolve({ stdout: "", stderr: "", outputs: this.o.outputs ?? {}, summary: summary("update", "succeeded") });
    }

    destroy(opts?: DestroyOptions): Promise<DestroyResult> {
        this.o.calls.push(`destroy ${this.name}`);
        if (this.o.progressText !== undefined) opts?.onOutput?.(this.o.progressText);
        if (this.failing("destroy")) return Promise.reject(new Error("destroy failed: container in use"));
        return Promise.resolve({ stdout: "", stderr: "", summary: summary("destroy", "succeeded") });
    }

    outputs(): Promise<OutputMap> {
        this.o.calls.push(`outputs ${this.name}`);
        return Promise.resolve(this.o.outputs ?? {});
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
    return {
        stacks,
        createOrSelectStack: (name) => {
            options.calls.push(`createOrSelectStack ${name}`);
            return failing("createOrSelectStack") ? Promise.reject(new Error("stack init failed: passphrase must be set")) : Promise.resolve(open(name));
        },
        selectStack: (name) => {
            options.calls.push(`selectStack ${name}`);
            if (failing("selectStack")) return Promise.reject(new Error("select failed"));
            return Promise.resolve(options.existing?.includes(name) || stacks.has(name) ? open(name) : undefined);
        },
        removeStack: (name) => {
            options.calls.push(`removeStack ${name}`);
            return failing("removeStack") ? Promise.reject(new Error("remove failed")) : Promise.resolve();
        },
    };
}
