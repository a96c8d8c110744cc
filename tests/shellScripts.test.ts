/**
 * The stack's shell scripts (shell/*.sh) as real files: shellcheck (Debian's package) finds nothing in any of them,
 * and the keystore start script moves each secret from its file into the service's keystore through stdin, then runs
 * the image's entrypoint with no secret in its environment or arguments. The keystore tools are stand-ins here (no
 * Elastic image in the tests): each records its argv, its environment and its stdin, and the "entrypoint" records
 * its own, so what the real tools would see is checked byte for byte.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RAISE_MAX_MAP_COUNT_FILE, raiseMaxMapCountCommand } from "../components/maxMapCount";
import { SHELL_DIR, keystoreStart, secretFilePath } from "../components/shellScripts";
import { writeSecretFiles } from "./support/curlStep";
import { runScript } from "./support/runScript";

const SCRIPTS = fs.readdirSync(SHELL_DIR).filter((f) => f.endsWith(".sh"));

describe("shellcheck", () => {
    test("the scripts are the ones the components load", () => {
        expect(SCRIPTS.sort()).toEqual(["bootstrap.sh", "elk-common.sh", "keystore-start.sh", "kibana-setup.sh", "raise-max-map-count.sh"]);
    });

    test.each(SCRIPTS)("%s: no warning at all (every severity, sourced files followed)", (name) => {
        const result = spawnSync("shellcheck", ["--external-sources", "--severity=style", "--format=gcc", name], { cwd: SHELL_DIR, encoding: "utf8", timeout: 60_000 });
        expect(result.error).toBeUndefined();
        expect(result.stdout).toBe("");
        expect(result.status).toBe(0);
    });

    test("the sysctl step runs the checked file's text, with only its comments dropped and min set", () => {
        const file = fs.readFileSync(RAISE_MAX_MAP_COUNT_FILE, "utf8");
        const [sh, c, script] = raiseMaxMapCountCommand(300000);
        expect([sh, c]).toEqual(["sh", "-c"]);
        expect(script.startsWith("min=300000\n")).toBe(true);
        expect(file.endsWith(script.slice("min=300000".length))).toBe(true);
        expect(file).toMatch(/^# shellcheck shell=sh\n(#.*\n)*min=\d+\n/);
    });

    test("shellcheck does flag a script with the kind of mistake it is here for (the check is live)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-shellcheck-"));
        try {
            fs.writeFileSync(path.join(dir, "bad.sh"), '#!/bin/bash\npw=$1\ncurl -u elastic:$pw "$URL"\n');
            const result = spawnSync("shellcheck", ["--format=gcc", "bad.sh"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
            expect(result.status).not.toBe(0);
            expect(result.stdout).toContain("SC2086");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

/** A stand-in for a keystore tool or an image entrypoint: appends its argv, environment and stdin to a log. */
function standIn(bin: string, name: string, log: string): void {
    fs.writeFileSync(
        path.join(bin, name),
        `#!/bin/bash\n{ printf 'TOOL %s\\n' "$0"; printf 'ARG %s\\n' "$@"; printf 'STDIN '; cat; printf '\\n'; env | sed 's/^/ENV /'; } >> "${log}"\n`,
        { mode: 0o755 },
    );
}

