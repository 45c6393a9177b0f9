#!/usr/bin/env bash
# The main job on the embedded default: case study 1 (100 invocations × 1000 SET/GET/DEL)
# against a redis-server child process and the embedded local platform. No Docker, no OpenWhisk.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server (Debian package)…" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
exec cargo run --release --quiet -- run "$@"
