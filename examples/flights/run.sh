#!/usr/bin/env bash
# Replays the flights incident into a fresh ev repository and lets ev find the fault.
#
# Usage: bash examples/flights/run.sh [WORKSPACE]
#
#   WORKSPACE         folder for the replay repository; must be empty or absent
#                     (default: a new folder under ${TMPDIR:-/tmp}, kept afterwards)
#   EV=/path/to/ev    use this binary instead of building ev in release mode
#   CARGO_TARGET_DIR  respected by the build, as cargo does
#
# All inputs are committed under examples/flights/data/ (see its README for how they
# were derived); nothing is downloaded and no python is needed.
set -euo pipefail

example_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$example_dir/../.." && pwd)"
data="$example_dir/data"

# The known-good day of the incident; the bad state is the tip, main (see README.md).
good_day="2013-02-01"

if [[ -t 2 ]]; then
    step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
else
    step() { printf '\n== %s\n' "$*" >&2; }
fi

if [[ -z "${EV:-}" ]]; then
    step "Building ev (cargo build --release)"
    cargo build --release --quiet --bin ev --manifest-path "$repo_root/Cargo.toml"
    target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
    # A relative CARGO_TARGET_DIR is relative to the folder cargo ran in, which is this one.
    EV="$(cd "$target_dir" && pwd)/release/ev"
fi
if [[ ! -x "$EV" ]]; then
    echo "Error: ev binary not found or not executable: $EV" >&2
    exit 1
fi

# A fixed author and the pinned commit times make the commit ids the same on every run.
export EV_AUTHOR="${EV_AUTHOR:-flights pipeline <flights-pipeline@example.com>}"

workspace="${1:-}"
if [[ -z "$workspace" ]]; then
    workspace="$(mktemp -d "${TMPDIR:-/tmp}/ev-flights.XXXXXX")"
elif [[ -e "$workspace" && -n "$(ls -A "$workspace")" ]]; then
    echo "Error: workspace $workspace is not empty" >&2
    echo "Hint: pass a new folder, or none to get a temporary one" >&2
    exit 1
fi
mkdir -p "$workspace"
cd "$workspace"

step "Replaying 2013-01-01..2013-04-30 into $workspace"
"$EV" init --quiet
cp "$example_dir/evidence.toml" evidence.toml
mkdir -p golden model

started=$SECONDS
days=0
# days.csv columns: date, live model version, flight count, event of that day.
while IFS=, read -r day model _flights _event; do
    cp "$data/flights/$day.parquet" flights.parquet
    cp "$data/golden/$day.csv" golden/delay_by_carrier_origin.csv
    cp "$data/models/$model/delay_model.safetensors" model/delay_model.safetensors
    cp "$data/models/$model/model.json" model/model.json
    cp "$data/metrics/$day.json" metrics.json
    # Midnight UTC of the day, so that main@{YYYY-MM-DD} names that day's snapshot.
    EV_COMMIT_TIME="${day}T00:00:00Z" "$EV" commit --quiet \
        -m "snapshot $day" --label "day=$day" --label "model=$model" > /dev/null
    days=$((days + 1))
    if [[ "$day" == *-01 ]]; then
        printf '  %s committed\n' "${day%-01}" >&2
    fi
done < <(tail -n +2 "$data/days.csv")
printf '  %d snapshots in %d s\n' "$days" "$((SECONDS - started))" >&2

step "The last snapshots (ev log -n 3)"
"$EV" log -n 3

step "What changed between the good day and the tip (ev diff --stat main@{$good_day} main)"
"$EV" diff --stat "main@{$good_day}" main

# The human report ends with the found commit's diff against its parent.
step "First true change (ev bisect auto main@{$good_day} main)"
# Exit 1 means no persistent departure was found; keep going to show the summary.
"$EV" bisect auto "main@{$good_day}" main --json > bisect.json || true
"$EV" bisect auto "main@{$good_day}" main --format markdown > incident.md || true
"$EV" bisect auto "main@{$good_day}" main || true

# The first change's commit id: the first "id" after "first_change" in the JSON report.
found="$(sed -n '/"first_change"/,/"id"/p' bisect.json | grep -o '[0-9a-f]\{64\}' | head -n 1)"
if [[ -z "$found" ]]; then
    echo "Error: ev bisect auto found no first true change (report: $workspace/bisect.json)" >&2
    exit 1
fi

step "Incident summary ($workspace/incident.md)"
cat incident.md

step "Store integrity (ev verify)"
"$EV" verify

printf '\nThe replay repository stays in %s (incident summary: %s/incident.md).\n' \
    "$workspace" "$workspace" >&2
