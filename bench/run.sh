#!/bin/sh
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
# Runs the benchmark suite and prints its tables; writes one CSV per program and, when gnuplot
# is installed, the plot. `b2 bench` and `b2 bench//smoke` call it with the built programs.
#
#   bench/run.sh [--smoke] --out DIR PROGRAM...
#
# --smoke: tiny counts (about 10 seconds in all), only to prove that every program still runs
# and that every contention run still counts exactly; its figures mean nothing.
set -eu
smoke=no
out=bin/bench-results
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=yes; shift ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
    esac
done
here=$(dirname "$0")
for p in "$@"; do
    case $(basename "$p") in
    cycle_bench) cycle=$p ;;
    contention_bench) contention=$p ;;
    growth_bench) growth=$p ;;
    wait_bench) wait=$p ;;
    timestamps_bench) timestamps=$p ;;
    qlockfile_peer) qt=$p ;;
    esac
done
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/zc_bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
python_peer="$here/peers/python_peer.py"  # run by the first python3 on PATH that imports zc.lockfile

if [ $smoke = yes ]; then
    cycle_args="--rounds 1 --cycles 200"
    contention_args="--procs 2 --cycles 50 --rounds 1"
    growth_args="--procs 1,4 --cycles 50 --total 200 --held 0,10 --rounds 1"
    wait_args="--samples 5 --hold-ms 100"
    timestamps_args="--cycles 1000"
else
    cycle_args="--rounds 15 --cycles 20000"
    contention_args="--procs 4,16 --cycles 2000 --rounds 3"
    growth_args="--procs 1,2,4,8,16,32,64 --cycles 2000 --total 8000 --held 0,1,10,100,1000 --rounds 3"
    wait_args="--samples 200"
    timestamps_args="--cycles 200000"
fi

echo "zc_lockfile benchmarks: $(nproc) CPUs, $(uname -sr), files in $work"
echo
"$cycle" $cycle_args --dir "$work" --csv "$out/cycle.csv" --python-peer "$python_peer" --qt-peer "$qt"
echo
"$contention" $contention_args --dir "$work" --csv "$out/contention.csv" --python-peer "$python_peer"
echo
"$growth" $growth_args --dir "$work" --csv "$out/growth.csv"
echo
"$wait" $wait_args --dir "$work" --csv "$out/wait.csv"
echo
"$timestamps" $timestamps_args --dir "$work" --csv "$out/timestamps.csv"
echo
if command -v strace >/dev/null 2>&1; then
    echo "System calls per uncontended cycle (strace)"
    sh "$here/syscalls.sh" "$cycle" $([ $smoke = yes ] && echo 100 || echo 1000) | tee "$out/syscalls.txt"
    echo
fi
if command -v gnuplot >/dev/null 2>&1; then
    sh "$here/plot.sh" "$out" "$out/performance.png"
    echo "plot: $out/performance.png"
fi
echo "CSV: $out/*.csv"
