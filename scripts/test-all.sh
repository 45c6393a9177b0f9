#!/usr/bin/env bash
# Every test, with nothing skipped: installs and starts what the tests need (Docker engine,
# redis-server, tmux, Node.js packages for the Node.js actions), builds the local Redis image,
# checks formatting and lints, then runs the whole suite. Run as root (or with sudo) on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"            # insta: never write snapshots, fail on a difference
bash scripts/ci-setup.sh
if [ -f actions/nodejs/package-lock.json ]; then
  npm ci --prefix actions/nodejs --no-audit --no-fund --loglevel=error
fi
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --workspace --quiet
# The native actions as static executables, as OpenWhisk's dockerskeleton runs them
# (the OpenWhisk tests deploy these zipped; the Lambda tests put `bootstrap` in the emulator image).
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --quiet --profile dist -p redwhisk-actions --target x86_64-unknown-linux-gnu
./target/debug/redwhisk image build-local
log="$(mktemp)"
set +e
cargo test --workspace --lib --bins --tests --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# Doc tests: src/results/summary.rs holds a compile_fail test (a reader of a renamed summary
# field must not compile).
cargo test --doc -p redwhisk 2>&1 | tee -a "$log"
doc_status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then status=$doc_status; fi
set -e
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\nall tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
