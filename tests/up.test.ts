/**
 * `npm run up` / `npm run down` offline: the preflight checks against real processes (a PATH without docker,
 * stand-in `docker` and `kubectl` scripts, and the real Docker client when there is one, pointed at a socket
 * that does not exist), the local backend and its passphrase file, the choice of Pulumi CLI, and the
 * Automation API calls `up` and `down` make, against a recording double.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PulumiCommand, type PulumiCommandOptions, type UpOptions } from "@pulumi/pulumi/automation";
import { EXIT, PULUMI_CLI_VERSION, PrerequisiteError, cliEnvironment, ensureBackend, localBackend, resolvePulumi, shellExports } from "../scripts/automation/local";
import { type CommandRunner, checkDocker, commandRunner, checkKubernetes, checkPython } from "../scripts/automation/preflight";
import { OutputsError, readStackOutputs, stackOutputsCommand } from "../scripts/automation/outputs";
import { type UpDeps, runDown, runUp } from "../scripts/up";
import { type FailingOp, recordingWorkspace } from "./support/automationDouble";
import { runCommand } from "./support/command";

const ROOT = path.join(__dirname, "..");
let scratch: string;
beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "elk-up-"));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Runs commands with PATH = `dir` only, as on a machine that has nothing but the stand-ins put there. */
function runnerWithPath(dir: string): CommandRunner {
    return commandRunner({ ...process.env, PATH: dir });
}

/** A stand-in command in `dir`: a shell script that prints and exits as told. */
function fakeCommand(dir: string, name: string, script: string): void {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
}

function thrown(fn: () => unknown): PrerequisiteError {
    try {
        fn();
    } catch (err) {
        if (err instanceof PrerequisiteError) return err;
        throw err;
    }
    throw new Error("did not throw");
}

describe("preflight", () => {
    test("no docker on PATH: says it is not installed, how to install it, exit 3", () => {
        const err = thrown(() => checkDocker(runnerWithPath(scratch)));
        expect(err.message).toBe(
            "Docker is not installed: there is no 'docker' command on PATH. Fix: install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop (https://docs.docker.com/desktop/), start it, and run this again.",
        );
        expect(err.exitCode).toBe(EXIT.prerequisite);
    });

    test("docker installed but the engine down: says so and how to start it, exit 3", () => {
        fakeCommand(scratch, "docker", `echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1`);
        const err = thrown(() => checkDocker(runnerWithPath(scratch)));
        expect(err.message).toBe(
            "Docker is installed but its engine is not running or not reachable (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?). Fix: start it (Linux: sudo systemctl start docker; macOS and Windows: open Docker Desktop), or point DOCKER_HOST at a running engine, then run this again.",
        );
        expect(err.exitCode).toBe(3);
    });

    test("the socket is not ours to use: says how to get the permission", () => {
        fakeCommand(scratch, "docker", `echo "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock" >&2; exit 1`);
        expect(thrown(() => checkDocker(runnerWithPath(scratch))).message).toMatch(/^Docker is running but this user may not use it \(permission denied.*\)\. Fix: add yourself to the docker group/);
    });

    test("a running engine: its version, and the exact command asked", () => {
        fakeCommand(scratch, "docker", `[ "$*" = "version --format {{.Server.Version}}" ] || exit 9; echo 28.2.2`);
        expect(checkDocker(runnerWithPath(scratch))).toBe("28.2.2");
    });

    const realDocker = spawnSync("docker", ["--version"], { encoding: "utf8", timeout: 30_000 });
    (realDocker.status === 0 ? test : test.skip)("the real Docker client, pointed at a socket that does not exist, is reported as not running", () => {
        const runner = commandRunner({ ...process.env, DOCKER_HOST: `unix://${path.join(scratch, "no.sock")}`, DOCKER_CONTEXT: "" });
        const err = thrown(() => checkDocker(runner));
        expect(err.message).toContain("Docker is installed but its engine is not running or not reachable (");
        expect(err.message).toContain(path.join(scratch, "no.sock"));
        expect(err.exitCode).toBe(EXIT.prerequisite);
    });

    test("kubectl: missing, no context, cluster down, and a cluster that answers", () => {
        expect(thrown(() => checkKubernetes(runnerWithPath(scratch))).message).toMatch(/^kubectl is not installed: there is no 'kubectl' command on PATH\. Fix: install it/);
        fakeCommand(scratch, "kubectl", `echo "error: current-context is not set" >&2; exit 1`);
        expect(thrown(() => checkKubernetes(runnerWithPath(scratch))).message).toBe("kubectl has no current context (error: current-context is not set). Fix: kubectl config use-context NAME, or kind create cluster.");
        fakeCommand(scratch, "kubectl", `if [ "$1" = config ]; then echo kind-elk; exit 0; fi; echo "The connection to the server 127.0.0.1:6443 was refused" >&2; exit 1`);
        expect(thrown(() => checkKubernetes(runnerWithPath(scratch))).message).toBe(
            "the cluster of kubectl context 'kind-elk' does not answer (The connection to the server 127.0.0.1:6443 was refused). Fix: start the cluster or choose another context.",
        );
        fakeCommand(scratch, "kubectl", `if [ "$1" = config ]; then echo kind-elk; exit 0; fi; [ "$*" = "get --raw /readyz" ] && echo ok`);
        expect(checkKubernetes(runnerWithPath(scratch))).toBe("kind-elk");
    });

    test("python3: missing is named; the real one answers with its version", () => {
        expect(thrown(() => checkPython(runnerWithPath(scratch))).message).toMatch(/^python3 is not installed; the e2e test runs its Django stand-in with it/);
        expect(checkPython()).toMatch(/^3\.\d+\.\d+/);
    });
});

