/**
 * The e2e run as a sequence over injected parts, so `npm test` can check the sequence with doubles:
 *
 *   1. up a fresh stack from the dev config (Automation API), timing each phase;
 *   2. verify it (the `npm run verify` checks);
 *   3. start the load (nginx and a Django stand-in, every event carrying its id) and the collector that
 *      searches Elasticsearch for the ids;
 *   4. while the load runs, apply the change (a second `up` with the changed config), wait until the restart it
 *      causes has begun and every workload has rolled out (not the old pods' health), point the senders at the
 *      changed stack again, and wait until the stack is healthy again;
 *   5. stop the load, let the pipeline drain, count per source;
 *   6. destroy and remove the stack and the data it retains, also when an earlier step failed, unless `keep`.
 */
import type { OutputMap, UpOptions } from "@pulumi/pulumi/automation";
import { explainCliError } from "../automation/errors";
import { EXIT, PrerequisiteError } from "../automation/local";
import type { StackHandle, StackWorkspace } from "../automation/stack";
import { type EmittedEvent, type FoundDoc, type LoadSource, account } from "./accounting";
import { type E2eConfig, type E2eOptions, toConfigJson } from "./args";
import { type E2eReport, type PhaseTiming, breaches, exitCodeOf } from "./report";

/** A running load: stopping it returns every event it emitted, and what the generators noted. */
export interface RunningLoad {
    /** The events emitted so far (the collector searches for them while the load runs). */
    emitted(): readonly EmittedEvent[];
    stop(): Promise<{ readonly emitted: readonly EmittedEvent[]; readonly notes: readonly string[] }>;
}

/** Searches Elasticsearch for the run's ids while the load runs. */
export interface Collector {
    /**
     * Waits until every emitted event was found or `timeoutMs` passed, then returns one entry per document
     * found (duplicates included), with when each id was first found.
     */
    finish(emitted: readonly EmittedEvent[], timeoutMs: number): Promise<readonly FoundDoc[]>;
    /** Stops polling; safe to call more than once. */
    close(): Promise<void>;
}

/** Everything the run does to the world; `A` is how this machine reaches the stack (URLs, port-forwards). */
export interface E2eDeps<A> {
    readonly workspace: StackWorkspace;
    /**
     * Aborted when the user interrupts the run (Ctrl-C): a running `up` is cancelled (the Automation API sends the
     * CLI SIGINT), a wait ends, and the run goes on to destroy the stack.
     */
    readonly signal?: AbortSignal;
    /** Opens the way to the running stack from its outputs (on Kubernetes: port-forwards). */
    connect(outputs: OutputMap): Promise<A>;
    /** Closes what connect opened. */
    disconnect(access: A): Promise<void>;
    /** The `npm run verify` checks; returns the problems found. */
    verify(access: A): Promise<readonly string[]>;
    /** The sources the load drives. */
    sources(access: A): readonly LoadSource[];
    startLoad(access: A, run: string, ratePerSource: number): Promise<RunningLoad>;
    /** Starts searching for the run's ids; `emitted` tells it, at any time, which events to look for. */
    startCollector(access: A, run: string, emitted: () => readonly EmittedEvent[]): Promise<Collector>;
    /**
     * Points the load's senders at the changed stack: on Docker each e2e nginx is reloaded, because nginx resolves
     * the name of its syslog server only when it reads its configuration (nginx 1.27.5 src/core/ngx_syslog.c,
     * `ngx_syslog_parse_args`: `ngx_parse_url` at configuration time, no `resolver`), and the change gives Logstash
     * a new container, which may have a new address. Returns what it did, for the report's notes.
     */
    refreshSenders(access: A): Promise<string | undefined>;
    /** What runs before the change (on Kubernetes the stack's pods), for {@link waitRestarted} to compare with. */
    beforeChange(access: A): Promise<ChangeBaseline>;
    /**
     * Resolves once the restart the change causes has begun (a pod that ran before it is gone) and every workload
     * has rolled out; throws when it does not in time. Until then the old pods may still answer, green.
     */
    waitRestarted(access: A, before: ChangeBaseline): Promise<void>;
    /** Resolves when Elasticsearch and Logstash answer again after the change; throws when they do not in time. */
    waitHealthy(access: A): Promise<void>;
    /**
     * After the stack is destroyed: removes the data it retains on delete (Docker volumes), so that the next run
     * starts from a fresh cluster. Returns what it removed, for the report.
     */
    removeData(): Promise<string>;
    sleep(ms: number): Promise<void>;
    now(): number;
    /** Pulumi's progress output, passed through. */
    progress(text: string): void;
    log(line: string): void;
}

/** What ran before the change, as a target records it (the pods on Kubernetes); the sequence only passes it on. */
export type ChangeBaseline = unknown;

/** What the run is. */
export interface E2eRun extends E2eOptions {
    readonly run: string;
    readonly stack: string;
    readonly config: { readonly before: E2eConfig; readonly after: E2eConfig };
    /** The commands that destroy the stack by hand (printed when it is kept or its destroy failed). */
    readonly destroyHint: string;
    /** The policy pack folder every update of the run applies (`policyPacks`); none when undefined. */
    readonly policyPack?: string;
}

