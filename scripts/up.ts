/**
 * `npm run up` and `npm run down`: the dev stack from a fresh clone with Node.js and Docker, no Pulumi account
 * and no set-up, through Pulumi's Automation API. State lives in `.pulumi-local/` inside the project (git-ignored),
 * encrypted with a passphrase generated on the first run; the CLI is the one on PATH or the pinned version
 * installed into `.pulumi-local/cli/`. A second `up` is an ordinary update of the same stack. Every update applies
 * the policy pack in `policy/`. The tracked `Pulumi.dev.yaml` is read, never written: the CLI gets a copy in
 * `.pulumi-local/` as its config file, and keeps the passphrase's salt there.
 *
 * Exit status: 0 done; 1 the update or destroy failed; 2 bad arguments, or a stack config the Pulumi CLI or the
 * program would refuse; 3 Docker missing or not running; 4 no Pulumi CLI and installing it failed.
 */
import * as fs from "fs";
import * as path from "path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { ConfigError } from "../components/model/config";
import { CliConfigError, stackSettings } from "./cliConfig";
import { explainCliError } from "./automation/errors";
import {
    type BackendReady,
    EXIT,
    type LocalBackend,
    PrerequisiteError,
    type ResolvedPulumi,
    cliEnvironment,
    ensureBackend,
    localBackend,
    localStackFile,
    localStackText,
    removeNewBackend,
    resolvePulumi,
    secretsManagerLines,
    shellExports,
} from "./automation/local";
import { checkDocker } from "./automation/preflight";
import { type StackHandle, type StackWorkspace, localStackWorkspace, outputText } from "./automation/stack";

/** The stack `up` and `down` manage. */
export const DEV_STACK = "dev";

/** What {@link runUp} and {@link runDown} do to the world, injected so tests can record it. */
export interface UpDeps {
    /** The project: Pulumi.yaml, the tracked stack files and the policy pack `policy/`. */
    readonly projectRoot: string;
    readonly backend: LocalBackend;
    /** Throws PrerequisiteError when Docker is missing or not running. */
    checkDocker(): string;
    prepareBackend(): BackendReady;
    resolvePulumi(): Promise<ResolvedPulumi>;
    openWorkspace(pulumi: ResolvedPulumi): Promise<StackWorkspace>;
    /** Pulumi's own progress output, passed through as it comes. */
    progress(text: string): void;
    log(line: string): void;
}

/** Placeholder for a secret of the stack file while its config is checked (nothing is decrypted here). */
const SECRET_PLACEHOLDER = "<secret from the stack config>";

/** Reports a prerequisite problem or an unexpected failure, and returns the exit status. */
function failure(deps: UpDeps, what: string, err: unknown): number {
    if (err instanceof PrerequisiteError) {
        deps.log(`${what}: ${err.message}`);
        return err.exitCode;
    }
    if (err instanceof CliConfigError || err instanceof ConfigError) {
        deps.log(`${what}: Pulumi.${DEV_STACK}.yaml: ${err.message}`);
        return EXIT.usage;
    }
    deps.log(`${what}: FAILED: ${explainCliError(err)}`);
    return EXIT.failed;
}

function announceBackend(deps: UpDeps, ready: BackendReady): void {
    const b = deps.backend;
    if (ready.passphraseCreated) {
        deps.log(`up: new local backend in ${b.stateDir}`);
        deps.log(`up: generated the stack passphrase into ${b.passphraseFile} (mode 600). Keep it: without it the stack's secrets cannot be read.`);
        deps.log(`up: to move to a shared backend later: pulumi login <s3://bucket, azblob://..., gs://... or Pulumi Cloud>, then pulumi stack export --stack ${DEV_STACK} from here and pulumi stack import into the new one (with PULUMI_CONFIG_PASSPHRASE_FILE=${b.passphraseFile}).`);
    }
    if (ready.permissionsFixed) deps.log(`up: ${ready.permissionsFixed}`);
}

/** The tracked stack file and the local copy the CLI is given instead. */
class StackFiles {
    readonly tracked: string;
    readonly local: string;
    private readonly original: string | undefined;
    constructor(deps: UpDeps, stack: string) {
        this.tracked = path.join(deps.projectRoot, `Pulumi.${stack}.yaml`);
        this.local = localStackFile(deps.backend, stack);
        this.original = fs.existsSync(this.tracked) ? fs.readFileSync(this.tracked, "utf8") : undefined;
    }