describe("the local backend", () => {
    test("lives in the project, git-ignored, with the CLI under the pinned version", () => {
        const b = localBackend(scratch);
        expect(b).toEqual({
            home: path.join(scratch, ".pulumi-local"),
            stateDir: path.join(scratch, ".pulumi-local", "state"),
            backendUrl: `file://${path.join(scratch, ".pulumi-local", "state")}`,
            passphraseFile: path.join(scratch, ".pulumi-local", "passphrase"),
            cliRoot: path.join(scratch, ".pulumi-local", "cli", PULUMI_CLI_VERSION),
        });
        const ignored = spawnSync("git", ["check-ignore", "-q", path.join(__dirname, "..", ".pulumi-local", "state", "x")], { cwd: path.join(__dirname, ".."), timeout: 30_000 });
        expect(ignored.status).toBe(0);
    });

    test("generates the passphrase once, mode 0600 in a 0700 folder, and never replaces it", () => {
        const b = localBackend(scratch);
        expect(ensureBackend(b, () => "first")).toEqual({ passphraseCreated: true });
        expect(fs.readFileSync(b.passphraseFile, "utf8")).toBe("first\n");
        expect(fs.statSync(b.passphraseFile).mode & 0o777).toBe(0o600);
        expect(fs.statSync(b.home).mode & 0o777).toBe(0o700);
        expect(fs.statSync(b.stateDir).isDirectory()).toBe(true);
        expect(ensureBackend(b, () => "second")).toEqual({ passphraseCreated: false });
        expect(fs.readFileSync(b.passphraseFile, "utf8")).toBe("first\n");
        // The default generator: 32 random bytes, different each time.
        const other = localBackend(path.join(scratch, "other"));
        ensureBackend(other);
        expect(fs.readFileSync(other.passphraseFile, "utf8")).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
        expect(fs.readFileSync(other.passphraseFile, "utf8")).not.toBe(fs.readFileSync(b.passphraseFile, "utf8"));
    });

    test("a passphrase others can read is narrowed to 0600; an empty one is refused", () => {
        const b = localBackend(scratch);
        ensureBackend(b, () => "x");
        fs.chmodSync(b.passphraseFile, 0o644);
        expect(ensureBackend(b).permissionsFixed).toBe(`${b.passphraseFile} was mode 644; now 600`);
        expect(fs.statSync(b.passphraseFile).mode & 0o777).toBe(0o600);
        fs.writeFileSync(b.passphraseFile, "\n");
        expect(() => ensureBackend(b)).toThrow(PrerequisiteError);
    });

    test("the CLI runs against the file backend with the passphrase file, an inherited passphrase removed", () => {
        const b = localBackend(scratch);
        expect(cliEnvironment(b)).toEqual({
            set: { PULUMI_BACKEND_URL: b.backendUrl, PULUMI_CONFIG_PASSPHRASE_FILE: b.passphraseFile, PULUMI_SKIP_UPDATE_CHECK: "true" },
            unset: ["PULUMI_CONFIG_PASSPHRASE"],
        });
        const lines = shellExports(localBackend("/work/my project"), "/work/my project/.pulumi-local/cli/3.248.0/bin");
        expect(lines).toEqual([
            "unset PULUMI_CONFIG_PASSPHRASE",
            "export PULUMI_BACKEND_URL='file:///work/my project/.pulumi-local/state'",
            "export PULUMI_CONFIG_PASSPHRASE_FILE='/work/my project/.pulumi-local/passphrase'",
            `export PATH='/work/my project/.pulumi-local/cli/3.248.0/bin':"$PATH"`,
        ]);
        // The lines are valid shell: bash reads them back to the same values.
        const echoed = spawnSync("bash", ["-c", `${lines.slice(0, 3).join("\n")}\nprintf '%s\\n' "$PULUMI_BACKEND_URL" "$PULUMI_CONFIG_PASSPHRASE_FILE" "\${PULUMI_CONFIG_PASSPHRASE-unset}"`], {
            encoding: "utf8",
            timeout: 30_000,
            env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "inherited" },
        });
        expect(echoed.stdout).toBe("file:///work/my project/.pulumi-local/state\n/work/my project/.pulumi-local/passphrase\nunset\n");
    });

    test("the pinned CLI version is the @pulumi/pulumi version npm installed (what PulumiCommand.install defaults to)", () => {
        const sdk = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string };
        expect(PULUMI_CLI_VERSION).toBe(sdk.version);
    });
});

