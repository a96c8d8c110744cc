/**
 * What `npm run up`, `npm run down` and `npm run e2e` share: the project-local Pulumi backend (state in a folder
 * of this repository, secrets under a generated passphrase), the Pulumi CLI (the one on PATH, or the pinned
 * version installed into the project), and the checks that run before anything is touched.
 *
 * Upstream behaviour relied on (pulumi/pulumi, checked in the source of the CLI and of @pulumi/pulumi 3.248.0):
 *  - `PULUMI_BACKEND_URL` overrides the logged-in backend (sdk/go/common/env/env.go, `BackendURL`); a
 *    `file://<absolute path>` URL is the self-managed "DIY" backend, which needs no account.
 *  - The passphrase secrets manager reads `PULUMI_CONFIG_PASSPHRASE` first, and only when that variable is not
 *    set at all, the file named by `PULUMI_CONFIG_PASSPHRASE_FILE`, trimmed of white space
 *    (pkg/secrets/passphrase/manager.go, `readPassphrase`). So an inherited `PULUMI_CONFIG_PASSPHRASE`, even
 *    empty, would win over our file: it is removed from the environment the CLI runs in.
 *  - `PulumiCommand.get({ root })` runs `<root>/bin/pulumi version`; `PulumiCommand.install({ root, version })`
 *    returns that installation when it exists, else runs get.pulumi.com's install.sh with `--install-root root
 *    --version version` (node_modules/@pulumi/pulumi/automation/cmd.js). Without `root`, `get()` uses `pulumi`
 *    from PATH.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { SemVer } from "semver";
import type { PulumiCommand, PulumiCommandOptions } from "@pulumi/pulumi/automation";
import { explainCliError } from "./errors";

/**
 * The Pulumi CLI version this project pins: the version of the @pulumi/pulumi SDK in package-lock.json, which
 * is also what `PulumiCommand.install` installs by default. The e2e workflow installs the same version (a test
 * keeps the three equal).
 */
export const PULUMI_CLI_VERSION = "3.248.0";

/** Exit statuses of `up`, `down` and `e2e`; each failure a script can diagnose has its own. */
export const EXIT = {
    ok: 0,
    /** e2e: a source's delivery contract was broken. up/down: the update failed. */
    failed: 1,
    /** Bad command-line arguments. */
    usage: 2,
    /** Docker (or, for the Kubernetes target, kubectl and a cluster; or python3 for e2e) missing or not running. */
    prerequisite: 3,
    /** No Pulumi CLI on PATH, and installing the pinned one failed. */
    pulumi: 4,
    /** e2e: the stack could not be brought up, verified, changed or destroyed, so nothing was measured. */
    stack: 5,
} as const;

/** A missing or broken prerequisite, with what to do about it. */
export class PrerequisiteError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT.prerequisite,
    ) {
        super(message);
    }
}

/** Where the project keeps its local Pulumi state, passphrase and CLI (all git-ignored). */
export interface LocalBackend {
    /** The project-local folder holding everything below: `<project>/.pulumi-local`. */
    readonly home: string;
    /** State of every stack of the local backend. */
    readonly stateDir: string;
    /** `file://` URL of {@link stateDir}. */
    readonly backendUrl: string;
    /** The generated passphrase, mode 0600, beside the state. */
    readonly passphraseFile: string;
    /** Where the pinned CLI is installed when `pulumi` is not on PATH (`<cliRoot>/bin/pulumi`). */
    readonly cliRoot: string;
}

/** Folder name of the local backend inside the project; .gitignore lists it. */
export const LOCAL_HOME = ".pulumi-local";

/** The local backend of the project at `projectRoot`. */
export function localBackend(projectRoot: string, version: string = PULUMI_CLI_VERSION): LocalBackend {
    const home = path.join(path.resolve(projectRoot), LOCAL_HOME);
    const stateDir = path.join(home, "state");
    return {
        home,
        stateDir,
        backendUrl: `file://${stateDir}`,
        passphraseFile: path.join(home, "passphrase"),
        cliRoot: path.join(home, "cli", version),
    };
}

