#!/usr/bin/env bash
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#
# Every release of Python's zc.lockfile on PyPI as a peer (issue 15). Each release is installed
# with pip from PyPI into its own virtual environment of Debian's python3 (python3-venv), kept in
# bin/peers/zc.lockfile-VERSION for the next run, and test/peer_releases_test.cpp runs once per
# release with that environment's python3: exclusion in both directions, and what each release
# does to the file and logs (the module's head comment lists how the releases differ).
#
# The 11 releases: PyPI also holds 1.0.0b1, a pre-release, and 3.0, yanked ("python_requires
# missing in setup.py") and replaced by 3.0.post1 with the same code; neither is counted.
#
# A release that does not install fails the stage, with pip's last lines as the reason; one that
# is known not to install on this Python would be listed in `uninstallable` below with its
# reason, and reported as such on every run. Today every release installs on Python 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

releases=(1.0.0 1.0.1 1.0.2 1.1.0 1.2.0 1.2.1 1.3.0 1.4 2.0 3.0.post1 4.0)
declare -A uninstallable=()  # VERSION -> why it cannot be installed on this Python

echo "=== zc.lockfile releases: building"
build_log=$(mktemp)
if ! b2 -j2 test//peer_releases_test test//lock_helper > "$build_log" 2>&1; then
    grep -E 'error|failed' "$build_log" | head -n 40  # the compiler's messages, not only b2's summary
    rm -f "$build_log"
    exit 1
fi
grep -v '^warning: ' "$build_log" | tail -n 3
rm -f "$build_log"
find_program() {  # the newest regular executable of that name under bin/, not a sanitizer's build, nor test/matrix.sh's
    find bin -type f -name "$1" -perm -u+x -not -path '*sanitizer*' -not -path 'bin/peers/*' -not -path 'bin/matrix/*' -printf '%T@ %p\n' \
        | sort -n | tail -n 1 | cut -d' ' -f2-
}
module=$(readlink -f "$(find_program peer_releases_test)")
lock_helper=$(readlink -f "$(find_program lock_helper)")
python=/usr/bin/python3
echo "interpreter: $python ($($python --version 2>&1))"

failures=0
echo "=== zc.lockfile releases: installing (cached in bin/peers)"
for v in "${releases[@]}"; do
    venv=bin/peers/zc.lockfile-$v
    if [ -n "${uninstallable[$v]:-}" ]; then
        echo "not installable  $v: ${uninstallable[$v]}"
        continue
    fi
    [ -f "$venv/.installed" ] && continue
    t0=$(date +%s)
    rm -rf "$venv"
    mkdir -p bin/peers
    if $python -m venv "$venv" > "$venv.log" 2>&1 &&
        "$venv/bin/python3" -m pip install --no-cache-dir --disable-pip-version-check --no-input "zc.lockfile==$v" >> "$venv.log" 2>&1; then
        touch "$venv/.installed"
        echo "installed  $v ($(( $(date +%s) - t0 )) s)"
    else
        echo "FAILED to install zc.lockfile $v on $($python --version 2>&1):"
        tail -n 15 "$venv.log"
        failures=$((failures + 1))
    fi
done

echo "=== zc.lockfile releases: running peer_releases_test once per release"
for v in "${releases[@]}"; do
    venv=bin/peers/zc.lockfile-$v
    [ -f "$venv/.installed" ] || continue
    log=$(mktemp)
    if timeout 300 "$module" --log_level=test_suite --color_output=no -- "$lock_helper" "$(pwd)/$venv/bin/python3" > "$log" 2>&1; then
        echo "passed  zc.lockfile $v"
        # The cases a release cannot run (no template before 1.2.0, no SimpleLockFile before 2.0)
        sed -n 's/.*Test case "\(.*\)" is skipped because precondition failed: \(.*\)/        not run: \1 (\2)/p' "$log"
    else
        echo "FAILED  zc.lockfile $v"
        tail -n 40 "$log"
        failures=$((failures + 1))
    fi
    rm -f "$log"
done

echo "=== zc.lockfile releases: $failures failed, $(( $(date +%s) - started )) s"
[ "$failures" -eq 0 ]
