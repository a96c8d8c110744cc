/**
 * The Automation API surface the scripts drive, as narrow interfaces: the real `Stack` and `LocalWorkspace` of
 * `@pulumi/pulumi/automation` satisfy them, and tests hand in doubles that record every call.
 */
import { LocalWorkspace, type PulumiCommand, Stack, StackNotFoundError } from "@pulumi/pulumi/automation";

/** The part of an Automation API `Stack` the scripts use. */
export type StackHandle = Pick<Stack, "name" | "up" | "destroy" | "outputs" | "setAllConfigJson" | "exportStack">;

/** Stacks of one project and backend. */
export interface StackWorkspace {
    /** Selects the stack, creating it first when the backend has none of that name. */
    createOrSelectStack(name: string): Promise<StackHandle>;
    /** Selects an existing stack; undefined when the backend has none of that name. */
    selectStack(name: string): Promise<StackHandle | undefined>;
    /** Removes the stack from the backend, and its `Pulumi.<name>.yaml`. */
    removeStack(name: string): Promise<void>;
}

/**
 * A LocalWorkspace on the project in `workDir` (its Pulumi.yaml and `index.ts`, as `pulumi up` runs them),
 * running `pulumi` with `envVars` added to every command.
 */
export async function localStackWorkspace(workDir: string, pulumiCommand: PulumiCommand, envVars: Readonly<Record<string, string>>): Promise<StackWorkspace> {
    const ws = await LocalWorkspace.create({ workDir, pulumiCommand, envVars: { ...envVars } });
    return {
        createOrSelectStack: (name) => Stack.createOrSelect(name, ws),
        selectStack: async (name) => {
            try {
                return await Stack.select(name, ws);
            } catch (err) {
                if (err instanceof StackNotFoundError) return undefined;
                throw err;
            }
        },
        removeStack: (name) => ws.removeStack(name),
    };
}

/** The string form of a stack output (quickstart, URLs); undefined when absent or not a string. */
export function outputText(outputs: Readonly<Record<string, { value: unknown }>>, name: string): string | undefined {
    const v = outputs[name]?.value;
    return typeof v === "string" ? v : undefined;
}
