#!/usr/bin/env bash
# The README's plots, from real runs on the embedded platform with the process backend:
# case study 1 (30 invocations × 1000 records) and case study 2 (3 cycles per cell).
# Writes screenshots/plot-phases.svg, plot-cdf.svg and plot-matrix.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=./target/debug/redwhisk
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export REDWHISK_DATA_DIR="$work/data"
"$bin" run --profile local -n 30 -r 1000 --results-dir "$work/results" >/dev/null
"$bin" share --profile local --runs 3 --results-dir "$work/results" >/dev/null
run_dir="$(ls -d "$work"/results/*-local | head -1)"
share_dir="$(ls -d "$work"/results/*-share | head -1)"
"$bin" plot "$run_dir" --out "$work/plots"
"$bin" plot "$share_dir" --out "$work/plots"
for f in phases cdf matrix; do
  cp "$work/plots/$f.svg" "screenshots/plot-$f.svg"
done
echo "wrote screenshots/plot-{phases,cdf,matrix}.svg"
