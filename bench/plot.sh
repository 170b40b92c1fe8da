#!/bin/sh
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
# Draws the benchmark suite's plot from its CSV files (bench/run.sh writes them):
#
#   bench/plot.sh CSV_DIR OUT.png
#
# Needs python3 (to read the CSV) and gnuplot.
set -eu
in=$1
out=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/zc_plot.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One tab-separated file per table and case: "x <tab> value <tab> ratio", for gnuplot.
python3 - "$in" "$work" <<'PY'
import csv, os, re, sys
src, dst = sys.argv[1], sys.argv[2]
for name in ("cycle", "contention", "growth"):
    path = os.path.join(src, name + ".csv")
    if not os.path.exists(path):
        continue
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            case = re.sub(r"[^A-Za-z0-9]+", "_", row["case"]).strip("_")
            table = row["table"]
            if table == "cycle":
                out, line = "cycle.dat", '"%s"\t%s\t%s\n' % (row["x"].replace("_", " "), row["value"], row["ratio"])
            elif table == "contention":
                out, line = "contention_%s.dat" % row["x"], '"%s"\t%s\t%s\n' % (row["case"].replace("_", " "), row["value"], row["ratio"])
            else:
                out, line = "%s_%s.dat" % (table, case), "%s\t%s\t%s\n" % (row["x"], row["value"], row["ratio"])
            with open(os.path.join(dst, out), "a") as o:
                o.write(line)
PY

cd "$work"
# The contention panel: one series per process count that was run, side by side.
contention=""
n=$(ls contention_*.dat | wc -l)
k=0
for f in $(ls contention_*.dat | sort -t_ -k2 -n); do
    p=${f#contention_}
    p=${p%.dat}
    shift=$(python3 -c "print(round(($k - ($n - 1) / 2) * 0.8 / $n, 3))")
    [ -n "$contention" ] && contention="$contention, "
    contention="$contention\"$f\" using (\$0+($shift)):3$([ $k = 0 ] && echo ':xtic(1)' || true) with boxes title \"$p processes\""
    k=$((k + 1))
done
width=$(python3 -c "print(0.8 / $n)")
cat > plot.gp <<GP
set terminal pngcairo size 1400,1000 font ",10" noenhanced
set output "plot.png"
set multiplot layout 2,2 title "zc_lockfile: ratios to a raw C loop measured in the same run"
set grid ytics
set style fill solid 0.6

set title "Uncontended cycle (x floor; log scale)"
set logscale y
set yrange [0.05:100]
set xtics rotate by -35 left
set boxwidth 0.7
plot "cycle.dat" using 0:3:xtic(1) with boxes notitle, "" using 0:3:(sprintf("%.2f", \$3)) with labels offset 0,0.7 notitle

set title "Contention (x floor: raw C, F_SETLKW; log scale)"
set yrange [0.5:50]
set boxwidth $width
plot $contention

unset logscale
set xtics norotate
set logscale x 2
set xlabel "processes"
set ylabel "x floor (raw C with as many processes)"
set autoscale y
set yrange [0:*]
set title "Growth with processes: LockFile against raw C at each count"
plot "growth_uncontended_LockFile.dat" using 1:3 with linespoints title "each process on its own file: LockFile(path) + close()", \
     "growth_contended_LockFile.dat" using 1:3 with linespoints title "all on one file: lock() + unlock(), blocking"

unset logscale
set xlabel "files held by the process"
set xtics ("0" 0, "1" 1, "10" 2, "100" 3, "1000" 4)
set xrange [-0.2:4.2]
set ylabel "us per operation"
set title "Growth with files held (registry: a hash table)"
plot "growth_held_LockFile_cycle.dat" using 0:2 with linespoints title "LockFile cycle on one more file", \
     "growth_held_LockFile_relock.dat" using 0:2 with linespoints title "LockFile relock on one more file"
unset multiplot
GP
gnuplot plot.gp
cd - >/dev/null
cp "$work/plot.png" "$out"
