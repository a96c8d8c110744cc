/**
 * `npm run up` and `npm run down`: the dev stack from a fresh clone with Node.js and Docker, no Pulumi account
 * and no set-up, through Pulumi's Automation API. State lives in `.pulumi-local/` inside the project (git-ignored),
 * encrypted with a passphrase generated on the first run; the CLI is the one on PATH or the pinned version
 * installed into `.pulumi-local/cli/`. A second `up` is an ordinary update of the same stack.
 *
 * Exit status: 0 done; 1 the update or destroy failed; 2 bad arguments; 3 Docker missing or not running;
 * 4 no Pulumi CLI and installing it failed.
 */
import * as fs from "fs";
import * as path from "path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import {
    type BackendReady,
    EXIT,
    type LocalBackend,
    PrerequisiteError,
    type ResolvedPulumi,
    cliEnvironment,
    ensureBackend,
    localBackend,
    resolvePulumi,
    shellExports,
} from "./automation/local";
import { checkDocker } from "./automation/preflight";
import { type StackWorkspace, localStackWorkspace, outputText } from "./automation/stack";

/** The stack `up` and `down` manage. */
export const DEV_STACK = "dev";

/** What {@link runUp} and {@link runDown} do to the world, injected so tests can record it. */
export interface UpDeps {
    readonly backend: LocalBackend;
    /** Throws PrerequisiteError when Docker is missing or not running. */
    checkDocker(): string;
    prepareBackend(): BackendReady;
    resolvePulumi(): Promise<ResolvedPulumi>;
    openWorkspace(pulumi: ResolvedPulumi): Promise<StackWorkspace>;
    /** The text of `Pulumi.<stack>.yaml`, or undefined; to notice the salt Pulumi writes into it. */
    readStackFile(stack: string): string | undefined;
    /** Pulumi's own progress output, passed through as it comes. */
    progress(text: string): void;
    log(line: string): void;
}

const SALT = /^encryptionsalt:/m;

function describeError(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

/** Reports a prerequisite problem or an unexpected failure, and returns the exit status. */
function failure(deps: UpDeps, what: string, err: unknown): number {
    if (err instanceof PrerequisiteError) {
        deps.log(`${what}: ${err.message}`);
        return err.exitCode;
    }
    deps.log(`${what}: FAILED: ${describeError(err)}`);
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

/** `npm run up`: checks Docker, prepares the backend, selects or creates `dev`, updates it, prints the quickstart. */
export async function runUp(deps: UpDeps, stackName: string = DEV_STACK): Promise<number> {
    let pulumi: ResolvedPulumi;
    try {
        deps.log(`up: Docker engine ${deps.checkDocker()}`);
        announceBackend(deps, deps.prepareBackend());
        pulumi = await deps.resolvePulumi();
    } catch (err) {
        return failure(deps, "up", err);
    }
    try {
        deps.log(`up: Pulumi CLI ${pulumi.command.version?.toString() ?? "(version unknown)"} from ${pulumi.origin === "PATH" ? "PATH" : pulumi.binDir}`);
        const ws = await deps.openWorkspace(pulumi);
        const before = deps.readStackFile(stackName);
        const stack = await ws.createOrSelectStack(stackName);
        const after = deps.readStackFile(stackName);
        if (after !== undefined && SALT.test(after) && !(before !== undefined && SALT.test(before))) {
            deps.log(`up: Pulumi wrote the salt of your passphrase into Pulumi.${stackName}.yaml (encryptionsalt): it belongs to your passphrase only, keep that line out of commits.`);
        }
        deps.log(`up: updating stack ${stack.name} (backend ${deps.backend.backendUrl})`);
        const result = await stack.up({ onOutput: (text) => deps.progress(text) });
        deps.log(`up: ${result.summary.result}, ${JSON.stringify(result.summary.resourceChanges ?? {})}`);
        const quickstart = outputText(result.outputs, "quickstart");
        deps.log("");
        deps.log("To use the pulumi CLI on this stack in a terminal, first run:");
        for (const line of shellExports(deps.backend, pulumi.binDir)) deps.log(`  ${line}`);
        if (quickstart !== undefined) {
            deps.log("");
            deps.log("Quickstart:");
            for (const line of quickstart.split("\n")) deps.log(`  ${line}`);
        }
        return EXIT.ok;
    } catch (err) {
        return failure(deps, "up", err);
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
    try {
        const ws = await deps.openWorkspace(pulumi);
        const stack = await ws.selectStack(stackName);
        if (stack === undefined) {
            deps.log(`down: the local backend has no stack ${stackName}: nothing to destroy.`);
            return EXIT.ok;
        }
        const result = await stack.destroy({ onOutput: (text) => deps.progress(text) });
        deps.log(`down: ${result.summary.result}, ${JSON.stringify(result.summary.resourceChanges ?? {})}`);
        deps.log(`down: the stack ${stackName} is empty; its state and passphrase stay in ${deps.backend.home} for the next npm run up.`);
        return EXIT.ok;
    } catch (err) {
        return failure(deps, "down", err);
    }
}

/** The real world: this project's folder, the real CLI, Docker, and stdout. */
export function realDeps(projectRoot: string): UpDeps {
    const backend = localBackend(projectRoot);
    const env = cliEnvironment(backend);
    const log = (line: string) => console.log(line);
    return {
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
        readStackFile: (stack) => {
            const file = path.join(projectRoot, `Pulumi.${stack}.yaml`);
            return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
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
            console.error(`up: ${describeError(err)}`);
            process.exit(EXIT.failed);
        },
    );
}
