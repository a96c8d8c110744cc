# shellcheck shell=sh
# elk-stack's kernel step (busybox sh, in the one privileged container): raises vm.max_map_count to at least `min`
# and leaves a higher value alone, since hosts tuned for other software (Fedora's default is 1048576) must not be
# lowered. components/model/maxMapCount.ts runs it as `sh -c` with these comment lines dropped and `min` set.
min=262144
now=$(sysctl -n vm.max_map_count) || exit 1
case "$now" in ''|*[!0-9]*) echo "elk-sysctl: cannot read vm.max_map_count (got '$now')" >&2; exit 1 ;; esac
if [ "$now" -ge "$min" ]; then echo "elk-sysctl: vm.max_map_count is $now, at least $min: left as it is"; exit 0; fi
exec sysctl -w vm.max_map_count="$min"
