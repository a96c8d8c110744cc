/**
 * Bounded waits for the tests: every wait on a process, a port, a promise or a file has a deadline, and a wait
 * that runs out fails with what it waited for, instead of leaving a worker idle for good.
 */

/** The error a wait that ran out rejects with; `what` says what was awaited. */
export class DeadlineError extends Error {
    constructor(
        readonly what: string,
        readonly ms: number,
    ) {
        super(`gave up after ${ms} ms waiting for ${what}`);
        this.name = "DeadlineError";
    }
}

/**
 * `promise`, or a {@link DeadlineError} naming `what` once `ms` milliseconds have passed without it settling. The
 * timer is cleared as soon as the promise settles, so a settled wait keeps nothing alive. When its caller gives up
 * on the wait (`abandon` aborted: nobody awaits it any more), the timer is cleared too, so that a wait left behind
 * does not keep the process alive until its deadline: it then settles only if the promise does.
 */
export function withDeadline<T>(promise: PromiseLike<T>, ms: number, what: string, abandon?: AbortSignal): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
    });
    const clear = () => clearTimeout(timer);
    if (abandon?.aborted) clear();
    abandon?.addEventListener("abort", clear, { once: true });
    return Promise.race([Promise.resolve(promise), deadline]).finally(() => {
        clear();
        abandon?.removeEventListener("abort", clear);
    });
}

/**
 * Polls `check` every `intervalMs` until it returns something other than undefined or false, and resolves with
 * that; rejects with a {@link DeadlineError} naming `what` after `ms`. A `check` that throws ends the wait with
 * its error.
 */
export async function waitUntil<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string, intervalMs = 50): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
        const value = await check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() >= end) throw new DeadlineError(what, ms);
        await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, end - Date.now()))));
    }
}
