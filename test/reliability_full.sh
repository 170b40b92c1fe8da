#!/usr/bin/env bash
# The full runs behind doc/reliability.adoc (CI runs the short versions through b2 test and
# test/tools.sh). About 7 minutes on 2 cores.
#
#   test/reliability_full.sh
set -euo pipefail
cd "$(dirname "$0")/.."
b2 -j2 test//zc_stress test//zc_kill_loop > /dev/null
stress=$(find bin/test -name zc_stress -type f -not -path '*sanitizer*' | head -n 1)
kill_loop=$(find bin/test -name zc_kill_loop -type f -not -path '*sanitizer*' | head -n 1)
echo "=== load: 8 processes x 4 threads, 60 s";      "$stress" --seconds 60
echo "=== load: 16 processes x 2 threads, 60 s";     "$stress" --seconds 60 --processes 16 --threads 2
echo "=== control: the same loop without the lock";  "$stress" --seconds 10 --no-lock
echo "=== faults: 1,000 holders killed with SIGKILL"; "$kill_loop" --kills 500 --seed 7
echo "=== sanitizers, valgrind, fuzzing 180 s each"; test/tools.sh 180
