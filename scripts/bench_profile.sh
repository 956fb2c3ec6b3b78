#!/usr/bin/env bash
# Profiling benchmark: generates a 10-million-row × 20-column Parquet sample, then measures
# decode-only time, ev's profiling time and peak memory, and whylogs profiling the same file.
# Usage: scripts/bench_profile.sh [ROWS]   (needs python3; installs whylogs into a venv in /tmp)
# Set SKIP_WHYLOGS=1 to measure only decoding and ev (whylogs needs about 20 minutes at 10M rows).
set -euo pipefail
rows="${1:-10000000}"
work="$(mktemp -d /tmp/ev-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

cargo build --release --example bench_profile
bench="$CARGO_TARGET_DIR/release/examples/bench_profile"
sample="$work/sample.parquet"

"$bench" generate "$sample" "$rows"
# The first decode warms the page cache so both timed runs read from memory.
"$bench" decode "$sample" >/dev/null
/usr/bin/time -v "$bench" decode "$sample" 2> "$work/decode-time.txt"
grep -E "User time|System time|Maximum resident set size|Elapsed \(wall clock\)" "$work/decode-time.txt"
/usr/bin/time -v "$bench" profile "$sample" 2> "$work/time.txt"
grep -E "User time|System time|Maximum resident set size|Elapsed \(wall clock\)" "$work/time.txt"
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
