#!/usr/bin/env bash
# Prepare a fresh Debian machine for redwhisk's tests. Run as root; safe to run again.
#
# - installs docker.io, redis-server and redis-tools when missing (and tmux, which the
#   console's tmux-driven tests use, openssl, which the rediss:// test makes certificates with,
#   and haproxy, the baseline of `redwhisk bench gateway`);
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
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "ci-setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "ci-setup: docker.io, redis-server, redis-tools, tmux, openssl and haproxy already installed"
fi

# S3-compatible servers for the snapshot tests (nobody here wrote them): moto's server from
# PyPI and s3rver from npm; awscli (PyPI) is the baseline of `redwhisk bench snapshots`.
# Each is installed only when missing, so a second run is fast.
s3_missing=()
command -v moto_server >/dev/null 2>&1 || s3_missing+=("moto[server]")
command -v aws >/dev/null 2>&1 || s3_missing+=(awscli)
if [ "${#s3_missing[@]}" -gt 0 ]; then
  if ! command -v pip3 >/dev/null 2>&1 && ! command -v pip >/dev/null 2>&1; then
    echo "ci-setup: installing python3-pip and python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends python3-pip python3-venv
  fi
  PIP=$(command -v pip3 || command -v pip)
  echo "ci-setup: installing ${s3_missing[*]} (pip)"
  # Debian's system Python refuses global installs without this flag (PEP 668).
  "$PIP" install -q "${s3_missing[@]}" 2>/dev/null \
    || "$PIP" install -q --break-system-packages "${s3_missing[@]}"
else
  echo "ci-setup: moto_server and aws already installed"
fi
if ! command -v s3rver >/dev/null 2>&1; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "ci-setup: installing nodejs and npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends nodejs npm
  fi
  echo "ci-setup: installing s3rver (npm)"
  npm install -g --silent s3rver
else
  echo "ci-setup: s3rver already installed"
fi
for bin in moto_server s3rver aws; do
  command -v "$bin" >/dev/null 2>&1 || { echo "ci-setup: $bin is still missing after the install" >&2; exit 1; }
done

# The AWS Lambda Runtime Interface Emulator for the local Lambda (platform kind "lambda",
# emulator = "local"): a static Go binary that AWS ships inside the aws-sam-cli wheel on PyPI
# (samcli/local/rapid/aws-lambda-rie-x86_64). Only the wheel is downloaded (no dependencies, no
# install); the binary is copied to /usr/local/bin/aws-lambda-rie. Only when missing.
if ! command -v aws-lambda-rie >/dev/null 2>&1; then
  rie_apt=()
  command -v unzip >/dev/null 2>&1 || rie_apt+=(unzip)
  command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1 || rie_apt+=(python3-pip)
  if [ "${#rie_apt[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${rie_apt[@]}"
  fi
  PIP=$(command -v pip3 || command -v pip)
  rie_tmp=$(mktemp -d)
  echo "ci-setup: fetching aws-lambda-rie from the aws-sam-cli wheel (pip download --no-deps)"
  "$PIP" download -q --no-deps --only-binary=:all: -d "$rie_tmp" aws-sam-cli
  unzip -q -o "$rie_tmp"/aws_sam_cli-*.whl 'samcli/local/rapid/aws-lambda-rie-x86_64' -d "$rie_tmp"
  install -m 0755 "$rie_tmp/samcli/local/rapid/aws-lambda-rie-x86_64" /usr/local/bin/aws-lambda-rie
  rm -rf "$rie_tmp"
else
  echo "ci-setup: aws-lambda-rie already installed"
fi

# The Node.js runtime of the local Lambda (runtime = "nodejs20.x"): the aws-lambda-ric npm
# package, 3.x (its 4.x line wants Node.js 22), the Runtime Interface Client of AWS's own
# Node.js images. Its install builds a native addon (and the curl it links) with cmake and the
# autotools, so those are installed first. Only when missing.
if ! [ -f "$(npm root -g 2>/dev/null)/aws-lambda-ric/bin/index.mjs" ]; then
  ric_apt=()
  for tool in cmake autoconf automake libtoolize g++ make python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      case "$tool" in
        libtoolize) ric_apt+=(libtool) ;;
        python3) ric_apt+=(python3) ;;
        *) ric_apt+=("$tool") ;;
      esac
    fi
  done
  if [ "${#ric_apt[@]}" -gt 0 ]; then
    echo "ci-setup: installing ${ric_apt[*]} (to build aws-lambda-ric's addon)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${ric_apt[@]}"
  fi
  echo "ci-setup: installing aws-lambda-ric@3 (npm, builds a native addon; a few minutes)"
  npm install -g --silent aws-lambda-ric@3.2.1
else
  echo "ci-setup: aws-lambda-ric already installed"
fi

# The package starts a system haproxy with its default configuration where an init system runs;
# the bench starts its own with its own configuration, so the service is not needed.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet haproxy 2>/dev/null; then
  systemctl stop haproxy
  systemctl disable --quiet haproxy || true
  echo "ci-setup: stopped the system haproxy service (the bench runs its own)"
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
