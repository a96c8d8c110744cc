/**
 * A module registry of its own for one evaluation under the mock runtime, in which the Pulumi SDK loads without the
 * two packages it needs only to serialize a JavaScript function: `@npmcli/arborist` (runtime/closure/codePaths.js,
 * which walks a closure's package dependencies with it) and `typescript` (typescript-shim.js, for the closure
 * parser and the component-provider analyzer). The SDK requires both when it loads, and each evaluation loads its
 * own copy of the SDK, so each paid for running them again: about 0.17 s of CPU per evaluation (naming.test.ts and
 * program.test.ts, 27 evaluations, 31.7 s of CPU before and 27.2 s after, on the 2-core machine). The program
 * serializes no function (no dynamic provider, no `serializeFunction`, no callback the engine calls back).
 *
 * In their place is a stand-in that refuses every use with a message naming this file: a program that starts to
 * need either one fails here, loudly, instead of being evaluated with a part of the SDK missing. The plugin's tests
 * (the SDK's analyzer reads the plugin's TypeScript) load the real ones.
 */

/** The packages an evaluation's SDK loads as stand-ins. */
export const STAND_IN_PACKAGES = ["@npmcli/arborist", "typescript"] as const;

/** What using a stand-in throws. */
export class StandInUsedError extends Error {}

/**
 * A module object that fails on every use. Reading `__esModule` is not a use: the SDK's compiled `import *`
 * (`__importStar`) reads it when it loads the module. It answers true, so that `import *` hands over the stand-in
 * itself, whose every use then names this file, rather than a copy of its keys (none), whose use would fail with a
 * bare "not a constructor".
 */
function standIn(name: string): object {
    return new Proxy(Object.freeze({}), {
        get(_target, key) {
            if (key === "__esModule") return true;
            throw new StandInUsedError(
                `${name} is a stand-in in a program evaluation (tests/support/isolatedSdk.ts), but the program used its ${String(key)}: ` +
                    "the SDK needs it to serialize a function. Evaluate such a program with jest.isolateModulesAsync and the real package.",
            );
        },
    });
}

/** Whether an evaluation of this test file runs in an isolated registry now. */
let isolating = false;

/**
 * Runs `fn` in a module registry of its own (jest.isolateModulesAsync), where `@pulumi/pulumi` and everything `fn`
 * imports load anew, with {@link STAND_IN_PACKAGES} as stand-ins. Outside `fn` the real packages load again.
 */
export async function withIsolatedSdk<T>(fn: () => Promise<T>): Promise<T> {
    // jest takes one isolated registry at a time (isolateModulesAsync throws on a second), and the stand-ins stay
    // until this call is over.
    if (isolating) throw new Error("withIsolatedSdk: another evaluation of this test file is still running; run them one after the other");
    isolating = true;
    for (const name of STAND_IN_PACKAGES) jest.doMock(name, () => standIn(name));
    try {
        let result: T | undefined;
        await jest.isolateModulesAsync(async () => {
            result = await fn();
        });
        return result as T;
    } finally {
        for (const name of STAND_IN_PACKAGES) jest.dontMock(name);
        isolating = false;
    }
}
