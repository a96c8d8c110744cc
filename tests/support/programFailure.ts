/**
 * How the harness sees a program fail the way the engine does. A Pulumi program ends on its first unhandled
 * rejection: @pulumi/pulumi's cmd/run/run.ts listens for `unhandledRejection` on the process and exits with that
 * error. That is how a failed `apply` or a failed resource registration (an input that rejects, as a refused change
 * does) ends `pulumi preview`. Under jest the same rejection reaches jest's own listener on the real process, which
 * fails whichever test is running, and the program's outputs wait forever on the failed resource.
 *
 * While a program runs, {@link captureProgramFailure} takes the place of the real process's `unhandledRejection`
 * listeners (as jest-circus does itself, globalErrorHandlers.ts) and hands the first error to the run. Test code
 * sees a copy of `process` (jest-util createProcessObject), so the real one is reached through a function of the
 * outer realm (Buffer is the host's: jest-environment-node).
 */

/** The Node.js process jest runs in, not the test's copy of it. */
function hostProcess(): NodeJS.Process {
    const outerFunction = Buffer.constructor as FunctionConstructor;
    const get = outerFunction("return process") as () => NodeJS.Process;
    return get();
}

/** A capture of the program's failures; `release` puts jest's listeners back. */
export interface FailureCapture {
    /** Resolves at the first failure. */
    readonly failed: Promise<void>;
    /** The first failure, if any. */
    readonly error: () => { readonly error: unknown } | undefined;
    /** Records a failure the run saw itself (the program threw). */
    readonly fail: (error: unknown) => void;
    readonly release: () => void;
}

/** Starts capturing: from now until `release`, an unhandled rejection fails the program run, not the test. */
export function captureProgramFailure(): FailureCapture {
    const real = hostProcess();
    const saved = real.listeners("unhandledRejection");
    let first: { error: unknown } | undefined;
    let signal: () => void = () => undefined;
    const failed = new Promise<void>((resolve) => (signal = resolve));
    const fail = (error: unknown) => {
        first ??= { error };
        signal();
    };
    real.removeAllListeners("unhandledRejection");
    real.on("unhandledRejection", fail);
    let released = false;
    return {
        failed,
        error: () => first,
        fail,
        release: () => {
            if (released) return;
            released = true;
            real.removeListener("unhandledRejection", fail);
            for (const l of saved) real.on("unhandledRejection", l as (...args: unknown[]) => void);
        },
    };
}
