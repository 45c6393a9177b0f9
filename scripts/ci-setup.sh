#!/usr/bin/env bash
# Prepare a fresh Debian machine for redwhisk's tests. Run as root; safe to run again.
#
# - installs docker.io, redis-server and redis-tools when missing (and tmux, which the
#   console's tmux-driven tests use, and openssl, which the rediss:// test makes certificates with);
# - starts dockerd in the background (no bridge, no iptables: containers use host
#   networking on loopback) when it is not answering, and waits for it;
# - stops a system redis-server on 6379 if the package started one. Nothing in the tests
#   uses 6379 (they pick free ports), so it would not conflict; it is stopped only so the
#   machine runs nothing it does not need. Set KEEP_SYSTEM_REDIS=1 to leave it running
#   (e.g. for profiles/external.toml, which points at 127.0.0.1:6379).
#
# Afterwards: `cargo run -- image build-local` (the tests also build it when missing) and
# `cargo test`.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-setup: run as root (it installs packages and starts dockerd)" >&2
  exit 1
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "ci-setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "ci-setup: docker.io, redis-server, redis-tools, tmux and openssl already installed"
fi

if [ "${KEEP_SYSTEM_REDIS:-0}" != "1" ]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    systemctl stop redis-server
    systemctl disable --quiet redis-server || true
    echo "ci-setup: stopped the system redis-server service (KEEP_SYSTEM_REDIS=1 keeps it)"
  elif [ -s /run/redis/redis-server.pid ] && kill -0 "$(cat /run/redis/redis-server.pid)" 2>/dev/null; then
    kill "$(cat /run/redis/redis-server.pid)"
    echo "ci-setup: stopped the system redis-server (pid file /run/redis/redis-server.pid)"
  fi
fi

if docker info >/dev/null 2>&1; then
  echo "ci-setup: dockerd already answers"
else
  echo "ci-setup: starting dockerd --bridge=none --iptables=false (log: /var/log/redwhisk-dockerd.log)"
  setsid nohup dockerd --bridge=none --iptables=false \
    >/var/log/redwhisk-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      break
    fi
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "ci-setup: dockerd did not come up within 60 s; last log lines:" >&2
    tail -n 20 /var/log/redwhisk-dockerd.log >&2 || true
    exit 1
  fi
  echo "ci-setup: dockerd is up"
fi

echo "ci-setup: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), docker API $(docker version --format '{{.Server.APIVersion}}')"
