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
import type { PulumiCommand, PulumiCommandOptions } from "@pulumi/pulumi/automation";
import { EXIT, PULUMI_CLI_VERSION, PrerequisiteError, cliEnvironment, ensureBackend, localBackend, resolvePulumi, shellExports } from "../scripts/automation/local";
import { type CommandRunner, checkDocker, commandRunner, checkKubernetes, checkPython } from "../scripts/automation/preflight";
import { type UpDeps, runDown, runUp } from "../scripts/up";
import { type FailingOp, recordingWorkspace } from "./support/automationDouble";

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
                return onPath ? Promise.resolve(fake()) : Promise.reject(new Error("Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT"));
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
        expect(log).toEqual([`no usable pulumi on PATH (Command failed with ENOENT: pulumi version); using Pulumi CLI ${PULUMI_CLI_VERSION} in ${b.cliRoot} (installed on first use, about 150 MB)`]);
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

/** up/down deps around a recording workspace; Docker, the CLI and the stack file as told. */
function upWorld(o: { docker?: "ok" | "missing"; pulumi?: "ok" | "missing"; fail?: FailingOp[]; existing?: string[]; saltAppears?: boolean } = {}) {
    const calls: string[] = [];
    const log: string[] = [];
    const progress: string[] = [];
    const backend = localBackend(scratch);
    let stackFileReads = 0;
    const workspace = recordingWorkspace({
        calls,
        fail: o.fail,
        existing: o.existing,
        progressText: "Updating (dev):\n    +  pulumi:pulumi:Stack elk-stack-dev creating\n",
        outputs: { quickstart: { value: "pulumi stack output caCertificate > elk-ca.crt\nopen https://localhost:5601 and log in as elastic", secret: false } },
    });
    const deps: UpDeps = {
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
        readStackFile: () => (o.saltAppears && stackFileReads++ > 0 ? "encryptionsalt: v1:abc\nconfig: {}\n" : "config: {}\n"),
        progress: (t) => progress.push(t),
        log: (l) => log.push(l),
    };
    return { calls, log, progress, deps, backend };
}

describe("npm run up", () => {
    test("first run: Docker checked, backend and passphrase made, dev selected or created, updated, quickstart printed", async () => {
        const { calls, log, progress, deps, backend } = upWorld({ saltAppears: true });
        expect(await runUp(deps)).toBe(EXIT.ok);
        expect(calls).toEqual(["checkDocker", "prepareBackend", "resolvePulumi", "openWorkspace", "createOrSelectStack dev", "up dev"]);
        expect(progress.join("")).toContain("pulumi:pulumi:Stack elk-stack-dev creating");
        expect(log).toContain(`up: generated the stack passphrase into ${backend.passphraseFile} (mode 600). Keep it: without it the stack's secrets cannot be read.`);
        expect(log.some((l) => l.startsWith("up: to move to a shared backend later: pulumi login"))).toBe(true);
        expect(log).toContain("up: Pulumi wrote the salt of your passphrase into Pulumi.dev.yaml (encryptionsalt): it belongs to your passphrase only, keep that line out of commits.");
        expect(log.slice(-3)).toEqual(["Quickstart:", "  pulumi stack output caCertificate > elk-ca.crt", "  open https://localhost:5601 and log in as elastic"]);
        expect(log).toContain(`  export PULUMI_BACKEND_URL=file://${backend.stateDir}`);
    });

    test("second run: the same stack updated again, the passphrase kept and not announced", async () => {
        const first = upWorld();
        await runUp(first.deps);
        const passphrase = fs.readFileSync(first.backend.passphraseFile, "utf8");
        const second = upWorld();
        expect(await runUp(second.deps)).toBe(EXIT.ok);
        expect(second.calls).toEqual(["checkDocker", "prepareBackend", "resolvePulumi", "openWorkspace", "createOrSelectStack dev", "up dev"]);
        expect(fs.readFileSync(second.backend.passphraseFile, "utf8")).toBe(passphrase);
        expect(second.log.some((l) => l.includes("generated the stack passphrase"))).toBe(false);
    });

    test("Docker missing: said before anything is touched, exit 3, no backend made", async () => {
        const { calls, log, deps, backend } = upWorld({ docker: "missing" });
        expect(await runUp(deps)).toBe(EXIT.prerequisite);
        expect(calls).toEqual(["checkDocker"]);
        expect(log).toEqual(["up: Docker is not installed: there is no 'docker' command on PATH."]);
        expect(fs.existsSync(backend.home)).toBe(false);
    });

    test("no Pulumi CLI and no way to install it: exit 4, no stack touched", async () => {
        const { calls, log, deps } = upWorld({ pulumi: "missing" });
        expect(await runUp(deps)).toBe(EXIT.pulumi);
        expect(calls).toEqual(["checkDocker", "prepareBackend", "resolvePulumi"]);
        expect(log[log.length - 1]).toMatch(/^up: the Pulumi CLI is missing: there is no usable 'pulumi' on PATH/);
    });

    test("a failed update: exit 1 with Pulumi's error", async () => {
        const { log, deps } = upWorld({ fail: ["up"] });
        expect(await runUp(deps)).toBe(EXIT.failed);
        expect(log[log.length - 1]).toBe("up: FAILED: up #1 failed: error: Docker container es01 unhealthy");
    });
});

