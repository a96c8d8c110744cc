/**
 * The command of the privileged kernel step, with no dependencies but its script file, so that the policy pack
 * (which runs on its own) can recognise exactly this command and nothing else.
 */
import * as fs from "fs";
import * as path from "path";
import { PACKAGE_ROOT } from "./packageRoot";

/** The script's file (shell/raise-max-map-count.sh), which shellcheck checks in the tests. */
export const RAISE_MAX_MAP_COUNT_FILE = path.join(PACKAGE_ROOT, "shell", "raise-max-map-count.sh");

/**
 * A POSIX shell script (busybox `sh` runs it) that raises `vm.max_map_count` to `min` when the host has less and
 * leaves a higher value alone: the file's text without its leading comment lines, with `min` set on its first line.
 */
export function raiseMaxMapCountScript(min: number): string {
    if (!Number.isInteger(min) || min < 1) throw new Error(`vm.max_map_count must be a positive whole number, not ${min}`);
    const lines = fs.readFileSync(RAISE_MAX_MAP_COUNT_FILE, "utf8").split("\n");
    const body = lines.slice(lines.findIndex((l) => !l.startsWith("#")));
    if (!/^min=\d+$/.test(body[0] ?? "")) throw new Error(`${RAISE_MAX_MAP_COUNT_FILE}: the first line after the comments must be min=<number>`);
    return [`min=${min}`, ...body.slice(1)].join("\n");
}

/** The step's argv: `sh -c <script>`. */
export function raiseMaxMapCountCommand(min: number): string[] {
    return ["sh", "-c", raiseMaxMapCountScript(min)];
}

/** The minimum a command raises `vm.max_map_count` to, when it is exactly {@link raiseMaxMapCountCommand}; else undefined. */
export function raisedMaxMapCount(argv: readonly string[]): number | undefined {
    if (argv.length !== 3 || argv[0] !== "sh" || argv[1] !== "-c") return undefined;
    const m = /^min=(\d+)\n/.exec(argv[2]);
    if (!m) return undefined;
    const min = Number(m[1]);
    return argv[2] === raiseMaxMapCountScript(min) ? min : undefined;
}
