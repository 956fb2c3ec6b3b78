#!/usr/bin/env bash
# Builds ev, snapshots the example under examples/quickstart/ twice (with a change in between) in
# a temporary repository, then shows the history, the change and an integrity check.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --manifest-path "$root/Cargo.toml"
# Copy the binary at once: a target folder shared with other checkouts (CARGO_TARGET_DIR) may get
# another build's `ev` at the same path later.
mkdir "$work/bin"
cp "${CARGO_TARGET_DIR:-$root/target}/release/ev" "$work/bin/ev"
ev="$work/bin/ev"

mkdir "$work/ws"
cp -R "$root/examples/quickstart/." "$work/ws/"
cd "$work/ws"

"$ev" init .
# init keeps the example's evidence.toml; the first snapshot is yesterday's healthy state.
"$ev" commit -m "nightly evidence: healthy" --label model=fraud-scorer-v1
# A config change that lowers the threshold, and the metrics it produced.
sed -i.bak 's/threshold: 0.80/threshold: 0.65/' config.yaml && rm config.yaml.bak
echo '{"auc": 0.913, "precision": 0.62, "recall": 0.88}' > model/metrics.json
"$ev" commit -m "nightly evidence: precision dropped" --label model=fraud-scorer-v1

echo "== ev log"
"$ev" log
echo "== ev show"
"$ev" show HEAD
echo "== what config.yaml said yesterday"
"$ev" cat HEAD~1:config.yaml
echo "== ev verify"
"$ev" verify
