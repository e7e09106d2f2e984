#!/usr/bin/env bash
# A `udp relay` with no faults, listening on 127.0.0.1:PORT, in front of a c-batch echo pinned to CPU 1: the
# "server" that Scripts/bench.sh's relay section hands to compare.sh, which pins this script (and so the
# relay) to CPU 0 and stops it by its PID. The echo is stopped with it.
#
# usage: Scripts/relay-bench-server.sh PORT
set -euo pipefail
PORT=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_BIN:-$ROOT/../shared/bench/c}
[[ -x $BIN/echo ]] || BIN=${XDG_CACHE_HOME:-$HOME/.cache}/udp-bench
LOG=$(mktemp)
taskset -c 1 "$BIN/echo" -m batch -p 0 >"$LOG" 2>&1 &
ECHO=$!
RELAY=
trap 'kill $ECHO $RELAY 2>/dev/null; wait 2>/dev/null; rm -f "$LOG"' EXIT
trap 'exit 0' TERM INT
for _ in $(seq 100); do grep -q 'listening on udp/' "$LOG" && break; sleep 0.05; done
ECHO_PORT=$(sed -n 's|.*listening on udp/\([0-9]*\).*|\1|p' "$LOG")
[[ -n $ECHO_PORT ]] || { echo "the c-batch echo did not start" >&2; exit 1; }
"$ROOT/.build/release/udp" relay --listen "127.0.0.1:$PORT" --to "127.0.0.1:$ECHO_PORT" &
RELAY=$!
wait $RELAY
