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
# (the OpenWhisk tests deploy these zipped).
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --quiet --profile dist -p redwhisk-actions --target x86_64-unknown-linux-gnu
./target/debug/redwhisk image build-local
cargo test --workspace --no-fail-fast 2>&1 | tee /tmp/redwhisk-test.log