/** A PulumiCommand double: `get` and `install` record their options and succeed or fail as told. */
function commandApi(onPath: boolean, installWorks: boolean) {
    const calls: { op: string; root?: string; version?: string }[] = [];
    const fake = (root?: string) => ({ command: root ? path.join(root, "bin", "pulumi") : "pulumi", version: null }) as unknown as PulumiCommand;
    const record = (op: string, o?: PulumiCommandOptions) => calls.push({ op, ...(o?.root ? { root: o.root } : {}), ...(o?.version ? { version: o.version.version } : {}) });
    return {
        calls,
        api: {
            get: (o?: PulumiCommandOptions) => {
                record("get", o);
                // Without one, the real PulumiCommand.get's error: a CLI that is not there.
                return onPath ? Promise.resolve(fake()) : PulumiCommand.get({ root: "/nonexistent-elk" });
            },
            install: (o?: PulumiCommandOptions) => {
                record("install", o);
                return installWorks ? Promise.resolve(fake(o?.root)) : Promise.reject(new Error("getaddrinfo ENOTFOUND get.pulumi.com"));
            },
        },
    };
}

describe("which Pulumi CLI", () => {
    test("pulumi on PATH is used as it is: nothing installed", async () => {
        const { api, calls } = commandApi(true, true);
        const r = await resolvePulumi(api, localBackend(scratch), () => undefined);
        expect(r.origin).toBe("PATH");
        expect(calls).toEqual([{ op: "get" }]);
    });

    test("no pulumi on PATH: the pinned version is installed into the project and used from there", async () => {
        const { api, calls } = commandApi(false, true);
        const log: string[] = [];
        const b = localBackend(scratch);
        const r = await resolvePulumi(api, b, (l) => log.push(l));
        expect(calls).toEqual([{ op: "get" }, { op: "install", root: b.cliRoot, version: PULUMI_CLI_VERSION }]);
        expect(r).toMatchObject({ origin: "project", binDir: path.join(b.cliRoot, "bin") });
        expect(log).toEqual([`no usable pulumi on PATH (pulumi version could not start: /nonexistent-elk/bin/pulumi was not found (is the Pulumi CLI installed, and on PATH?)); using Pulumi CLI ${PULUMI_CLI_VERSION} in ${b.cliRoot} (installed on first use, about 150 MB)`]);
    });

    test("no pulumi and the install fails: says exactly what is missing and how to install it, exit 4", async () => {
        const { api } = commandApi(false, false);
        const b = localBackend(scratch);
        const err = await resolvePulumi(api, b, () => undefined).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PrerequisiteError);
        expect((err as PrerequisiteError).exitCode).toBe(EXIT.pulumi);
        expect((err as PrerequisiteError).message).toBe(
            `the Pulumi CLI is missing: there is no usable 'pulumi' on PATH, and installing version ${PULUMI_CLI_VERSION} into ${b.cliRoot} failed (getaddrinfo ENOTFOUND get.pulumi.com). Install it yourself: curl -fsSL https://get.pulumi.com | sh -s -- --version ${PULUMI_CLI_VERSION} (or see https://www.pulumi.com/docs/install/), then run this again.`,
        );
    });
});

