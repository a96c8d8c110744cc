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
import { RAISE_MAX_MAP_COUNT_FILE, raiseMaxMapCountCommand } from "../components/model/maxMapCount";
import { SHELL_DIR, keystoreStart, secretFilePath } from "../components/model/shellScripts";
import { kibanaKeystoreProblem } from "../components/model/validation";
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

/**
 * What each keystore tool prints and does after reading its input, as the real tools do where the start script
 * relies on it; ELK_TEST_FAIL=<command> makes the named command fail the way the tool fails.
 * - kibana-keystore (elastic/kibana src/cli_keystore/create.js, add.js, list.js and src/cli/logger.js): a failed `add`
 *   writes "ERROR: ..." to stderr, nothing with --silent, and exits 0; `list` prints the stored names, one a line.
 * - logstash-keystore (elastic/logstash logstash-core/src/main/java/org/logstash/secret/cli/SecretStoreCli.java):
 *   prompts and outcomes on stdout, an error as an "ERROR: ..." line, and exit code 0 either way.
 * - elasticsearch-keystore (AddStringKeyStoreCommand.java): an error is a UserException, a non-zero exit.
 */
const BEHAVIOUR: Record<string, string> = {
    "kibana-keystore": `store="$ELK_TEST_KEYSTORE"
case "$1" in
  create) : > "$store"; [[ " $* " == *" --silent "* ]] || echo "Created Kibana keystore in $store" ;;
  add) if [ "\${ELK_TEST_FAIL:-}" = add ]; then [[ " $* " == *" --silent "* ]] || echo "ERROR: Kibana keystore not found. Use 'create' command to create one." >&2; else echo "\${*: -1}" >> "$store"; fi ;;
  list) cat "$store" ;;
esac
exit 0`,
    "logstash-keystore": `printf '\\n'
if [ "\${ELK_TEST_FAIL:-}" = "$1" ]; then echo "ERROR: Logstash keystore not found. Use 'create' command to create one."; exit 0; fi
case "$1" in
  create) echo "WARNING: The keystore password is not set. Please set the environment variable LOGSTASH_KEYSTORE_PASS. Continue without password protection on the keystore? [y/N] Created Logstash keystore at /usr/share/logstash/config/logstash.keystore" ;;
  add) printf "Enter value for %s: Added '%s' to the Logstash keystore.\\n" "$2" "$2" ;;
esac
exit 0`,
    "elasticsearch-keystore": `if [ "\${ELK_TEST_FAIL:-}" = "$1" ]; then echo "ERROR: the setting names can not be empty" >&2; exit 64; fi`,
};

