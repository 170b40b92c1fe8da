#!/usr/bin/env bash
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#
# The NFS emulation stage (issue 12; doc/design.adoc, "File systems where the lock families
# interact"). This machine has no NFS or SMB client, so test/helper/nfs_shim.c gives the local
# file system an NFS client's lock semantics (flock becomes a whole-file OFD lock, which conflicts
# with the same process's record locks) and makes the library's real detection read "nfs" and the
# local_lock mount option (test/emulation/launch.sh). Every process of a run is under the shim:
# the test modules, our helpers, Python's zc.lockfile and flock(1).
#
#   nfs        NFS, local_lock=none (the default): the families interact, and the suites pass
#              only if the library detects it and takes the record lock alone.
#   nfs-flock  NFS, local_lock=flock: flock is local, the families are separate, and flock(1)
#              is excluded only if the library still takes both.
#   9p         9p2000.L as QEMU serves it: the mount table says "9p" while fstatfs gives the host's
#              type (here the real one), flock emulated as a lock of the server's: the families
#              interact, and only the mount table's type tells it.
#   9p-legacy  legacy 9P2000 (the kernel prints ",noextend"): flock is local, both are taken.
#   interact   the library, the command and the stress program built as on macOS and the BSDs
#              (ZC_LOCKFILE_LOCK_FAMILIES_INTERACT=1), under the flock emulation, where the
#              families interact as they do there.
#   control    the Linux build under the flock emulation on a file system read as local: the
#              issue's self-refusal must show (`zc-lockfile run free.lock -- true` exits 75).
# Each of nfs, nfs-flock and interact runs lock_families, lock_file, peers, shared, wait, inspect,
# cli and a 3 s stress run.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
launch="sh test/emulation/launch.sh"

echo "=== NFS emulation: building"
b2 -j2 test//emulation_programs test//boost_peer test//lock_helper test//zc_stress tools \
    test//lock_families_test-static test//lock_file_test-shared test//peers_test-shared test//shared_test-shared \
    test//wait_test-shared test//inspect_test-shared test//cli_test-shared 2>&1 | grep -v '^warning: ' | tail -n 3

find_program() {  # the newest regular executable of that name under bin/, not a sanitizer's build, nor test/matrix.sh's
    # (test/tools.sh leaves those, newer than these, in the tree: a second run would pick them)
    find bin -type f -name "$1" -perm -u+x -not -path '*sanitizer*' -not -path 'bin/matrix/*' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-
}
boost_peer=$(readlink -f "$(find_program boost_peer)")
lock_helper=$(readlink -f "$(find_program lock_helper)")
command=$(readlink -f "$(find_program zc-lockfile)")
interact_dir=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$interact_dir" "$work"' EXIT
# The interact modules find their helpers by file name: links named as the Linux build's are.
ln -s "$(readlink -f "$(find_program lock_helper_interact)")" "$interact_dir/lock_helper"
ln -s "$(readlink -f "$(find_program zc-lockfile_interact)")" "$interact_dir/zc-lockfile"
ln -s "$boost_peer" "$interact_dir/boost_peer"
helpers_interact=("$interact_dir/boost_peer" "$interact_dir/lock_helper" "$interact_dir/zc-lockfile")

failures=0
run() {  # run MODE NAME PROGRAM ARGS...
    local mode=$1 name=$2
    shift 2
    local t0=$(date +%s) log="$work/$mode-$name.log"
    if timeout 300 $launch "$mode" "$@" > "$log" 2>&1; then
        echo "passed  $mode  $name ($(( $(date +%s) - t0 )) s)"
    else
        echo "FAILED  $mode  $name"
        tail -n 40 "$log"
        failures=$((failures + 1))
    fi
}
module() { find_program "$1"; }
helpers=("$boost_peer" "$lock_helper" "$command")  # an array: the clone's path may hold spaces

echo "=== NFS emulation: running"
for t in lock_families_test-static lock_file_test-shared peers_test-shared shared_test-shared wait_test-shared \
         inspect_test-shared cli_test-shared; do
    run nfs "$t" "$(module "$t")" "${helpers[@]}"
done
run nfs stress "$(module zc_stress)" --seconds 3
# Not the case without /proc: there the mount options cannot be read, NFS counts as its default
# (local_lock=none, interacting), and on a local_lock=flock mount a local flock(1) is then not
# excluded (doc/design.adoc, NFS caveats). It runs in the nfs mode above.
run nfs-flock peers_test-shared "$(module peers_test-shared)" '--run_test=!without_proc_the_lock_still_excludes_both_families' "${helpers[@]}"
for t in lock_families_test-static lock_file_test-shared shared_test-shared wait_test-shared inspect_test-shared \
         cli_test-shared; do
    run nfs-flock "$t" "$(module "$t")" "${helpers[@]}"
done
run nfs-flock stress "$(module zc_stress)" --seconds 3
for mode in 9p 9p-legacy; do
    for t in lock_families_test-static lock_file_test-shared peers_test-shared; do
        # Without /proc a 9p mount is known by fstatfs's type alone, here the host's: 9p2000.L
        # then refuses itself (doc/design.adoc, 9p caveats). Not run in that mode.
        if [ "$mode" = 9p ] && [ "$t" = peers_test-shared ]; then
            run "$mode" "$t" "$(module "$t")" '--run_test=!without_proc_the_lock_still_excludes_both_families' "${helpers[@]}"
        else
            run "$mode" "$t" "$(module "$t")" "${helpers[@]}"
        fi
    done
done
for t in lock_families_test lock_file_test peers_test shared_test wait_test inspect_test cli_test; do
    run interact "${t}_interact" "$(module "${t}_interact")" "${helpers_interact[@]}"
done
run interact stress_interact "$(module zc_stress_interact)" --seconds 3

echo "=== NFS emulation: the command, and the control run"
# Under the NFS emulation the command takes a free lock and says who holds a held one.
run nfs "zc-lockfile run" "$command" run "$work/free.lock" -- true
run nfs "zc-lockfile status" sh -c "\"$command\" run \"$work/held.lock\" -- sh -c '\"$command\" status \"$work/held.lock\"' | grep -q 'pid'"
# Control: the same command when the library takes both families where they interact.
set +e
$launch interact "$command" run "$work/control.lock" -- true > "$work/control.log" 2>&1
status=$?
set -e
echo "control (flock emulated, file system read as local, both families taken): exit $status"
cat "$work/control.log"
if [ "$status" -ne 75 ] || ! grep -q 'Error locking file .*pid=UNKNOWN' "$work/control.log"; then
    echo "FAILED  control: the self-refusal of issue 12 did not show"
    failures=$((failures + 1))
fi

echo "=== NFS emulation: $failures failed, $(( $(date +%s) - started )) s"
[ "$failures" -eq 0 ]
