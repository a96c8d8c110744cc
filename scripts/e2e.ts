/**
 * `npm run e2e -- --target docker|kubernetes [--rate N] [--change key=value ...] [--keep]
 *   [--nginx-loss-threshold X] [--report FILE] [--load-before S] [--load-after S] [--drain-timeout S]`
 *
 * Brings up a fresh stack from the dev config through Pulumi's Automation API (state in a temporary local
 * backend, a generated passphrase, no account), verifies it, puts it under load, applies a change that restarts
 * Elasticsearch and Logstash while the load runs, then counts per source what was sent, indexed, lost and
 * duplicated and how long events took to become searchable, and destroys the stack (unless --keep).
 * The sequence is scripts/e2e/orchestrate.ts; this file connects it to the real world.
 *
 * Exit status: 0 every contract held; 1 a contract was broken; 2 bad flags; 3 Docker, kubectl or python3
 * missing; 4 no Pulumi CLI; 5 the stack could not be brought up, verified, changed or destroyed.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EXIT, PrerequisiteError, backendIn, cliEnvironment, ensureBackend, localBackend, resolvePulumi, shellExports } from "./automation/local";
import { checkDocker, checkKubernetes, checkPython } from "./automation/preflight";
import type { StackWorkspace } from "./automation/stack";
import { E2E_DEFAULTS, type E2eOptions, UsageError, e2eBaseConfig, e2eStackConfigs, e2eStackName, parseE2eArgs } from "./e2e/args";
import type { CollectorStats } from "./e2e/collector";
import type { E2eDeps } from "./e2e/orchestrate";
import type { E2eReport } from "./e2e/report";
import type { PodRef, StackAccess } from "./e2e/targets";

const ROOT = path.resolve(__dirname, "..");
/** Longest wait for the stack to answer again after the change. */
const HEALTHY_TIMEOUT_MS = 600_000;
/** Longest wait, after the change's update, for its restart to begin and every workload to roll out (Kubernetes). */
const RESTART_TIMEOUT_MS = 1_800_000;

/** Where the run's progress lines go. */
type Log = (line: string) => void;

/** The run, step by step: flags, prerequisites, config, CLI, backend, the sequence, the report; returns the exit status. */
async function main(argv: readonly string[]): Promise<number> {
    const log = (line: string) => console.log(line);
    let options: E2eOptions;
    try {
        options = parseE2eArgs(argv);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(`e2e: ${err.message}`);
        return EXIT.usage;
    }

    // Before anything is loaded or created: the engine or cluster, and python3 for the Django stand-in.
    try {
        checkPrerequisites(options.target, log);
    } catch (err) {
        if (!(err instanceof PrerequisiteError)) throw err;
        console.error(`e2e: ${err.message}`);
        return err.exitCode;
    }

    const program = await loadProgram();
    const run = `e2e${crypto.randomBytes(5).toString("hex")}`;
    const stack = e2eStackName(run);
    let config: ReturnType<typeof e2eStackConfigs>;
    try {
        config = readStackConfigs(program, options, run);
    } catch (err) {
        if (!(err instanceof UsageError || err instanceof program.CliConfigError || err instanceof program.PassphraseError)) throw err;
        console.error(`e2e: ${err.message}`);
        return EXIT.usage;
    }
    const settings = config.settings;

    let pulumi;
    try {
        // The CLI is cached in the project (.pulumi-local/cli) so repeated runs do not download it again.
        pulumi = await resolvePulumi(program.PulumiCommand, localBackend(ROOT), log);
    } catch (err) {
        if (!(err instanceof PrerequisiteError)) throw err;
        console.error(`e2e: ${err.message}`);
        return err.exitCode;
    }
    // The run's backend and passphrase exist only once there is a CLI to use them.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `elk-${stack}-`));
    const backend = backendIn(path.join(scratch, "backend"));
    ensureBackend(backend);
    const env = cliEnvironment(backend);
    for (const name of env.unset) delete process.env[name];
    const workspace = await program.localStackWorkspace(ROOT, pulumi.command, env.set);
    const volumes = options.target === "docker" ? `; docker volume rm $(docker volume ls --quiet --filter label=${program.STACK_LABEL}=${settings.clusterName})` : "";
    const destroyHint = `${shellExports(backend, pulumi.binDir).join("; ")}; pulumi destroy --stack ${stack} --remove --yes${volumes}`;

    const signal = abortOnInterrupt(destroyHint, log);
    const { deps, collectorStats } = e2eDeps(program, { options, settings, run, scratch, workspace, signal, log });

    log(`e2e: run ${run}: stack ${stack} on ${options.target}, backend ${backend.backendUrl}`);
    const report = await program.runE2e({ ...options, run, stack, config, destroyHint, policyPack: path.join(ROOT, "policy") }, deps);
    writeReport(program, report, collectorStats(), options, log);
    if (report.cleanup.startsWith("destroyed") || report.cleanup.startsWith("nothing to destroy")) fs.rmSync(scratch, { recursive: true, force: true });
    else log(`e2e: the run's backend (state and passphrase) stays in ${scratch}`);
    return report.exitCode;
}

