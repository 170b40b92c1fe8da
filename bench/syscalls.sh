#!/bin/sh
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
# System calls per uncontended cycle, counted with strace: each entry of cycle_bench runs N and
# 2N cycles, and the difference divided by N is what one cycle costs (start-up cancels out).
#
#   bench/syscalls.sh CYCLE_BENCH [N]
set -eu
bench=$1
n=${2:-1000}
work=$(mktemp -d "${TMPDIR:-/tmp}/zc_syscalls.XXXXXX")
trap 'rm -rf "$work"' EXIT
count() {  # count KEY CYCLES -> "syscall calls" lines
    strace -f -c -U name,calls -o "$work/strace.out" "$bench" --only "$1" --cycles "$2" --dir "$work" >/dev/null
    awk 'NR > 2 && $1 !~ /^-/ && $1 != "total" {print $1, $2}' "$work/strace.out"
}
printf '%-16s %6s  %s\n' entry calls "per cycle"
for key in raw raw_kept lockfile lockfile_relock simple simple_relock boost boost_relock; do
    count "$key" "$n" >"$work/one"
    count "$key" $((2 * n)) >"$work/two"
    awk -v n="$n" -v key="$key" '
        FNR == NR {one[$1] = $2; next}
        {d = ($2 - one[$1]) / n; if (d >= 0.5) {list = list sprintf(" %s %.0f", $1, d); total += d}}
        END {printf "%-16s %6.0f  %s\n", key, total, list}' "$work/one" "$work/two"
done