describe("npm run down", () => {
    test("destroys the dev stack and keeps its state and passphrase", async () => {
        const { calls, log, deps } = upWorld({ existing: ["dev"] });
        ensureBackend(deps.backend, () => "p");
        expect(await runDown(deps)).toBe(EXIT.ok);
        expect(calls).toEqual(["checkDocker", "resolvePulumi", "openWorkspace", "selectStack dev", "destroy dev"]);
        expect(calls).not.toContain("removeStack dev");
        expect(log[log.length - 1]).toMatch(/^down: the stack dev is empty; its state and passphrase stay in /);
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

    test("a failed destroy: exit 1; Docker missing: exit 3", async () => {
        const failing = upWorld({ existing: ["dev"], fail: ["destroy"] });
        ensureBackend(failing.deps.backend, () => "p");
        expect(await runDown(failing.deps)).toBe(EXIT.failed);
        const noDocker = upWorld({ docker: "missing" });
        expect(await runDown(noDocker.deps)).toBe(EXIT.prerequisite);
    });
});

describe("the commands themselves", () => {
    const tsNode = require.resolve("ts-node/dist/bin.js");
    /** Runs a script as `npm run` would, with PATH holding only `dir`: no docker, no pulumi, no kubectl. */
    const command = (dir: string, ...args: string[]) =>
        spawnSync(process.execPath, [tsNode, "--transpile-only", ...args], { cwd: path.join(__dirname, ".."), encoding: "utf8", timeout: 60_000, env: { ...process.env, PATH: dir } });

    test("npm run up without Docker: the message and exit 3, and no local backend appears", () => {
        const before = fs.existsSync(path.join(__dirname, "..", ".pulumi-local"));
        const r = command(scratch, "scripts/up.ts", "up");
        expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({
            status: EXIT.prerequisite,
            stdout: "up: Docker is not installed: there is no 'docker' command on PATH. Fix: install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop (https://docs.docker.com/desktop/), start it, and run this again.",
        });
        expect(fs.existsSync(path.join(__dirname, "..", ".pulumi-local"))).toBe(before);
    });

    test("npm run e2e: bad flags exit 2 naming the flag; without Docker exit 3", () => {
        const usage = command(scratch, "scripts/e2e.ts", "--target", "vm");
        expect({ status: usage.status, stderr: usage.stderr.trim() }).toEqual({ status: EXIT.usage, stderr: "e2e: --target must be docker or kubernetes, got 'vm'" });
        const docker = command(scratch, "scripts/e2e.ts", "--target", "docker");
        expect(docker.status).toBe(EXIT.prerequisite);
        expect(docker.stderr.trim()).toMatch(/^e2e: Docker is not installed: there is no 'docker' command on PATH\./);
    });
});