/** up/down deps around a recording workspace, in a copy of the project (Pulumi.yaml, Pulumi.dev.yaml, policy/). */
function upWorld(o: { docker?: "ok" | "missing"; pulumi?: "ok" | "missing"; fail?: FailingOp[]; existing?: string[]; leftByFailedUp?: string[]; errorText?: Partial<Record<FailingOp, string>> } = {}) {
    const calls: string[] = [];
    const log: string[] = [];
    const progress: string[] = [];
    const upOptions: (UpOptions | undefined)[] = [];
    for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml"]) if (!fs.existsSync(path.join(scratch, f))) fs.copyFileSync(path.join(ROOT, f), path.join(scratch, f));
    fs.mkdirSync(path.join(scratch, "policy"), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), path.join(scratch, "policy", "PulumiPolicy.yaml"));
    const backend = localBackend(scratch);
    const workspace = recordingWorkspace({
        calls,
        upOptions,
        workDir: scratch,
        fail: o.fail,
        existing: o.existing,
        leftByFailedUp: o.leftByFailedUp,
        errorText: o.errorText,
        progressText: "Updating (dev):\n    +  pulumi:pulumi:Stack elk-stack-dev creating\n",
        outputs: { quickstart: { value: "pulumi stack output caCertificate > elk-ca.crt\nopen https://localhost:5601 and log in as elastic", secret: false } },
    });
    const deps: UpDeps = {
        projectRoot: scratch,
        backend,
        checkDocker: () => {
            calls.push("checkDocker");
            if (o.docker === "missing") throw new PrerequisiteError("Docker is not installed: there is no 'docker' command on PATH.");
            return "28.2.2";
        },
        prepareBackend: () => {
            calls.push("prepareBackend");
            return ensureBackend(backend, () => "generated");
        },
        resolvePulumi: () => {
            calls.push("resolvePulumi");
            const { api } = commandApi(o.pulumi !== "missing", o.pulumi !== "missing");
            return resolvePulumi(api, backend, () => undefined);
        },
        openWorkspace: () => {
            calls.push("openWorkspace");
            return Promise.resolve(workspace);
        },
        progress: (t) => progress.push(t),
        log: (l) => log.push(l),
    };
    const tracked = () => fs.readFileSync(path.join(scratch, "Pulumi.dev.yaml"), "utf8");
    return { calls, log, progress, deps, backend, upOptions, tracked, original: tracked(), local: path.join(backend.home, "Pulumi.dev.yaml") };
}

