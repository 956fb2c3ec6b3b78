#!/usr/bin/env bash
# Store benchmark: times storing one 1 GiB file with ev's library against b3sum, zstd -1, git add
# and dvc add; re-commit through the stat cache; peak memory for a 4 GiB file; storage growth
# after appending 1% rows to a 1 GiB Parquet file. Results go to stdout as "name: value" lines.
#
# Needs: b3sum, zstd, git, /usr/bin/time; dvc on PATH or in $DVC (optional).
# Uses $BENCH_DIR (default /tmp/ev-bench, about 8 GiB free space needed) and deletes it at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
W=${BENCH_DIR:-/tmp/ev-bench}
DVC=${DVC:-dvc}
BIN=$CARGO_TARGET_DIR/release/examples/bench_store

(cd "$ROOT" && cargo build --release --quiet --example bench_store)
rm -rf "$W" && mkdir -p "$W" && cd "$W"
trap 'cd /; rm -rf "$W"' EXIT

# Prints wall-clock, user and system seconds and peak RSS (KiB) of one command.
measure() {
    local name=$1
    shift
    /usr/bin/time -f "$name: %e s wall, %U s user, %S s sys, %M KiB max RSS" "$@" > /dev/null 2> time.err || {
        cat time.err >&2
        return 1
    }
    tail -n 1 time.err
}

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|L3)' || true
free -h | head -2
df -h "$W" | tail -1
echo "b3sum: $(b3sum --version), zstd: $(zstd --version | head -1), $(git --version)"

echo "== 1 GiB mixed file (half random, half CSV-like text)"
"$BIN" gen big.bin 1024
sync
cat big.bin > /dev/null   # every tool below reads from the page cache

measure "ev commit (library, zstd -1)" "$BIN" commit repo big.bin
"$BIN" commit repo big.bin | sed 's/^/ev re-commit output: /'
measure "ev re-commit (stat cache)" "$BIN" commit repo big.bin
echo "ev store size: $(du -sb repo/.ev/objects | cut -f1) bytes"
rm -rf repo
sync
measure "b3sum" b3sum big.bin
measure "zstd -1" zstd -1 -q -f big.bin -o big.zst
echo "zstd -1 size: $(stat -c %s big.zst) bytes"
rm -f big.zst
measure "b3sum then zstd -1" sh -c 'b3sum big.bin > /dev/null && zstd -1 -q -f big.bin -o big.zst'
rm -f big.zst
sync
# ev fsyncs what it writes; these two make the zstd output durable too, for a like-for-like time.
measure "zstd -1 then sync" sh -c 'zstd -1 -q -f big.bin -o big.zst && sync'
rm -f big.zst
sync
measure "b3sum then zstd -1 then sync" sh -c 'b3sum big.bin > /dev/null && zstd -1 -q -f big.bin -o big.zst && sync'
rm -f big.zst
sync
measure "ev commit again (library, zstd -1)" "$BIN" commit repo big.bin
rm -rf repo
sync
git init -q gitrepo && ln big.bin gitrepo/big.bin
measure "git add" git -C gitrepo add big.bin
rm -rf gitrepo
sync
if command -v "$DVC" > /dev/null; then
    mkdir dvcrepo && ln big.bin dvcrepo/big.bin
    (cd dvcrepo && git init -q && "$DVC" init -q)
    (cd dvcrepo && measure "dvc add" "$DVC" add -q big.bin)
    rm -rf dvcrepo
else
    echo "dvc add: skipped (dvc not found)"
fi
for level in 3; do
    EV_ZSTD_LEVEL=$level measure "ev commit (library, zstd -$level)" "$BIN" commit repo big.bin
    echo "ev store size at zstd -$level: $(du -sb repo/.ev/objects | cut -f1) bytes"
    rm -rf repo
done
rm -f big.bin

echo "== 4 GiB file: peak memory"
"$BIN" gen big4.bin 4096
sync
measure "ev commit 4 GiB" "$BIN" commit repo4 big4.bin
rm -rf repo4 big4.bin

echo "== Parquet: 1 GiB file, then 1% more rows"
"$BIN" parquet sample.parquet 1048576
per_row=$(( $(stat -c %s sample.parquet) / 1048576 ))
rm -f sample.parquet
# Whole row groups of 2^20 rows, about 1 GiB in total.
rows=$(( (1073741824 / per_row / 1048576) * 1048576 ))
more=$(( rows + rows / 100 ))
"$BIN" parquet data.parquet "$rows"
size1=$(stat -c %s data.parquet)
"$BIN" commit repopq data.parquet > /dev/null
store1=$(du -sb repopq/.ev/objects | cut -f1)
"$BIN" parquet data.parquet "$more"
size2=$(stat -c %s data.parquet)
"$BIN" commit repopq data.parquet | sed 's/^/parquet re-commit output: /'
store2=$(du -sb repopq/.ev/objects | cut -f1)
echo "parquet rows: $rows then $more; file bytes: $size1 then $size2"
echo "store bytes: $store1 then $store2; growth $(( store2 - store1 )) bytes"
echo "growth / file size: $(python3 -c "print(f'{($store2-$store1)/$size2*100:.2f} %')")"
echo "appended bytes / file size: $(python3 -c "print(f'{($size2-$size1)/$size2*100:.2f} %')")"