/** A failure that stops the run: the stack did not come up, verify, change or drain, or the user interrupted it. */
export class StackFailure extends Error {}

/** Waits `ms`, or rejects with {@link StackFailure} as soon as `signal` is aborted. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(new StackFailure("interrupted"));
        const onAbort = () => {
            clearTimeout(timer);
            reject(new StackFailure("interrupted"));
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

/** Runs the six steps; never throws, returns the report (with its exit status). */
export async function runE2e<A>(r: E2eRun, deps: E2eDeps<A>): Promise<E2eReport> {
    const startedAt = new Date(deps.now()).toISOString();
    const phases: PhaseTiming[] = [];
    const phase = phaseTimer(deps, phases);
    const updates = updateOptions(r, deps);
    const state: RunState<A> = { changeNotes: [], sources: [], accounts: [], notes: [] };
    let error: string | undefined;
    let errorCode: number = EXIT.stack;

    try {
        await runPhases(r, deps, phase, updates, state);
    } catch (err) {
        error = explainCliError(err);
        if (err instanceof PrerequisiteError) errorCode = err.exitCode;
    } finally {
        await release(deps, state);
    }

    const { cleanup, cleanupOk } = await cleanUp(r, deps, phase, updates, state.stack);
    const broken = error === undefined ? breaches(state.accounts, { nginxLossThreshold: r.nginxLossThreshold }) : [];
    const partial = { error, breaches: broken, cleanupOk };
    const exitCode = exitCodeOf(partial, errorCode);
    return {
        run: r.run,
        target: r.target,
        stack: r.stack,
        startedAt,
        finishedAt: new Date(deps.now()).toISOString(),
        ratePerSource: r.ratePerSource,
        change: r.change,
        contract: { nginxLossThreshold: r.nginxLossThreshold },
        phases,
        sources: state.accounts,
        breaches: broken,
        notes: [...state.changeNotes, ...state.notes],
        ...(error !== undefined ? { error } : {}),
        cleanup,
        cleanupOk,
        ok: exitCode === EXIT.ok,
        exitCode,
    };
}

/** Runs `body` as the named phase of the report: logged, timed and recorded whether it succeeds or throws. */
type PhaseRunner = <T>(name: string, body: () => Promise<T>) => Promise<T>;

/**
 * The one place phases are timed, logged and recorded in `phases`, in the order they run; a phase the user
 * interrupted does not start (except the destroy, which an interrupt asks for).
 */
function phaseTimer<A>(deps: E2eDeps<A>, phases: PhaseTiming[]): PhaseRunner {
    return async <T>(name: string, body: () => Promise<T>): Promise<T> => {
        if (deps.signal?.aborted && name !== "destroy") throw new StackFailure(`interrupted before ${name}`);
        const t0 = deps.now();
        deps.log(`e2e: ${name} ...`);
        try {
            const result = await body();
            phases.push({ phase: name, ms: deps.now() - t0, ok: true });
            deps.log(`e2e: ${name} done in ${((deps.now() - t0) / 1000).toFixed(1)} s`);
            return result;
        } catch (err) {
            phases.push({ phase: name, ms: deps.now() - t0, ok: false });
            deps.log(`e2e: ${name} failed after ${((deps.now() - t0) / 1000).toFixed(1)} s`);
            throw err;
        }
    };
}

/** What every update of the run passes Pulumi, made once for the two `up`s and the destroy. */
interface UpdateOptions {
    /** The run's updates apply the policy pack, as the deploy workflow's do. */
    readonly policy: Pick<UpOptions, "policyPacks">;
    /** Pulumi's progress, passed through. */
    readonly onOutput: (text: string) => void;
}

/** The run's {@link UpdateOptions}: the policy pack when the run names one, the progress to `deps.progress`. */
function updateOptions<A>(r: E2eRun, deps: E2eDeps<A>): UpdateOptions {
    const onOutput = (text: string) => deps.progress(text);
    const policy = r.policyPack !== undefined ? { policyPacks: [r.policyPack] } : {};
    return { policy, onOutput };
}

/**
 * What the phases have opened and found so far: shared by the phases, the release of what is open (also after a
 * failure), the cleanup, and the report.
 */
interface RunState<A> {
    stack?: StackHandle;
    access?: A;
    load?: RunningLoad;
    collector?: Collector;
    /** What the change phase did besides the update (senders refreshed), for the report's notes. */
    readonly changeNotes: string[];
    sources: readonly LoadSource[];
    accounts: E2eReport["sources"];
    /** What the load's generators noted. */
    notes: readonly string[];
}