describe("npm run up", () => {
    test("first run: checks, CLI, backend and passphrase, dev created and updated with the policy pack, quickstart printed", async () => {
        const { calls, log, progress, deps, backend, upOptions, tracked, original, local } = upWorld();
        expect(await runUp(deps)).toBe(EXIT.ok);
        expect(calls).toEqual(["checkDocker", "resolvePulumi", "prepareBackend", "openWorkspace", "createOrSelectStack dev", "up dev"]);
        expect(progress.join("")).toContain("pulumi:pulumi:Stack elk-stack-dev creating");
        expect(log).toContain(`up: generated the stack passphrase into ${backend.passphraseFile} (mode 600). Keep it: without it the stack's secrets cannot be read.`);
        expect(log.some((l) => l.startsWith("up: to move to a shared backend later: pulumi login"))).toBe(true);
        expect(log.slice(-3)).toEqual(["Quickstart:", "  pulumi stack output caCertificate > elk-ca.crt", "  open https://localhost:5601 and log in as elastic"]);
        expect(log).toContain(`  export PULUMI_BACKEND_URL=file://${backend.stateDir}`);
        // The update applies the policy pack and reads the local copy of the stack file.
        expect(upOptions.map((u) => [u?.policyPacks, u?.configFile])).toEqual([[[path.join(scratch, "policy")], local]]);
        // Pulumi wrote the new stack's salt into the tracked file: it is back as it was, the salt in the local copy.
        expect(tracked()).toBe(original);
        expect(fs.readFileSync(local, "utf8")).toBe(`encryptionsalt: v1:c2FsdHNhbHQ=:v1:AAAAAAAAAAAAAAAA:Y2hlY2s=\n${original}`);
        expect(log).toContain(`up: Pulumi wrote the new stack's passphrase salt into Pulumi.dev.yaml; it is kept in ${local} instead, and Pulumi.dev.yaml is as it was.`);
        expect(log).toContain(`  # then: pulumi up|preview|refresh|destroy --stack dev --config-file ${local} (the copy of Pulumi.dev.yaml that holds the passphrase's salt)`);
    });

    test("second run: the same stack updated again, the passphrase and its salt kept, the tracked file untouched", async () => {
        const first = upWorld();
        await runUp(first.deps);
        const passphrase = fs.readFileSync(first.backend.passphraseFile, "utf8");
        const salt = fs.readFileSync(first.local, "utf8");
        // The tracked file changes between runs (a new setting): the copy follows it, with the same salt.
        fs.appendFileSync(path.join(scratch, "Pulumi.dev.yaml"), '  elk-stack:logRetentionDays: "14"\n');
        const second = upWorld({ existing: ["dev"] });
        expect(await runUp(second.deps)).toBe(EXIT.ok);
        expect(second.calls).toEqual(["checkDocker", "resolvePulumi", "prepareBackend", "openWorkspace", "createOrSelectStack dev", "up dev"]);
        expect(fs.readFileSync(second.backend.passphraseFile, "utf8")).toBe(passphrase);
        expect(second.tracked()).toBe(second.original);
        expect(fs.readFileSync(second.local, "utf8")).toBe(`${salt.split("\n")[0]}\n${second.original}`);
        expect(second.log.some((l) => l.includes("generated the stack passphrase") || l.includes("salt into Pulumi.dev.yaml"))).toBe(false);
    });

    test("Docker missing: said before anything is touched, exit 3, no backend made", async () => {
        const { calls, log, deps, backend } = upWorld({ docker: "missing" });
        expect(await runUp(deps)).toBe(EXIT.prerequisite);
        expect(calls).toEqual(["checkDocker"]);
        expect(log).toEqual(["up: Docker is not installed: there is no 'docker' command on PATH."]);
        expect(fs.existsSync(backend.home)).toBe(false);
    });

    test("a stack file the CLI would refuse: exit 2 in the CLI's words, before a CLI is looked for or a backend made", async () => {
        const { calls, log, deps, backend } = upWorld();
        fs.appendFileSync(path.join(scratch, "Pulumi.dev.yaml"), "  elk-stack:kibanaPort: https\n");
        expect(await runUp(deps)).toBe(EXIT.usage);
        expect(calls).toEqual(["checkDocker"]);
        expect(log[log.length - 1]).toBe("up: Pulumi.dev.yaml: Stack 'dev' with configuration key 'kibanaPort' must be of type 'integer'");
        expect(fs.existsSync(backend.home)).toBe(false);
    });

    test("no Pulumi CLI and no way to install it: exit 4, and no backend or passphrase left behind", async () => {
        const { calls, log, deps, backend } = upWorld({ pulumi: "missing" });
        expect(await runUp(deps)).toBe(EXIT.pulumi);
        expect(calls).toEqual(["checkDocker", "resolvePulumi"]);
        expect(log[log.length - 1]).toMatch(/^up: the Pulumi CLI is missing: there is no usable 'pulumi' on PATH/);
        expect(fs.existsSync(backend.home)).toBe(false);
    });

    test("a failed first update that created nothing: exit 1, why in words, and no passphrase or backend left behind", async () => {
        const { log, deps, backend, tracked, original } = upWorld({ fail: ["up"], errorText: { up: "error: Docker container es01 unhealthy" } });
        expect(await runUp(deps)).toBe(EXIT.failed);
        expect(log).toContain("up: FAILED: pulumi up failed with exit status 255: error: Docker container es01 unhealthy");
        expect(log.join("\n")).not.toMatch(/code: -2|stdout:|err\?:/);
        expect(log[log.length - 1]).toBe(`up: removed the local backend this run created (${backend.stateDir}, ${backend.passphraseFile}): the stack held nothing yet.`);
        expect(fs.existsSync(backend.passphraseFile)).toBe(false);
        expect(fs.existsSync(backend.stateDir)).toBe(false);
        expect(fs.existsSync(backend.home)).toBe(false);
        expect(tracked()).toBe(original);
    });

    test("stack creation fails on a first run: the same clean-up", async () => {
        const { log, deps, backend, tracked, original } = upWorld({ fail: ["createOrSelectStack"] });
        expect(await runUp(deps)).toBe(EXIT.failed);
        expect(log).toContain("up: FAILED: pulumi stack init failed with exit status 255: error: could not create secrets manager for new stack: passphrase must be set");
        expect(fs.existsSync(backend.home)).toBe(false);
        expect(tracked()).toBe(original);
    });

    test("a failed first update that created resources: the state and passphrase stay, and it says why", async () => {
        const { log, deps, backend } = upWorld({ fail: ["up"], leftByFailedUp: ["pulumi:pulumi:Stack", "pulumi:providers:docker", "docker:index/network:Network"] });
        expect(await runUp(deps)).toBe(EXIT.failed);
        expect(log[log.length - 1]).toBe(`up: the stack holds 1 resource(s) from this run, so its state and passphrase stay in ${backend.home}: run npm run up again, or npm run down to remove them.`);
        expect(fs.existsSync(backend.passphraseFile)).toBe(true);
    });

    test("a failed update of a backend an earlier run made: nothing is removed", async () => {
        await runUp(upWorld().deps);
        const { calls, deps, backend } = upWorld({ existing: ["dev"], fail: ["up"] });
        expect(await runUp(deps)).toBe(EXIT.failed);
        expect(calls).not.toContain("exportStack dev");
        expect(fs.existsSync(backend.passphraseFile)).toBe(true);
    });

    test("the real Automation API without a CLI on PATH: the reason in words, not its 'code: -2'", async () => {
        const log: string[] = [];
        const b = localBackend(scratch);
        const saved = process.env.PATH;
        process.env.PATH = scratch;
        try {
            const err = await resolvePulumi({ get: (opts) => PulumiCommand.get(opts), install: () => Promise.reject(new Error("offline")) }, b, (l) => log.push(l)).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(PrerequisiteError);
        } finally {
            process.env.PATH = saved;
        }
        expect(log).toEqual([`no usable pulumi on PATH (pulumi version could not start: pulumi was not found (is the Pulumi CLI installed, and on PATH?)); using Pulumi CLI ${PULUMI_CLI_VERSION} in ${b.cliRoot} (installed on first use, about 150 MB)`]);
    });
});

