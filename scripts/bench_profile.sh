#!/usr/bin/env bash
# Profiling benchmark: generates a 10-million-row × 20-column Parquet sample, then measures
# decoding alone, ev's profiling and peak memory, alternating the runs RUNS times (default 5)
# and printing the median of each, and finally whylogs profiling the same file.
# Usage: scripts/bench_profile.sh [ROWS]   (needs python3; installs whylogs into a venv in /tmp)
# Set SKIP_WHYLOGS=1 to measure only decoding and ev (whylogs needs about 20 minutes at 10M rows).
set -euo pipefail
rows="${1:-10000000}"
runs="${RUNS:-5}"
work="$(mktemp -d /tmp/ev-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

cargo build --release --example bench_profile
bench="$CARGO_TARGET_DIR/release/examples/bench_profile"
sample="$work/sample.parquet"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
    "$(free -g | awk '/Mem:/ {print $2}') GiB RAM; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" generate "$sample" "$rows"
# The first decode warms the page cache so every timed run reads from memory.
"$bench" decode "$sample" >/dev/null

# One line per run: mode wall_seconds user_seconds system_seconds max_rss_kb
for i in $(seq "$runs"); do
    for mode in decode decode-encoded profile; do
        /usr/bin/time -f "$mode %e %U %S %M" -a -o "$work/times.txt" \
            "$bench" "$mode" "$sample" >/dev/null
    done
done
python3 - "$work/times.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    mode, wall, user, system, rss = line.split()
    runs.setdefault(mode, []).append((float(wall), float(user) + float(system), int(rss)))
median = lambda mode, i: statistics.median(r[i] for r in runs[mode])
print(f"{'run':<16}{'wall median':>12}{'wall min..max':>16}{'CPU median':>12}{'peak RSS':>12}")
for mode, values in runs.items():
    walls = [r[0] for r in values]
    print(f"{mode:<16}{median(mode, 0):>11.2f}s{min(walls):>8.2f}..{max(walls):.2f}s"
          f"{median(mode, 1):>11.2f}s{max(r[2] for r in values) / 1024:>9.1f} MiB")
decode, profile = median("decode", 0), median("profile", 0)
ratios = sorted(p[0] / d[0] for p, d in zip(runs["profile"], runs["decode"]))
print(f"profile / decode, wall clock: median of runs {decode:.2f} s -> {profile:.2f} s = "
      f"{profile / decode:.2f}x; per alternating pair {ratios[0]:.2f}x .. {ratios[-1]:.2f}x")
print(f"profile / decode-encoded, wall clock: {profile / median('decode-encoded', 0):.2f}x")
PY
if [ "${SKIP_WHYLOGS:-0}" = 1 ]; then
    exit 0
fi

venv=/tmp/whylogs-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    # whylogs 1.6 uses np.unicode_, which numpy 2 removed; pyarrow 20+ needs numpy 2.
    "$venv/bin/pip" install -q whylogs "numpy<2" "pandas<3" "pyarrow<20"
fi
/usr/bin/time -v "$venv/bin/python" - "$sample" 2> "$work/whylogs-time.txt" <<'PY'
import sys, time
import pyarrow.parquet as pq
import whylogs as why

path = sys.argv[1]
started = time.perf_counter()
table = pq.read_table(path)
frame = table.to_pandas()
loaded = time.perf_counter()
result = why.log(frame)
profiled = time.perf_counter()
view = result.view()
print(f"whylogs rows={len(frame)} load_seconds={loaded - started:.3f} "
      f"profile_seconds={profiled - loaded:.3f} "
      f"rows_per_second={len(frame) / (profiled - loaded):.0f} columns={len(view.get_columns())}")
PY
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$work/whylogs-time.txt"
