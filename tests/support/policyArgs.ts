/**
 * Calls the pack's `validateResource` functions in process, with arguments built the way `@pulumi/policy` builds
 * them for the engine: inputs with every secret decrypted and unmarked, behind the SDK's proxy that throws on
 * reading a value unknown during preview.
 */
import * as policySdk from "@pulumi/policy";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { policies } from "../../policy/pack";
import { unwrapSecrets } from "./program";

/**
 * The SDK's unknown-checking proxy. Exported at run time, but declared internal (absent from the .d.ts); the
 * adapter under test must cope with exactly this object, so the real one is used rather than a look-alike.
 */
const unknownCheckingProxy = (policySdk as unknown as { unknownCheckingProxy: (props: unknown) => Record<string, unknown> }).unknownCheckingProxy;

/** A resource as the engine describes it to a policy. */
export interface EngineResource {
    readonly type: string;
    readonly name: string;
    /** Inputs in Pulumi's wire format: secrets as envelopes, unknowns as the unknown sentinel. */
    readonly inputs: Record<string, unknown>;
}

/** The arguments `@pulumi/policy` passes to `validateResource` for `r`. */
export function validationArgs(r: EngineResource): ResourceValidationArgs {
    return {
        type: r.type,
        name: r.name,
        urn: `urn:pulumi:test::elk-stack::${r.type}::${r.name}`,
        props: unknownCheckingProxy(unwrapSecrets(r.inputs)),
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason ?? ""}`);
        },
    };
}

/** Every violation the pack's policies report for `r`, as `policy: message`. */
export async function validateWithPack(r: EngineResource): Promise<string[]> {
    const out: string[] = [];
    for (const p of policies) {
        const validations = Array.isArray(p.validateResource) ? p.validateResource : p.validateResource ? [p.validateResource] : [];
        for (const validate of validations) await validate(validationArgs(r), (message) => out.push(`${p.name}: ${message}`));
    }
    return out;
}