describe("npm run down", () => {
    test("destroys the dev stack with the local copy of its stack file, and keeps its state and passphrase", async () => {
        const { calls, log, deps, tracked, original, local } = upWorld({ existing: ["dev"] });
        ensureBackend(deps.backend, () => "p");
        expect(await runDown(deps)).toBe(EXIT.ok);
        expect(calls).toEqual(["checkDocker", "resolvePulumi", "openWorkspace", "selectStack dev", "destroy dev"]);
        expect(calls).not.toContain("removeStack dev");
        expect(log[log.length - 1]).toMatch(/^down: the stack dev is empty; its state and passphrase stay in /);
        // The destroy read the copy (and the CLI saved a salt into it), not the tracked file.
        expect(tracked()).toBe(original);
        expect(fs.readFileSync(local, "utf8")).toMatch(/^encryptionsalt: /);
    });

    test("nothing to destroy when there is no backend or no dev stack", async () => {
        const none = upWorld();
        expect(await runDown(none.deps)).toBe(EXIT.ok);
        expect(none.calls).toEqual(["checkDocker"]);
        const empty = upWorld();
        ensureBackend(empty.deps.backend, () => "p");
        expect(await runDown(empty.deps)).toBe(EXIT.ok);
        expect(empty.calls).toEqual(["checkDocker", "resolvePulumi", "openWorkspace", "selectStack dev"]);
        expect(empty.log[empty.log.length - 1]).toBe("down: the local backend has no stack dev: nothing to destroy.");
    });

    test("a failed destroy: exit 1 in words; Docker missing: exit 3", async () => {
        const failing = upWorld({ existing: ["dev"], fail: ["destroy"] });
        ensureBackend(failing.deps.backend, () => "p");
        expect(await runDown(failing.deps)).toBe(EXIT.failed);
        expect(failing.log[failing.log.length - 1]).toBe("down: FAILED: pulumi destroy failed with exit status 255: error: destroy failed");
        const noDocker = upWorld({ docker: "missing" });
        expect(await runDown(noDocker.deps)).toBe(EXIT.prerequisite);
    });
});