describe("keystore-start.sh with stand-in keystore tools", () => {
    let dir = "";
    let bin = "";

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-keystore-"));
        bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.copyFileSync(path.join(SHELL_DIR, "keystore-start.sh"), path.join(dir, "keystore-start.sh"));
        fs.copyFileSync(path.join(SHELL_DIR, "elk-common.sh"), path.join(dir, "elk-common.sh"));
    });

    afterAll(() => {
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Runs the start script for `service` with these secrets, the stand-in entrypoint as the command; returns the stand-ins' log. */
    async function startWithArgs(service: string, secrets: Record<string, string>) {
        const log = path.join(dir, `${service}-${Math.random().toString(36).slice(2)}.log`);
        for (const tool of ["elasticsearch-keystore", "kibana-keystore", "logstash-keystore", "entrypoint"]) standIn(bin, tool, log);
        const files = writeSecretFiles(dir, secrets);
        const wrapper = path.join(dir, `run-${service}.sh`);
        fs.writeFileSync(wrapper, `exec bash "${path.join(dir, "keystore-start.sh")}" "$ELK_TEST_SERVICE" entrypoint --from-image\n`);
        const result = await runScript(wrapper, { PATH: `${bin}:${process.env.PATH ?? ""}`, ELK_TEST_SERVICE: service, ...files.env }, 20_000);
        return { result, log: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "" };
    }

    const invocations = (log: string) =>
        log
            .split("TOOL ")
            .slice(1)
            .map((block) => {
                const lines = block.split("\n");
                return {
                    tool: path.basename(lines[0]),
                    args: lines.filter((l) => l.startsWith("ARG ")).map((l) => l.slice(4)),
                    stdin: block.slice(block.indexOf("STDIN ") + 6, block.indexOf("\nENV ")),
                    env: lines.filter((l) => l.startsWith("ENV ")).map((l) => l.slice(4)),
                };
            });

    test("Elasticsearch: bootstrap.password goes in through stdin, then the image's entrypoint runs with nothing secret", async () => {
        const password = "Es-Pw-7Qm2xK9rVt $HOME `id` 'q' \"d\" \\";
        const { result, log } = await startWithArgs("elasticsearch", { "bootstrap.password": password });
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        const calls = invocations(log);
        expect(calls.map((c) => [c.tool, c.args])).toEqual([
            ["elasticsearch-keystore", ["add", "--stdin", "--force", "bootstrap.password"]],
            ["entrypoint", ["--from-image"]],
        ]);
        expect(calls[0].stdin).toBe(password);
        for (const c of calls) {
            expect(c.args.join(" ")).not.toContain(password);
            expect(c.env.join("\n")).not.toContain(password);
        }
    });

    test("Kibana: a fresh keystore, each setting through stdin, then kibana-docker's stand-in with nothing secret", async () => {
        const secrets = { "elasticsearch.password": "Kibana-Sys-Pw-3Lp8vN1c", "xpack.security.encryptionKey": "k".repeat(48) };
        const { result, log } = await startWithArgs("kibana", secrets);
        expect(result.code).toBe(0);
        const calls = invocations(log);
        expect(calls.map((c) => [c.tool, c.args])).toEqual([
            ["kibana-keystore", ["create", "--silent"]],
            ["kibana-keystore", ["add", "--stdin", "--force", "--silent", "elasticsearch.password"]],
            ["kibana-keystore", ["add", "--stdin", "--force", "--silent", "xpack.security.encryptionKey"]],
            ["entrypoint", ["--from-image"]],
        ]);
        expect(calls[0].stdin).toBe("y\n");
        expect(calls[1].stdin).toBe(secrets["elasticsearch.password"]);
        expect(calls[2].stdin).toBe(secrets["xpack.security.encryptionKey"]);
        for (const c of calls) for (const v of Object.values(secrets)) expect([...c.args, ...c.env].join("\n")).not.toContain(v);
    });

    test("Kibana: a value kibana-keystore would change (JSON, surrounding spaces) is refused before the keystore is touched", async () => {
        for (const value of ["12345678901234567890", "true", ' "quoted"', "[1]", "pw "]) {
            const { result, log } = await startWithArgs("kibana", { "elasticsearch.password": value });
            expect(result.code).toBe(1);
            expect(result.stderr).toContain("would be changed by kibana-keystore");
            expect(invocations(log).map((c) => c.args[0])).toEqual(["create"]);
        }
    });

    test("Logstash: the keystore created without a password prompt left hanging, the password as one line, then its entrypoint", async () => {
        const password = "Logstash-Pw-5Hd4tB6wZe";
        const { result, log } = await startWithArgs("logstash", { ELK_LOGSTASH_PASSWORD: password });
        expect(result.code).toBe(0);
        const calls = invocations(log);
        expect(calls.map((c) => [c.tool, c.args])).toEqual([
            ["logstash-keystore", ["create"]],
            ["logstash-keystore", ["add", "ELK_LOGSTASH_PASSWORD"]],
            ["entrypoint", ["--from-image"]],
        ]);
        // Both of create's questions answered (overwrite, go without a keystore password); the value as one line.
        expect(calls[0].stdin).toBe("y\ny\n");
        expect(calls[1].stdin).toBe(`${password}\n`);
        expect(calls[2].env.join("\n")).not.toContain(password);
    });

    test.each([
        ["elasticsearch", "bootstrap.password", "pw\ninsecure", "holds a NUL, CR or LF byte"],
        ["logstash", "ELK_LOGSTASH_PASSWORD", "pw\r", "holds a NUL, CR or LF byte"],
        ["kibana", "elasticsearch.password", "pw\0x", "holds a NUL, CR or LF byte"],
        // The Elasticsearch and Logstash keystores take ASCII only; Logstash's would ask again forever.
        ["logstash", "ELK_LOGSTASH_PASSWORD", "pässwort", "outside printable ASCII"],
        ["elasticsearch", "bootstrap.password", "pw\twith-tab", "outside printable ASCII"],
        ["elasticsearch", "bootstrap.password", "", "is empty"],
    ])("%s: %s %j is refused; the service never starts", async (service, name, value, message) => {
        const { result, log } = await startWithArgs(service, { [name]: value });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(message);
        expect(invocations(log).map((c) => c.tool)).not.toContain("entrypoint");
        expect(invocations(log).some((c) => c.args[0] === "add")).toBe(false);
    });

    test("a missing secret file stops it too", async () => {
        const files = writeSecretFiles(dir, { "bootstrap.password": undefined });
        expect(fs.existsSync(secretFilePath(files.secretDir, "bootstrap.password"))).toBe(false);
        const wrapper = path.join(dir, "run-missing.sh");
        fs.writeFileSync(wrapper, `exec bash "${path.join(dir, "keystore-start.sh")}" elasticsearch entrypoint\n`);
        const result = await runScript(wrapper, { PATH: `${bin}:${process.env.PATH ?? ""}`, ...files.env }, 20_000);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("cannot read the secret file");
    });

    test("the components wire it as the entrypoint, with the image's own entrypoint after it", () => {
        const s = keystoreStart({ service: "elasticsearch", dir: "/x", secrets: { "bootstrap.password": { description: "d", value: "v" } }, init: ["/bin/tini", "--"], command: ["/e.sh", "eswrapper"] });
        expect(s.entrypoint).toEqual(["/bin/tini", "--", "/bin/bash", "/x/keystore-start.sh", "elasticsearch", "/e.sh", "eswrapper"]);
        expect(s.env).toEqual({ ELK_CONFIDENTIAL: "bootstrap.password", ELK_CONFIDENTIAL_DIR: "/x" });
        expect(s.files.map((f) => [f.path, f.mode, f.secret])).toEqual([
            ["/x/keystore-start.sh", "0755", false],
            ["/x/elk-common.sh", "0644", false],
            ["/x/elk-secret.bootstrap.password", "0600", true],
        ]);
    });
});
