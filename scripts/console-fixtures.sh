#!/usr/bin/env bash
# Records the real runs the console snapshots and the compare tests read
# (tests/fixtures/console/): a case study 2 matrix of the `local` profile (3 cycles per cell)
# and two case study 1 runs, 1000 and 2000 records per invocation (30 invocations each), and a
# sweep (64 invocations per step; the committed sweep-one.json came from a release build with a
# persistence = "none" profile).
# Needs redis-server. Usage: scripts/console-fixtures.sh [path/to/redwhisk]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-./target/debug/redwhisk}
out=tests/fixtures/console
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" share -p local --runs 3 --keys 50 --results-dir "$tmp/share-local" >/dev/null 2>&1
"$bin" run -p local -n 30 -r 1000 --results-dir "$tmp/r1000-local" >/dev/null 2>&1
"$bin" run -p local -n 30 -r 2000 --results-dir "$tmp/r2000-local" >/dev/null 2>&1
"$bin" sweep -p local -c 1,2,4,8,16,32 -n 64 --results-dir "$tmp/sweep" >/dev/null 2>&1
rm -rf "$out"
mkdir -p "$out"
# Stable names for the tests; the time is inside run.json / share.json.
for name in share-local r1000-local r2000-local; do
  cp -r "$tmp/$name"/* "$out/$name"
done
cp "$(find "$tmp/sweep" -name sweep.json | head -1)" "$out/sweep-one.json"
ls "$out"