describe("verify, snapshot and restore read the stack npm run up made", () => {
    /** A stand-in CLI at `file` that answers `stack output` for stack dev only in npm run up's backend, as the CLI would. */
    const fakeCli = (file: string, backendUrl: string) => {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(
            file,
            `#!/bin/sh
[ "$*" = "stack output --json --show-secrets --non-interactive --stack dev" ] || { echo "error: unexpected arguments: $*" >&2; exit 2; }
[ "$PULUMI_BACKEND_URL" = "${backendUrl}" ] || { echo "error: no stack named 'dev' found" >&2; exit 255; }
[ -z "\${PULUMI_CONFIG_PASSPHRASE+set}" ] || { echo "error: incorrect passphrase" >&2; exit 255; }
[ -r "$PULUMI_CONFIG_PASSPHRASE_FILE" ] || { echo "error: passphrase must be set" >&2; exit 255; }
echo '{"environment":"dev","elasticsearchUrl":"https://localhost:9200"}'
`,
            { mode: 0o755 },
        );
    };

    test("with npm run up's backend: its CLI, its backend and passphrase file, stack dev; an inherited passphrase removed", () => {
        const b = localBackend(scratch);
        ensureBackend(b, () => "p");
        const cli = path.join(b.cliRoot, "bin", "pulumi");
        fakeCli(cli, b.backendUrl);
        const env = { PATH: "/nonexistent", PULUMI_CONFIG_PASSPHRASE: "inherited" };
        const c = stackOutputsCommand(scratch, undefined, env);
        expect(c).toMatchObject({ command: cli, args: ["stack", "output", "--json", "--show-secrets", "--non-interactive", "--stack", "dev"], from: `stack dev in the local backend of npm run up (${b.stateDir})` });
        expect(c.env).toMatchObject({ PULUMI_BACKEND_URL: b.backendUrl, PULUMI_CONFIG_PASSPHRASE_FILE: b.passphraseFile, PATH: `${path.dirname(cli)}:/nonexistent` });
        expect(c.env.PULUMI_CONFIG_PASSPHRASE).toBeUndefined();
        expect(readStackOutputs(scratch, undefined, env)).toEqual({ environment: "dev", elasticsearchUrl: "https://localhost:9200" });
    });

    test("a backend named in the environment wins, as it does for the CLI: no stack is chosen for it", () => {
        const b = localBackend(scratch);
        ensureBackend(b, () => "p");
        fakeCli(path.join(scratch, "bin", "pulumi"), b.backendUrl);
        const c = stackOutputsCommand(scratch, undefined, { PATH: path.join(scratch, "bin"), PULUMI_BACKEND_URL: "s3://team-state" });
        expect(c.command).toBe(path.join(scratch, "bin", "pulumi"));
        expect(c.args).toEqual(["stack", "output", "--json", "--show-secrets", "--non-interactive"]);
        expect(c.env.PULUMI_BACKEND_URL).toBe("s3://team-state");
        expect(c.from).toBe("stack (the selected one) in the backend pulumi is logged in to");
        // The stand-in refuses what the CLI would: that backend has no such stack, and the reason comes out in words.
        expect(() => readStackOutputs(scratch, "dev", { PATH: path.join(scratch, "bin"), PULUMI_BACKEND_URL: "s3://team-state" })).toThrow(
            `cannot read the outputs of stack dev in the backend pulumi is logged in to with ${path.join(scratch, "bin", "pulumi")}: it exited with status 255: error: no stack named 'dev' found`,
        );
    });

    test("no CLI anywhere: said in words, not 'spawnSync pulumi ENOENT'", () => {
        expect(() => stackOutputsCommand(scratch, undefined, { PATH: scratch })).toThrow(
            new OutputsError(`no Pulumi CLI: there is no 'pulumi' on PATH, and npm run up has not installed one into ${localBackend(scratch).cliRoot}. Install it (https://www.pulumi.com/docs/install/), or run npm run up first`),
        );
    });
});