/** A backend in a folder of its own (e2e: a temporary directory), same layout. */
export function backendIn(dir: string, version: string = PULUMI_CLI_VERSION): LocalBackend {
    const home = path.resolve(dir);
    const stateDir = path.join(home, "state");
    return { home, stateDir, backendUrl: `file://${stateDir}`, passphraseFile: path.join(home, "passphrase"), cliRoot: path.join(home, "cli", version) };
}

/**
 * Removes a backend this run created (state folder and passphrase), once nothing in it is worth keeping: the CLI
 * cache in `cli/` stays. Never call it for a backend an earlier run made: its state's secrets need the passphrase.
 */
export function removeNewBackend(backend: LocalBackend, extraFiles: readonly string[] = []): void {
    for (const p of [backend.stateDir, backend.passphraseFile, ...extraFiles]) fs.rmSync(p, { recursive: true, force: true });
    // The folder goes too when nothing else is in it (no CLI was installed into it).
    if (fs.existsSync(backend.home) && fs.readdirSync(backend.home).length === 0) fs.rmdirSync(backend.home);
}

/**
 * The stack file `npm run up` hands the CLI (`--config-file`): a git-ignored copy of the tracked
 * `Pulumi.<stack>.yaml` inside the local backend's folder. The CLI saves the passphrase's salt into the stack file
 * it reads (pkg/cmd/pulumi/config/io.go `getAndSaveSecretsManager`; on `stack init`, pkg/cmd/pulumi/stack/io.go
 * `CreateStack`), so the salt lands here, and the tracked file stays as the repository has it.
 */
export function localStackFile(backend: LocalBackend, stack: string): string {
    return path.join(backend.home, `Pulumi.${stack}.yaml`);
}

/** The top-level keys of a stack file that hold its secrets manager's state (workspace.ProjectStack). */
const SECRETS_MANAGER_LINE = /^(encryptionsalt|encryptedkey|secretsprovider):.*$/gm;

/** The lines of a stack file's text that hold its secrets manager's state. */
export function secretsManagerLines(text: string | undefined): string[] {
    return text === undefined ? [] : [...text.matchAll(SECRETS_MANAGER_LINE)].map((m) => m[0]);
}

/**
 * The text of the local stack file: the tracked file's, with the secrets manager's lines of `state` (the local copy
 * of an earlier run, or what `stack init` wrote) unless the tracked file has its own.
 */
export function localStackText(tracked: string | undefined, state: string | undefined): string {
    const base = tracked ?? "";
    if (secretsManagerLines(base).length > 0) return base;
    const lines = secretsManagerLines(state);
    return lines.length === 0 ? base : `${lines.join("\n")}\n${base}`;
}

/** What {@link ensureBackend} found or did. */
export interface BackendReady {
    /** True when this call generated the passphrase (the stack's secrets are new). */
    readonly passphraseCreated: boolean;
    /** Set when an existing passphrase file was readable by others and was narrowed to 0600. */
    readonly permissionsFixed?: string;
}

/**
 * Creates the state folder and, on first use, a random passphrase in a file only the owner can read (0600,
 * folder 0700). An existing passphrase is never replaced: the state's secrets are encrypted with it.
 */
export function ensureBackend(backend: LocalBackend, randomPassphrase: () => string = () => crypto.randomBytes(32).toString("base64url")): BackendReady {
    fs.mkdirSync(backend.home, { recursive: true, mode: 0o700 });
    fs.mkdirSync(backend.stateDir, { recursive: true, mode: 0o700 });
    let fd: number;
    try {
        // "wx": fail rather than overwrite when the file appeared meanwhile; the mode applies on creation.
        fd = fs.openSync(backend.passphraseFile, "wx", 0o600);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const mode = fs.statSync(backend.passphraseFile).mode & 0o777;
        if (fs.readFileSync(backend.passphraseFile, "utf8").trim() === "") {
            throw new PrerequisiteError(`the passphrase file ${backend.passphraseFile} is empty. Restore it from a copy; if the stack never held secrets, delete the file and ${backend.stateDir} and start again.`);
        }
        if ((mode & 0o077) !== 0) {
            fs.chmodSync(backend.passphraseFile, 0o600);
            return { passphraseCreated: false, permissionsFixed: `${backend.passphraseFile} was mode ${mode.toString(8)}; now 600` };
        }
        return { passphraseCreated: false };
    }
    try {
        fs.writeSync(fd, `${randomPassphrase()}\n`);
    } finally {
        fs.closeSync(fd);
    }
    return { passphraseCreated: true };
}

