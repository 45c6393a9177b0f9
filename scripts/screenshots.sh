#!/usr/bin/env bash
# Screenshots of the console made from the real program: idle, help, during a run (with the
# process pane), after it, the workload editor,
# the gateway pane, case study 2's matrix (Share view), a sweep (Sweep view), the Results view
# and a failover's report opened from it (the one in tests/fixtures/reports, which the real
# `redwhisk failover` wrote).
#
# The binary runs in a private tmux server; each screen is captured with its colours
# (`tmux capture-pane -e`) and rendered to PNG by scripts/ansi2png.py (ImageMagick + DejaVu
# Sans Mono). Needs: tmux, python3, ImageMagick's `convert`, fonts-dejavu-core, and for the
# run a working engine (redis-server for the process backend).
#   apt-get install -y tmux imagemagick fonts-dejavu-core
#
# usage: scripts/screenshots.sh [--idle-only]     (OUT=dir COLS=n ROWS=n BIN=path to override)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-screenshots}
COLS=${COLS:-120}
ROWS=${ROWS:-40}
N=${N:-60}
IDLE_ONLY=0
[[ "${1:-}" == "--idle-only" ]] && IDLE_ONLY=1

for tool in tmux python3 convert; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; install with: apt-get install -y tmux python3 imagemagick fonts-dejavu-core" >&2
    exit 1
  }
done
convert -list font | grep -q 'DejaVu-Sans-Mono' || {
  echo "error: ImageMagick cannot see DejaVu Sans Mono; apt-get install -y fonts-dejavu-core" >&2
  exit 1
}

if [[ -z "${BIN:-}" ]]; then
  cargo build --quiet --bin redwhisk
  BIN=$PWD/target/debug/redwhisk
fi

WORK=$(mktemp -d)
SOCK="rw-shots-$$"
cleanup() {
  tmux -L "$SOCK" kill-server 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/config/profiles" "$OUT"
cat >"$WORK/config/profiles/demo.toml" <<TOML
description = "screenshots: the paper's 1000 records, $N invocations"
[redis]
backend = "process"
bind = "127.0.0.1"
port = 0
persistence = "rdb"
[platform]
kind = "local"
[workload]
invocations = $N
records = 1000
TOML

mkdir -p "$WORK/results"
cp -r tests/fixtures/reports/20261207T192038Z-fo-failover "$WORK/results/"

tmux -L "$SOCK" new-session -d -s shots -x "$COLS" -y "$ROWS" -c "$WORK" \
  -e "REDWHISK_CONFIG_DIR=$WORK/config" -e "REDWHISK_DATA_DIR=$WORK/data" \
  "'$BIN' console --profile demo --results '$WORK/results'; sleep 600"

screen() { tmux -L "$SOCK" capture-pane -p -t shots; }

# wait_for SECONDS EXTENDED-REGEX WHAT
wait_for() {
  local deadline=$((SECONDS + $1))
  until screen | grep -Eq -- "$2"; do
    if screen | grep -q 'run failed'; then
      echo "error: the run failed; the screen was:" >&2
      screen >&2
      exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "error: gave up waiting for $3; the screen was:" >&2
      screen >&2
      exit 1
    fi
    sleep 0.2
  done
}

shot() {
  tmux -L "$SOCK" capture-pane -e -p -t shots >"$WORK/$1.ansi"
  python3 scripts/ansi2png.py "$WORK/$1.ansi" "$OUT/console-$1.png" "$COLS" "$ROWS"
  echo "wrote $OUT/console-$1.png"
}

wait_for 30 'no run yet' "the console to open"
shot idle
tmux -L "$SOCK" send-keys -t shots '?'
wait_for 10 'Help · \?' "the help overlay"
shot help
tmux -L "$SOCK" send-keys -t shots Escape
sleep 0.3
((IDLE_ONLY)) && exit 0

tmux -L "$SOCK" send-keys -t shots r
# A third of the way in: the sparklines and the table have something to show.
# (The gauge label sits on the bar, so it is fenced by non-digits rather than spaces.)
# Any count from a third to a half: on a loaded machine a narrower window can pass unseen.
wait_for 300 "[^0-9]($(seq -s'|' $((N / 3)) $((N / 2))))/$N[^0-9]" "the run to get going"
shot running
wait_for 600 "[^0-9]$N/$N[^0-9]" "the run to finish"
wait_for 60 'phase +done' "the run to be done"
shot finished

# The workload editor (E): the next runs' invocations doubled and persistence AOF, not yet
# applied.
tmux -L "$SOCK" send-keys -t shots E
wait_for 10 'Workload of `demo`' "the workload editor"
tmux -L "$SOCK" send-keys -t shots Right
wait_for 10 'file: '"$N" "the edited value"
tmux -L "$SOCK" send-keys -t shots Down Down Down Down Right
wait_for 10 'file: rdb' "the edited persistence"
shot editor
tmux -L "$SOCK" send-keys -t shots Escape
sleep 0.3

# The scale-to-zero gateway for the profile (g): asleep until a client connects.
tmux -L "$SOCK" send-keys -t shots g
wait_for 30 'Gateway · demo' "the gateway pane"
wait_for 10 'asleep' "the gateway to listen"
shot gateway
tmux -L "$SOCK" send-keys -t shots g
wait_for 30 'gateway for `demo` stopped' "the gateway to stop"

# Case study 2 from the console (s): the matrix fills in the Share view.
tmux -L "$SOCK" send-keys -t shots s
wait_for 600 'aof-always +× +crash.*as expected|aof-always.*crash.*✓' "the share matrix to finish"
sleep 0.5
shot share

# A sweep from the console (w): each step a run, a row per step in the Sweep view.
tmux -L "$SOCK" send-keys -t shots w
wait_for 900 'Sweep · demo · 6/6 steps' "the sweep to finish"
wait_for 60 'sweep finished' "the sweep's last line"
sleep 0.5
shot sweep

# The Results view (v from Sweep): the runs, the share experiment, newest first.
tmux -L "$SOCK" send-keys -t shots v
wait_for 30 'share' "the results listing"
sleep 0.5
shot results

# A failover's report (Enter on its row, picked with the filter).
tmux -L "$SOCK" send-keys -t shots / failover Enter
wait_for 10 'filter: failover' "the filter"
tmux -L "$SOCK" send-keys -t shots Enter
wait_for 10 'failover on `fo`' "the failover's report"
sleep 0.3
shot report
tmux -L "$SOCK" send-keys -t shots Escape
tmux -L "$SOCK" send-keys -t shots q