describe("the commands themselves", () => {
    const tsNode = require.resolve("ts-node/dist/bin.js");
    const scripts = (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    /**
     * Runs the package script `name` as `npm run name -- ...extra` would (its ts-node command line, read from
     * package.json), with PATH holding only `dir`: no docker, no pulumi, no kubectl.
     */
    const command = async (dir: string, name: string, ...extra: string[]) => {
        const script = scripts[name] ?? "";
        // One plain command line, as these scripts are: anything a shell would interpret could not be split on spaces.
        expect(script).toMatch(/^ts-node( [\w./-]+)+$/);
        const [, ...args] = script.split(" ");
        const run = await runCommand(process.execPath, [tsNode, ...args, ...extra], { cwd: path.join(__dirname, ".."), timeoutMs: 50_000, env: { ...process.env, PATH: dir } });
        expect(run.timedOut).toBe(false);
        return run;
    };

    test("npm run up without Docker: the message and exit 3, and no local backend appears", async () => {
        const before = fs.existsSync(path.join(__dirname, "..", ".pulumi-local"));
        const r = await command(scratch, "up");
        expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({
            status: EXIT.prerequisite,
            stdout: "up: Docker is not installed: there is no 'docker' command on PATH. Fix: install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop (https://docs.docker.com/desktop/), start it, and run this again.",
        });
        expect(fs.existsSync(path.join(__dirname, "..", ".pulumi-local"))).toBe(before);
    });

    // In a checkout where npm run up installed the CLI, that CLI would answer instead.
    const installedCli = path.join(localBackend(ROOT).cliRoot, "bin", "pulumi");
    (fs.existsSync(installedCli) ? test.skip : test)("npm run snapshot and npm run verify without any Pulumi CLI: exit 2 with what is missing and what to pass instead", async () => {
        const snapshot = await command(scratch, "snapshot");
        expect(snapshot.status).toBe(2);
        expect(snapshot.stderr.trim()).toMatch(/^snapshot: no Pulumi CLI: there is no 'pulumi' on PATH, and npm run up has not installed one into .*\/\.pulumi-local\/cli\/3\.248\.0\. Install it .*Or pass the values as flags/);
        const verify = await command(scratch, "verify");
        expect(verify.status).toBe(2);
        expect(verify.stderr.trim()).toMatch(/^verify: no Pulumi CLI: .*Or pass --es-url, --ca, --environment and --logstash-host, and the password with --password-file or \$ELASTIC_PASSWORD\.$/);
        for (const r of [snapshot, verify]) expect(r.stderr).not.toMatch(/ENOENT/);
    }, 150_000);

    test("npm run e2e: bad flags exit 2 naming the flag; without Docker exit 3", async () => {
        const usage = await command(scratch, "e2e", "--target", "vm");
        expect({ status: usage.status, stderr: usage.stderr.trim() }).toEqual({ status: EXIT.usage, stderr: "e2e: --target must be docker or kubernetes, got 'vm'" });
        const docker = await command(scratch, "e2e", "--target", "docker");
        expect(docker.status).toBe(EXIT.prerequisite);
        expect(docker.stderr.trim()).toMatch(/^e2e: Docker is not installed: there is no 'docker' command on PATH\./);
    }, 150_000);
});
