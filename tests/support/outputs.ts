/** Reading Pulumi outputs in tests, with a bound on the wait. */
import * as pulumi from "@pulumi/pulumi";

/**
 * The value of a Pulumi output, once known. Under the mock runtime (not a preview) every output becomes known;
 * an output that stays unknown would never call `apply`, so the wait is bounded by `timeoutMs`.
 */
export function resolveOutput<T>(output: pulumi.Output<T>, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`output not resolved within ${timeoutMs} ms`)), timeoutMs);
        output.apply((value) => {
            clearTimeout(timer);
            resolve(value);
            return value;
        });
    });
}

/** Resolves every output of a record of outputs, keeping the keys. */
export async function resolveOutputs<T extends Record<string, pulumi.Output<unknown>>>(
    outputs: T,
    timeoutMs?: number,
): Promise<{ [K in keyof T]: T[K] extends pulumi.Output<infer V> ? V : never }> {
    const entries = await Promise.all(
        Object.entries(outputs).map(async ([key, output]) => [key, await resolveOutput(output, timeoutMs)] as const),
    );
    return Object.fromEntries(entries) as { [K in keyof T]: T[K] extends pulumi.Output<infer V> ? V : never };
}
