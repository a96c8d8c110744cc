/**
 * The privileged kernel step's real shell command, run with `sh` against a fake `sysctl` that keeps the value in a
 * file: it raises vm.max_map_count when the host has less, and never lowers a higher value.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MAX_MAP_COUNT, maxMapCountSpec } from "../components/model/kernel";
import { raiseMaxMapCountCommand, raisedMaxMapCount } from "../components/model/maxMapCount";
import { isSysctlStep } from "../policy/policies";
import { runScript } from "./support/runScript";

/** A `sysctl` that supports `-n NAME` and `-w NAME=VALUE` for vm.max_map_count only, backed by a file, and logs its argv. */
const FAKE_SYSCTL = `#!/bin/sh
echo "$*" >> "$FAKE_SYSCTL_DIR/calls"
case "$1" in
  -n) [ "$2" = vm.max_map_count ] || exit 2; cat "$FAKE_SYSCTL_DIR/value" ;;
  -w) case "$2" in vm.max_map_count=*) v=\${2#vm.max_map_count=}; printf '%s\\n' "$v" > "$FAKE_SYSCTL_DIR/value"; echo "vm.max_map_count = $v" ;; *) exit 2 ;; esac ;;
  *) exit 2 ;;
esac
`;

describe("the sysctl step's command", () => {
    let dir = "";
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-sysctl-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(path.join(dir, "bin", "sysctl"), FAKE_SYSCTL, { mode: 0o755 });
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs the step's argv as the container would (`sh -c SCRIPT`) with the host's value set to `before`. */
    async function runWith(before: string): Promise<{ code: number | null; stdout: string; stderr: string; after: string; calls: string[] }> {
        const state = fs.mkdtempSync(path.join(dir, "host-"));
        fs.writeFileSync(path.join(state, "value"), before);
        const [shell, flag, script] = maxMapCountSpec("sysctl").entrypoint ?? [];
        expect([shell, flag]).toEqual(["sh", "-c"]);
        const file = path.join(state, "step.sh");
        fs.writeFileSync(file, script);
        const run = await runScript(file, { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, FAKE_SYSCTL_DIR: state }, 10_000);
        const calls = fs.existsSync(path.join(state, "calls")) ? fs.readFileSync(path.join(state, "calls"), "utf8").trim().split("\n") : [];
        return { code: run.code, stdout: run.stdout, stderr: run.stderr, after: fs.readFileSync(path.join(state, "value"), "utf8").trim(), calls };
    }

    test("a host below 262144 (the kernel default 65530) is raised to exactly 262144", async () => {
        const r = await runWith("65530\n");
        expect(r.code).toBe(0);
        expect(r.after).toBe(String(MAX_MAP_COUNT));
        expect(r.calls).toEqual(["-n vm.max_map_count", `-w vm.max_map_count=${MAX_MAP_COUNT}`]);
    });

    test("a host above 262144 (Fedora's 1048576) is left alone: nothing is written", async () => {
        const r = await runWith("1048576\n");
        expect(r.code).toBe(0);
        expect(r.after).toBe("1048576");
        expect(r.calls).toEqual(["-n vm.max_map_count"]);
        expect(r.stdout).toContain("vm.max_map_count is 1048576, at least 262144: left as it is");
    });

    test("a host at exactly 262144 is left alone", async () => {
        const r = await runWith("262144\n");
        expect(r.code).toBe(0);
        expect(r.calls).toEqual(["-n vm.max_map_count"]);
    });

    test("a value that cannot be read fails the step instead of writing anything", async () => {
        const r = await runWith("\n");
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("cannot read vm.max_map_count");
        expect(r.calls).toEqual(["-n vm.max_map_count"]);
    });

    test("the policy pack accepts exactly this command as the privileged step, and no edit of it", () => {
        const argv = raiseMaxMapCountCommand(MAX_MAP_COUNT);
        expect(raisedMaxMapCount(argv)).toBe(MAX_MAP_COUNT);
        expect(isSysctlStep(argv)).toBe(true);
        expect(isSysctlStep(["sh", "-c", `${argv[2]}\ntouch /host/etc/passwd`])).toBe(false);
        expect(isSysctlStep(["sh", "-c", argv[2].replace("exec sysctl", "sysctl -w kernel.core_pattern='|/x'; exec sysctl")])).toBe(false);
        expect(isSysctlStep(["bash", "-c", argv[2]])).toBe(false);
    });
});