    /** Writes the local copy: the tracked config, and the salt the copy already had (or `state`'s). */
    writeLocal(state?: string): void {
        const previous = state ?? (fs.existsSync(this.local) ? fs.readFileSync(this.local, "utf8") : undefined);
        fs.writeFileSync(this.local, localStackText(this.original, previous), { mode: 0o600 });
    }

    /**
     * Puts the tracked file back as it was when this run started, keeping what the CLI wrote into it (the salt of a
     * new stack) in the local copy. Returns true when it had to.
     */
    restoreTracked(): boolean {
        const now = fs.existsSync(this.tracked) ? fs.readFileSync(this.tracked, "utf8") : undefined;
        if (now === this.original) return false;
        if (secretsManagerLines(now).length > 0 && secretsManagerLines(this.original).length === 0) this.writeLocal(now);
        if (this.original === undefined) fs.rmSync(this.tracked, { force: true });
        else fs.writeFileSync(this.tracked, this.original);
        return true;
    }

    /** True when the tracked file carries a secrets manager's state (a salt an earlier version let the CLI write). */
    trackedHasSalt(): boolean {
        return secretsManagerLines(this.original).length > 0;
    }
}

/** Resource types that are no object in the world: the stack itself and provider instances. */
function isBookkeeping(type: string): boolean {
    return type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:");
}

/**
 * After a failed first run: removes the backend this run created when the stack holds nothing yet, so that no
 * passphrase or state is left behind that nothing needs; says what it did, or why it kept them.
 */
async function undoNewBackend(deps: UpDeps, files: StackFiles, stack: StackHandle | undefined): Promise<void> {
    let held: string[] = [];
    if (stack !== undefined) {
        try {
            const deployment = (await stack.exportStack()).deployment as { resources?: { type: string }[] } | undefined;
            held = (deployment?.resources ?? []).map((r) => r.type).filter((t) => !isBookkeeping(t));
        } catch (err) {
            deps.log(`up: kept the new local backend in ${deps.backend.home}: what the stack holds could not be read (${explainCliError(err)}).`);
            return;
        }
    }
    if (held.length > 0) {
        deps.log(`up: the stack holds ${held.length} resource(s) from this run, so its state and passphrase stay in ${deps.backend.home}: run npm run up again, or npm run down to remove them.`);
        return;
    }
    removeNewBackend(deps.backend, [files.local]);
    deps.log(`up: removed the local backend this run created (${deps.backend.stateDir}, ${deps.backend.passphraseFile}): the stack held nothing yet.`);
}

/**
 * `npm run up`: checks Docker and the stack file, finds the CLI, prepares the backend, selects or creates `dev`,
 * updates it with the policy pack, prints the quickstart.
 */
export async function runUp(deps: UpDeps, stackName: string = DEV_STACK): Promise<number> {
    let pulumi: ResolvedPulumi;
    let ready: BackendReady;
    try {
        deps.log(`up: Docker engine ${deps.checkDocker()}`);
        // What the CLI and the program would refuse stops here, before anything is created.
        stackSettings(deps.projectRoot, stackName, SECRET_PLACEHOLDER, (key) =>
            deps.log(`up: ${key} is encrypted in Pulumi.${stackName}.yaml: this check cannot read it; the program checks its value at pulumi up`),
        );
        pulumi = await deps.resolvePulumi();
        ready = deps.prepareBackend();
        announceBackend(deps, ready);
    } catch (err) {
        return failure(deps, "up", err);
    }
    const files = new StackFiles(deps, stackName);
    let stack: StackHandle | undefined;
    try {
        deps.log(`up: Pulumi CLI ${pulumi.command.version?.toString() ?? "(version unknown)"} from ${pulumi.origin === "PATH" ? "PATH" : pulumi.binDir}`);
        if (files.trackedHasSalt()) {
            deps.log(`up: Pulumi.${stackName}.yaml holds the salt of a passphrase (encryptionsalt): it belongs to that passphrase only, keep that line out of commits.`);
        }
        files.writeLocal();
        const ws = await deps.openWorkspace(pulumi);
        stack = await ws.createOrSelectStack(stackName);
        if (files.restoreTracked()) {
            deps.log(`up: Pulumi wrote the new stack's passphrase salt into Pulumi.${stackName}.yaml; it is kept in ${files.local} instead, and Pulumi.${stackName}.yaml is as it was.`);
        }
        deps.log(`up: updating stack ${stack.name} (backend ${deps.backend.backendUrl}, config file ${files.local}, policy pack policy/)`);
        const result = await stack.up({ configFile: files.local, policyPacks: [path.join(deps.projectRoot, "policy")], onOutput: (text) => deps.progress(text) });
        deps.log(`up: ${result.summary.result}, ${JSON.stringify(result.summary.resourceChanges ?? {})}`);
        const quickstart = outputText(result.outputs, "quickstart");
        deps.log("");
        deps.log("To use the pulumi CLI on this stack in a terminal, first run:");
        for (const line of shellExports(deps.backend, pulumi.binDir, stackName)) deps.log(`  ${line}`);
        if (quickstart !== undefined) {
            deps.log("");
            deps.log("Quickstart:");
            for (const line of quickstart.split("\n")) deps.log(`  ${line}`);
        }
        return EXIT.ok;
    } catch (err) {
        files.restoreTracked();
        const code = failure(deps, "up", err);
        if (ready.passphraseCreated) await undoNewBackend(deps, files, stack);
        return code;
    } finally {
        files.restoreTracked();
    }
}