/** A stand-in for a keystore tool or an image entrypoint: appends its argv, environment and stdin to a log, then behaves as the tool. */
function standIn(bin: string, name: string, log: string): void {
    fs.writeFileSync(
        path.join(bin, name),
        `#!/bin/bash\n{ printf 'TOOL %s\\n' "$0"; printf 'ARG %s\\n' "$@"; printf 'STDIN '; cat; printf '\\n'; env | sed 's/^/ENV /'; } >> "${log}"\n${BEHAVIOUR[name] ?? ""}\n`,
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
    async function startWithArgs(service: string, secrets: Record<string, string>, fail?: string) {
        const run = `${service}-${Math.random().toString(36).slice(2)}`;
        const log = path.join(dir, `${run}.log`);
        for (const tool of ["elasticsearch-keystore", "kibana-keystore", "logstash-keystore", "entrypoint"]) standIn(bin, tool, log);
        const files = writeSecretFiles(dir, secrets);
        const wrapper = path.join(dir, `run-${service}.sh`);
        fs.writeFileSync(wrapper, `exec bash "${path.join(dir, "keystore-start.sh")}" "$ELK_TEST_SERVICE" entrypoint --from-image\n`);
        const env = { PATH: `${bin}:${process.env.PATH ?? ""}`, ELK_TEST_SERVICE: service, ELK_TEST_KEYSTORE: path.join(dir, `${run}.keystore`), ...(fail ? { ELK_TEST_FAIL: fail } : {}), ...files.env };
        const result = await runScript(wrapper, env, 20_000);
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
            ["kibana-keystore", ["create"]],
            ["kibana-keystore", ["add", "--stdin", "--force", "elasticsearch.password"]],
            ["kibana-keystore", ["add", "--stdin", "--force", "xpack.security.encryptionKey"]],
            ["kibana-keystore", ["list"]],
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

    test("Kibana: the preview's rule (components/model/validation.ts) and the start script's refuse the same values, and every value kibana-keystore would store changed", async () => {
        /** What kibana-keystore stores for `value` (elastic/kibana src/cli_keystore/add.js: trim, then JSON.parse when it parses, `?? trimmed`). */
        const stored = (value: string): unknown => {
            const trimmed = value.trim();
            let parsed: unknown;
            try {
                parsed = JSON.parse(trimmed) as unknown;
            } catch {
                parsed = undefined;
            }
            return parsed ?? trimmed;
        };
        const values = ["Kibana-Sys-Pw-3Lp8vN1c", "1234567890123456x", "null-is-a-prefix-1", "pass word with inner spaces", "x[1]{2}\"3\"", "1234567890123456789", "-1.5e10", "0.25", '"quoted-password"', "[not-json-at-all", '{"a":1}', " leading-space", "trailing-space ", "true", "null"];
        const verdicts: { value: string; preview: boolean; start: boolean; changed: boolean }[] = [];
        for (const value of values) {
            const { result } = await startWithArgs("kibana", { "elasticsearch.password": value });
            verdicts.push({ value, preview: kibanaKeystoreProblem(value) !== undefined, start: result.code !== 0, changed: stored(value) !== value });
        }
        for (const v of verdicts) {
            expect({ value: v.value, preview: v.preview }).toEqual({ value: v.value, preview: v.start });
            // At least as strict as the tool: every value it would change is refused ("null" it keeps as the text).
            if (v.changed) expect({ value: v.value, refused: v.preview }).toEqual({ value: v.value, refused: true });
        }
        expect(verdicts.filter((v) => !v.preview).map((v) => v.value)).toEqual(["Kibana-Sys-Pw-3Lp8vN1c", "1234567890123456x", "null-is-a-prefix-1", "pass word with inner spaces", "x[1]{2}\"3\""]);
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

    test("Logstash: an ERROR the tool prints with exit code 0 stops the start with the tool's words, and the service never starts", async () => {
        for (const step of ["create", "add"]) {
            const { result, log } = await startWithArgs("logstash", { ELK_LOGSTASH_PASSWORD: "Logstash-Pw-5Hd4tB6wZe" }, step);
            expect({ step, code: result.code }).toEqual({ step, code: 1 });
            expect(result.stderr).toContain(`elk-keystore: logstash-keystore ${step} failed (exit code 0, expected "${step === "create" ? "Created Logstash keystore" : "Added 'ELK_LOGSTASH_PASSWORD' to the Logstash keystore."}"); its output:`);
            expect(result.stderr).toContain("ERROR: Logstash keystore not found. Use 'create' command to create one.");
            expect(result.stderr).not.toContain("Logstash-Pw-5Hd4tB6wZe");
            expect(invocations(log).map((c) => c.tool)).not.toContain("entrypoint");
        }
    });

    test("Kibana: a setting the tool did not store (an error, exit code 0) stops the start; the error reaches the log", async () => {
        const { result, log } = await startWithArgs("kibana", { "elasticsearch.password": "Kibana-Sys-Pw-3Lp8vN1c" }, "add");
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("ERROR: Kibana keystore not found.");
        expect(result.stderr).toContain("elk-keystore: kibana-keystore did not store elasticsearch.password (see its error above); Kibana would start without it");
        expect(invocations(log).map((c) => c.tool)).not.toContain("entrypoint");
    });

    test("Elasticsearch: the tool's non-zero exit stops the start", async () => {
        const { result, log } = await startWithArgs("elasticsearch", { "bootstrap.password": "Es-Pw-7Qm2xK9rVt-long" }, "add");
        expect(result.code).toBe(64);
        expect(invocations(log).map((c) => c.tool)).not.toContain("entrypoint");
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
