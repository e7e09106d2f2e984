#!/usr/bin/env bash
# Measures how servers behave when idle and how fast they stop: every mode of `udp echo`, `udp listen` and
# `udp relay` answers (or reads) one datagram, idles SECONDS (10 by default), then gets SIGTERM (listen:
# SIGINT). Prints per mode: threads, voluntary context switches of all threads while idle, and the
# milliseconds from the signal to the exit. Loopback only; every process is started and stopped by PID.
#
# usage: Scripts/idle.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${1:-10}
UDP=$PWD/.build/release/udp
swift build -c release --product udp --traits Sealing >&2
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT
"$UDP" keygen --output "$TMP/key" 2>/dev/null

switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s }'; }

# start NAME ARGS...: runs `udp ARGS` with its output in $TMP/NAME.*, waits for `listening on`, prints the port.
start() {
    local name=$1
    shift
    "$UDP" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PIDS+=($!)
    echo $! >"$TMP/$name.pid"
    for _ in $(seq 200); do grep -q 'listening on udp/' "$TMP/$name.out" 2>/dev/null && break; sleep 0.05; done
    sed -n 's|^listening on udp/||p' "$TMP/$name.out"
}

echo_port=$(start target echo --host 127.0.0.1 --port 0)
declare -A PORT SEND
MODES=(echo verbose framed workers2 nogro sealed listen relay)
PORT[echo]=$(start echo echo --host 127.0.0.1 --port 0)
PORT[verbose]=$(start verbose echo --host 127.0.0.1 --port 0 --verbose)
PORT[framed]=$(start framed echo --host 127.0.0.1 --port 0 --framed); SEND[framed]=--framed
PORT[workers2]=$(start workers2 echo --host 127.0.0.1 --port 0 --workers 2)
PORT[nogro]=$(start nogro echo --host 127.0.0.1 --port 0 --no-gro)
PORT[sealed]=$(start sealed echo --host 127.0.0.1 --port 0 --key-file "$TMP/key"); SEND[sealed]="--key-file $TMP/key"
PORT[listen]=$(start listen listen --host 127.0.0.1 --port 0); SEND[listen]=--no-reply
PORT[relay]=$(start relay relay --listen 127.0.0.1:0 --to 127.0.0.1:"$echo_port")
for mode in "${MODES[@]}"; do
    # shellcheck disable=SC2086
    "$UDP" send ${SEND[$mode]:-} --timeout 5 127.0.0.1:"${PORT[$mode]}" hello >/dev/null
done
sleep 0.5  # let the replies' wake-ups pass before the window opens
declare -A BEFORE
for mode in "${MODES[@]}"; do BEFORE[$mode]=$(switches "$(cat "$TMP/$mode.pid")"); done
sleep "$IDLE"  # the idle window being measured
printf '%-9s %7s %22s %8s\n' mode threads "switches in ${IDLE}s" "exit_ms"
for mode in "${MODES[@]}"; do
    pid=$(cat "$TMP/$mode.pid")
    threads=$(ls /proc/"$pid"/task | wc -l)
    idle=$(($(switches "$pid") - BEFORE[$mode]))
    signal=TERM
    [[ $mode == listen ]] && signal=INT
    start_ns=$(date +%s%N)
    kill -"$signal" "$pid"
    wait "$pid" 2>/dev/null || true
    printf '%-9s %7d %22d %8.1f\n' "$mode" "$threads" "$idle" "$((($(date +%s%N) - start_ns) / 1000))e-3"
done