/** Steps 1 to 5, in order; the first failure throws and ends them. */
async function runPhases<A>(r: E2eRun, deps: E2eDeps<A>, phase: PhaseRunner, updates: UpdateOptions, state: RunState<A>): Promise<void> {
    const outputs = await phase("up", () => upFreshStack(r, deps, updates, state));
    state.access = await deps.connect(outputs);
    const reached = state.access;
    await phase("verify", () => verifyStack(deps, reached));
    state.sources = deps.sources(reached);
    await phase("load", () => startLoadAndCollector(r, deps, state, reached));
    await phase("change", () => changeUnderLoad(r, deps, updates, state, reached));
    await phase("drain", () => drainAndCount(r, state));
}

/** Step 1: the run's stack, created with the config before the change and brought up; returns its outputs. */
async function upFreshStack<A>(r: E2eRun, deps: E2eDeps<A>, updates: UpdateOptions, state: RunState<A>): Promise<OutputMap> {
    const stack = await deps.workspace.createOrSelectStack(r.stack);
    state.stack = stack;
    await stack.setAllConfigJson(toConfigJson(r.config.before));
    return (await stack.up({ ...updates.policy, onOutput: updates.onOutput, signal: deps.signal })).outputs;
}

/** Step 2: the `npm run verify` checks; any problem stops the run. */
async function verifyStack<A>(deps: E2eDeps<A>, reached: A): Promise<void> {
    const problems = await deps.verify(reached);
    if (problems.length > 0) throw new StackFailure(`verify found ${problems.length} problem(s): ${problems.join(" | ")}`);
}

/** Step 3: the collector first (it asks the load for its events as they are emitted), then the load, which runs a while before the change. */
async function startLoadAndCollector<A>(r: E2eRun, deps: E2eDeps<A>, state: RunState<A>, reached: A): Promise<void> {
    state.collector = await deps.startCollector(reached, r.run, () => state.load?.emitted() ?? []);
    state.load = await deps.startLoad(reached, r.run, r.ratePerSource);
    await deps.sleep(r.loadBeforeSeconds * 1000);
}

/** Step 4: the changed config applied while the load runs, until the stack has restarted and answers again. */
async function changeUnderLoad<A>(r: E2eRun, deps: E2eDeps<A>, updates: UpdateOptions, state: RunState<A>, reached: A): Promise<void> {
    const s = state.stack as StackHandle;
    const before = await deps.beforeChange(reached);
    await s.setAllConfigJson(toConfigJson(r.config.after));
    await s.up({ ...updates.policy, onOutput: updates.onOutput, signal: deps.signal });
    // `up` can return while the old pods still answer (a resource reads green until the operator acts).
    await deps.waitRestarted(reached, before);
    const refreshed = await deps.refreshSenders(reached);
    if (refreshed !== undefined) state.changeNotes.push(refreshed);
    await deps.waitHealthy(reached);
    await deps.sleep(r.loadAfterSeconds * 1000);
}

/** Step 5: the load stopped (and taken from the state, so the release does not stop it again), the pipeline drained, each source counted. */
async function drainAndCount<A>(r: E2eRun, state: RunState<A>): Promise<void> {
    const running = state.load as RunningLoad;
    state.load = undefined;
    const stopped = await running.stop();
    state.notes = stopped.notes;
    const found = await (state.collector as Collector).finish(stopped.emitted, r.drainTimeoutSeconds * 1000);
    state.accounts = account(state.sources, stopped.emitted, found);
}

/** After the phases, also when one failed: what is still open is stopped and closed; a failure here is only logged. */
async function release<A>(deps: E2eDeps<A>, state: RunState<A>): Promise<void> {
    const quietly = async (what: string, body: () => Promise<unknown>) => {
        try {
            await body();
        } catch (err) {
            deps.log(`e2e: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
    };
    const running = state.load;
    if (running !== undefined) await quietly("stopping the load", () => running.stop());
    const c = state.collector;
    if (c !== undefined) await quietly("stopping the collector", () => c.close());
    const a = state.access;
    if (a !== undefined) await quietly("closing the connections", () => deps.disconnect(a));
}

/** Step 6: the stack destroyed and removed with the data it retains, unless kept; says what became of it, for the report. */
async function cleanUp<A>(r: E2eRun, deps: E2eDeps<A>, phase: PhaseRunner, updates: UpdateOptions, opened: StackHandle | undefined): Promise<{ cleanup: string; cleanupOk: boolean }> {
    if (r.keep) {
        const cleanup = opened !== undefined ? `kept: stack ${r.stack} is still running (--keep); remove it with: ${r.destroyHint}` : "nothing to keep: the stack was never created";
        return { cleanup, cleanupOk: true };
    }
    if (opened === undefined) return { cleanup: "nothing to destroy: the stack was never created", cleanupOk: true };
    try {
        const removed = await phase("destroy", async () => {
            await opened.destroy({ onOutput: updates.onOutput });
            await deps.workspace.removeStack(r.stack);
            return deps.removeData();
        });
        return { cleanup: `destroyed and removed stack ${r.stack}; ${removed}`, cleanupOk: true };
    } catch (err) {
        return { cleanup: `FAILED to destroy stack ${r.stack} or remove its data (${explainCliError(err)}); resources may be left: ${r.destroyHint}`, cleanupOk: false };
    }
}