/** `npm run down`: destroys the dev stack's resources; the stack, its state and passphrase stay for the next `up`. */
export async function runDown(deps: UpDeps, stackName: string = DEV_STACK): Promise<number> {
    let pulumi: ResolvedPulumi;
    try {
        deps.log(`down: Docker engine ${deps.checkDocker()}`);
        if (!fs.existsSync(deps.backend.passphraseFile)) {
            deps.log(`down: no local backend in ${deps.backend.home}: nothing to destroy.`);
            return EXIT.ok;
        }
        pulumi = await deps.resolvePulumi();
    } catch (err) {
        return failure(deps, "down", err);
    }
    const files = new StackFiles(deps, stackName);
    try {
        const ws = await deps.openWorkspace(pulumi);
        const stack = await ws.selectStack(stackName);
        if (stack === undefined) {
            deps.log(`down: the local backend has no stack ${stackName}: nothing to destroy.`);
            return EXIT.ok;
        }
        files.writeLocal();
        const result = await stack.destroy({ configFile: files.local, onOutput: (text) => deps.progress(text) });
        deps.log(`down: ${result.summary.result}, ${JSON.stringify(result.summary.resourceChanges ?? {})}`);
        deps.log(`down: the stack ${stackName} is empty; its state and passphrase stay in ${deps.backend.home} for the next npm run up.`);
        return EXIT.ok;
    } catch (err) {
        return failure(deps, "down", err);
    } finally {
        files.restoreTracked();
    }
}

/** The real world: this project's folder, the real CLI, Docker, and stdout. */
export function realDeps(projectRoot: string): UpDeps {
    const backend = localBackend(projectRoot);
    const env = cliEnvironment(backend);
    const log = (line: string) => console.log(line);
    return {
        projectRoot,
        backend,
        checkDocker: () => checkDocker(),
        prepareBackend: () => ensureBackend(backend),
        resolvePulumi: () => resolvePulumi(PulumiCommand, backend, log),
        openWorkspace: (pulumi) => {
            // An inherited PULUMI_CONFIG_PASSPHRASE would win over the passphrase file (see automation/local.ts).
            for (const name of env.unset) {
                if (process.env[name] !== undefined) log(`up: ignoring ${name} from your environment: this stack's passphrase is ${backend.passphraseFile}`);
                delete process.env[name];
            }
            return localStackWorkspace(projectRoot, pulumi.command, env.set);
        },
        progress: (text) => process.stdout.write(text),
        log,
    };
}

async function main(argv: readonly string[]): Promise<number> {
    const [command, ...rest] = argv;
    if ((command !== "up" && command !== "down") || rest.length > 0) {
        console.error(`usage: npm run up | npm run down (got: ${argv.join(" ") || "nothing"})`);
        return EXIT.usage;
    }
    const deps = realDeps(path.resolve(__dirname, ".."));
    return command === "up" ? runUp(deps) : runDown(deps);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error(`up: ${explainCliError(err)}`);
            process.exit(EXIT.failed);
        },
    );
}