/** The environment the Pulumi CLI runs in: variables to set, and inherited ones to remove first. */
export interface CliEnvironment {
    readonly set: Readonly<Record<string, string>>;
    readonly unset: readonly string[];
}

/** Points the CLI at the local backend and its passphrase file, and keeps it quiet about updates. */
export function cliEnvironment(backend: LocalBackend): CliEnvironment {
    return {
        set: {
            PULUMI_BACKEND_URL: backend.backendUrl,
            PULUMI_CONFIG_PASSPHRASE_FILE: backend.passphraseFile,
            PULUMI_SKIP_UPDATE_CHECK: "true",
        },
        unset: ["PULUMI_CONFIG_PASSPHRASE"],
    };
}

/**
 * Shell lines that point a terminal's `pulumi` at the same backend (printed after `up`); with `stack`, a last
 * comment line names the config file to pass to the commands that read the stack's config.
 */
export function shellExports(backend: LocalBackend, cliDir?: string, stack?: string): string[] {
    const env = cliEnvironment(backend);
    return [
        ...env.unset.map((name) => `unset ${name}`),
        ...Object.entries(env.set)
            .filter(([name]) => name !== "PULUMI_SKIP_UPDATE_CHECK")
            .map(([name, value]) => `export ${name}=${shellQuote(value)}`),
        ...(cliDir !== undefined ? [`export PATH=${shellQuote(cliDir)}:"$PATH"`] : []),
        ...(stack !== undefined ? [`# then: pulumi up|preview|refresh|destroy --stack ${stack} --config-file ${shellQuote(localStackFile(backend, stack))} (the copy of Pulumi.${stack}.yaml that holds the passphrase's salt)`] : []),
    ];
}

function shellQuote(s: string): string {
    return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The static side of `PulumiCommand` that {@link resolvePulumi} uses; tests hand in a double. */
export interface PulumiCommandApi {
    get(opts?: PulumiCommandOptions): Promise<PulumiCommand>;
    install(opts?: PulumiCommandOptions): Promise<PulumiCommand>;
}

/** Which CLI runs, and where it came from. */
export interface ResolvedPulumi {
    readonly command: PulumiCommand;
    readonly origin: "PATH" | "project";
    /** The folder of the binary when it is the project's own installation (for PATH in printed commands). */
    readonly binDir?: string;
}

/**
 * The Pulumi CLI: `pulumi` on PATH when there is one that the SDK accepts, else the pinned version in the
 * project (installed on first use). Throws {@link PrerequisiteError} (exit {@link EXIT.pulumi}) saying what is
 * missing and how to install it when neither works.
 */
export async function resolvePulumi(api: PulumiCommandApi, backend: LocalBackend, log: (line: string) => void, version: string = PULUMI_CLI_VERSION): Promise<ResolvedPulumi> {
    let onPath: string;
    try {
        const command = await api.get();
        return { command, origin: "PATH" };
    } catch (err) {
        onPath = explainCliError(err);
    }
    log(`no usable pulumi on PATH (${onPath}); using Pulumi CLI ${version} in ${backend.cliRoot} (installed on first use, about 150 MB)`);
    try {
        const command = await api.install({ root: backend.cliRoot, version: new SemVer(version) });
        return { command, origin: "project", binDir: path.join(backend.cliRoot, "bin") };
    } catch (err) {
        throw new PrerequisiteError(
            `the Pulumi CLI is missing: there is no usable 'pulumi' on PATH, and installing version ${version} into ${backend.cliRoot} failed (${explainCliError(err)}). ` +
                `Install it yourself: curl -fsSL https://get.pulumi.com | sh -s -- --version ${version} (or see https://www.pulumi.com/docs/install/), then run this again.`,
            EXIT.pulumi,
        );
    }
}