/** The engine (Docker) or cluster (kubectl's context) and python3, each logged; throws {@link PrerequisiteError}. */
function checkPrerequisites(target: E2eOptions["target"], log: Log): void {
    if (target === "docker") log(`e2e: Docker engine ${checkDocker()}`);
    else log(`e2e: kubectl context ${checkKubernetes()}`);
    log(`e2e: python3 ${checkPython()}`);
}

/**
 * The program's modules (the SDK, the components), loaded only once the flags and prerequisites are checked, so
 * that those checks answer at once.
 */
async function loadProgram() {
    const { PulumiCommand } = await import("@pulumi/pulumi/automation");
    const { verify } = await import("../components/operations/verify");
    const { elasticsearchClient } = await import("../components/operations/esClient");
    const { localStackWorkspace } = await import("./automation/stack");
    const { collectorNotes, startCollector } = await import("./e2e/collector");
    const { combineLoads, startDjangoLoad, startHttpLoad } = await import("./e2e/load");
    const { abortableSleep, runE2e } = await import("./e2e/orchestrate");
    const { formatReport } = await import("./e2e/report");
    const { closeAccess, connectDocker, connectKubernetes, kubectl, podsBefore, reloadNginx, removeDockerVolumes, waitHealthy, waitRestarted } = await import("./e2e/targets");
    const { STACK_LABEL } = await import("../components/targets");
    const { CliConfigError, readProjectFile, readStackFile } = await import("./cliConfig");
    const { PassphraseError, stackFileDecrypter } = await import("./automation/passphrase");
    return {
        PulumiCommand,
        verify,
        elasticsearchClient,
        localStackWorkspace,
        collectorNotes,
        startCollector,
        combineLoads,
        startDjangoLoad,
        startHttpLoad,
        abortableSleep,
        runE2e,
        formatReport,
        closeAccess,
        connectDocker,
        connectKubernetes,
        kubectl,
        podsBefore,
        reloadNginx,
        removeDockerVolumes,
        waitHealthy,
        waitRestarted,
        STACK_LABEL,
        CliConfigError,
        readProjectFile,
        readStackFile,
        PassphraseError,
        stackFileDecrypter,
    };
}

/** The modules {@link loadProgram} loads. */
type Program = Awaited<ReturnType<typeof loadProgram>>;

/**
 * The run's stack config before and after the change, from the dev stack's config as its file holds it; a secret
 * in it is decrypted with the dev stack's passphrase and set as a secret of the run's stack, never as text.
 * Throws UsageError, CliConfigError or PassphraseError when the files cannot be read so.
 */
function readStackConfigs(program: Program, options: E2eOptions, run: string): ReturnType<typeof e2eStackConfigs> {
    const { readProjectFile, readStackFile, stackFileDecrypter } = program;
    const project = readProjectFile(ROOT);
    const dev = readStackFile(ROOT, "dev", project.name);
    const decrypt = stackFileDecrypter(dev, path.join(ROOT, "Pulumi.dev.yaml"), process.env, localBackend(ROOT).passphraseFile);
    return e2eStackConfigs(project, e2eBaseConfig(dev, decrypt), options, run);
}

/** Ctrl-C stops the load and destroys the stack (the returned signal aborts); a second one leaves everything as it is. */
function abortOnInterrupt(destroyHint: string, log: Log): AbortSignal {
    const interrupt = new AbortController();
    let interrupts = 0;
    process.on("SIGINT", () => {
        if (++interrupts > 1) process.exit(130);
        log(`e2e: interrupted: stopping the load and destroying the stack (Ctrl-C again to leave it as it is: ${destroyHint})`);
        interrupt.abort();
    });
    return interrupt.signal;
}

/** What {@link e2eDeps} needs of the run besides the program's modules. */
interface RunContext {
    readonly options: E2eOptions;
    readonly settings: ReturnType<typeof e2eStackConfigs>["settings"];
    readonly run: string;
    /** The run's scratch folder: its backend, and the work folders of what connect starts. */
    readonly scratch: string;
    readonly workspace: StackWorkspace;
    readonly signal: AbortSignal;
    readonly log: Log;
}

