/**
 * The policies of policies.ts as `@pulumi/policy` resource validations. Kept apart from index.ts, which starts the
 * policy server, so that tests can call each policy's `validateResource` the way the engine does.
 */
import * as policySdk from "@pulumi/policy";
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { ELK_POLICIES, type PolicyResource, UNKNOWN } from "./policies";

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The error `@pulumi/policy` throws when a policy reads an input that is unknown during a preview. The package
 * exports it at run time but its declaration is marked internal (absent from the .d.ts), so it is looked up here.
 */
const UnknownValueError = (policySdk as unknown as { UnknownValueError?: ErrorClass }).UnknownValueError;

function isUnknownValueError(e: unknown): boolean {
    if (UnknownValueError !== undefined && e instanceof UnknownValueError) return true;
    // Should a later version stop exporting the class, its message still says what it is.
    return e instanceof Error && /can't be known during preview/.test(e.message);
}

/**
 * A plain copy of a policy's `props`, with every value that is unknown during a preview replaced by
 * {@link UNKNOWN}. The SDK hands policies a proxy that throws on reading an unknown value, which would turn the
 * whole policy into an advisory "can't run during preview" for that resource; reading value by value keeps every
 * known value checked.
 */
export function snapshot(value: unknown): unknown {
    if (typeof value !== "object" || value === null) return value;
    const read = (holder: Record<string | number, unknown>, key: string | number): unknown => {
        try {
            return snapshot(holder[key]);
        } catch (e) {
            if (isUnknownValueError(e)) return UNKNOWN;
            throw e;
        }
    };
    if (Array.isArray(value)) return value.map((_, i) => read(value as unknown[] as Record<number, unknown>, i));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = read(value as Record<string, unknown>, key);
    return out;
}

/**
 * The resource a policy validates, as policies.ts reads it. Pulumi hands policies secrets decrypted and unmarked,
 * so `secretsMarked` is false: the checks that need to tell a secret from plain text do not run here.
 */
export function toPolicyResource(args: Pick<ResourceValidationArgs, "type" | "name" | "props">): PolicyResource {
    return { type: args.type, name: args.name, props: snapshot(args.props) as Record<string, unknown>, secretsMarked: false };
}

/** Every policy of the pack, mandatory: a violation fails `pulumi preview` and stops `pulumi up`. */
export const policies: ResourceValidationPolicy[] = ELK_POLICIES.map((p) => ({
    name: p.name,
    description: p.description,
    remediationSteps: p.remediation,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
        for (const message of p.check(toPolicyResource(args))) reportViolation(message);
    },
}));
