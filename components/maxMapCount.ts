/**
 * The command of the privileged kernel step, with no dependencies, so that the policy pack (which runs on its own)
 * can recognise exactly this command and nothing else.
 */

/**
 * A POSIX shell script (busybox `sh` runs it) that raises `vm.max_map_count` to `min` when the host has less and
 * leaves a higher value alone: hosts tuned for other software (Fedora's default is 1048576) must not be lowered.
 */
export function raiseMaxMapCountScript(min: number): string {
    if (!Number.isInteger(min) || min < 1) throw new Error(`vm.max_map_count must be a positive whole number, not ${min}`);
    return [
        `min=${min}`,
        "now=$(sysctl -n vm.max_map_count) || exit 1",
        `case "$now" in ''|*[!0-9]*) echo "elk-sysctl: cannot read vm.max_map_count (got '$now')" >&2; exit 1 ;; esac`,
        `if [ "$now" -ge "$min" ]; then echo "elk-sysctl: vm.max_map_count is $now, at least $min: left as it is"; exit 0; fi`,
        `exec sysctl -w vm.max_map_count="$min"`,
        "",
    ].join("\n");
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