/**
 * The real world behind the sequence of scripts/e2e/orchestrate.ts, on the run's target; with the statistics of
 * the collector once one was started, for the report's notes.
 */
function e2eDeps(program: Program, ctx: RunContext): { deps: E2eDeps<StackAccess>; collectorStats: () => CollectorStats | undefined } {
    const { verify, elasticsearchClient, startCollector, combineLoads, startDjangoLoad, startHttpLoad, abortableSleep } = program;
    const { closeAccess, connectDocker, connectKubernetes, kubectl, podsBefore, reloadNginx, removeDockerVolumes, waitHealthy, waitRestarted } = program;
    const { options, settings, run, scratch, workspace, signal, log } = ctx;
    let collectorStats: CollectorStats | undefined;
    const deps: E2eDeps<StackAccess> = {
        workspace,
        signal,
        connect: (outputs) => {
            const workDir = path.join(scratch, "work");
            fs.mkdirSync(workDir, { recursive: true });
            return options.target === "docker" ? connectDocker(outputs, settings, run, workDir) : connectKubernetes(outputs, settings, run, workDir, log);
        },
        disconnect: (access) => closeAccess(access),
        verify: async (access) => {
            const report = await verify({ ...access.verifyOptions, countPerSource: 20, timeoutMs: 120_000, log: (l) => log(`e2e: verify: ${l}`) });
            return report.problems;
        },
        sources: (access) => access.sources,
        startLoad: (access, runId, rate) =>
            Promise.resolve(
                combineLoads([
                    ...access.nginx.map((n) => startHttpLoad({ baseUrl: n.baseUrl, run: runId, source: n.source.name, ratePerSecond: rate })),
                    ...access.django.map((d) => startDjangoLoad({ target: d, run: runId, ratePerSecond: rate, workDir: path.join(access.workDir, `django-${d.source.name}`) })),
                ]),
            ),
        startCollector: (access, runId, emitted) => {
            const client = elasticsearchClient({ ...access.verifyOptions, requestTimeoutMs: 30_000 });
            const c = startCollector({ client, index: `logs-*-${access.verifyOptions.environment}`, run: runId, emitted, log: (l) => log(`e2e: ${l}`) });
            collectorStats = c.stats;
            return Promise.resolve({
                finish: (e, timeoutMs) => c.finish(e, timeoutMs),
                close: async () => {
                    await c.close();
                    await client.close();
                },
            });
        },
        // On Docker the provider replaces a changed container within the update; on Kubernetes the update can return
        // while the old pods still run (see waitRestarted in scripts/e2e/targets.ts).
        beforeChange: () => Promise.resolve(options.target === "kubernetes" ? podsBefore(kubectl, settings.kubernetes.namespace) : []),
        waitRestarted: (_access, before) =>
            options.target === "kubernetes"
                ? waitRestarted({
                      kubectl,
                      namespace: settings.kubernetes.namespace,
                      before: before as PodRef[],
                      timeoutMs: RESTART_TIMEOUT_MS,
                      log: (l) => log(`e2e: ${l}`),
                      sleep: (ms) => abortableSleep(ms, signal),
                      now: () => Date.now(),
                  })
                : Promise.resolve(),
        refreshSenders: (access) => reloadNginx(access),
        waitHealthy: (access) => waitHealthy(access, HEALTHY_TIMEOUT_MS, (l) => log(`e2e: ${l}`)),
        // Docker keeps the data volumes (retained on delete); the namespace on Kubernetes went with the stack.
        removeData: () => (options.target === "docker" ? removeDockerVolumes(settings.clusterName) : Promise.resolve(`namespace ${settings.kubernetes.namespace} went with the stack`)),
        sleep: (ms) => abortableSleep(ms, signal),
        now: () => Date.now(),
        progress: (text) => process.stdout.write(text),
        log,
    };
    return { deps, collectorStats: () => collectorStats };
}

/** The report, with the collector's notes, written to its file as JSON and to the console (stderr when a contract broke). */
function writeReport(program: Program, report: E2eReport, collectorStats: CollectorStats | undefined, options: E2eOptions, log: Log): void {
    const withNotes = { ...report, notes: [...report.notes, ...(collectorStats ? program.collectorNotes(collectorStats) : [])] };
    const reportFile = path.resolve(options.reportFile || E2E_DEFAULTS.reportFile);
    fs.writeFileSync(reportFile, `${JSON.stringify(withNotes, null, 2)}\n`);
    for (const line of program.formatReport(withNotes)) (withNotes.ok ? console.log : console.error)(line);
    log(`e2e: report written to ${reportFile}`);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error(`e2e: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
            process.exit(EXIT.stack);
        },
    );
}
