#!/usr/bin/env bash
# Soak test: floods `udp echo` through `udp relay` (10% loss, duplication and reordering each way) with
# datagrams of random sizes, sealed and plain (garbage to the sealed server), from several clients, for
# SECONDS; then checks that nothing crashed, that the server's resident memory stayed bounded, and that its
# counters add up: received = replied + failed + rate-limited + amplification-limited + rejected.
# 127.0.0.1 only; every loop stops by itself.
#
# usage: Scripts/soak.sh [SECONDS]        (default 60; not part of the default test run)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
UDP=$PWD/.build/release/udp
swift build -c release --product udp --traits Sealing >&2
WORK=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
# Waits up to 10 s for a server's `listening on` line; a server that died instead ends the soak with its error.
await_line() {
    for _ in $(seq 100); do [[ -s $1 ]] && return 0; kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
    echo "soak: the server did not start: $(cat "$3")" >&2
    exit 1
}

"$UDP" keygen --output "$WORK/key" 2>/dev/null
"$UDP" echo --host 127.0.0.1 --port 0 --key-file "$WORK/key" --rate-limit 20000 --stats \
    >"$WORK/echo.out" 2>"$WORK/echo.err" &
ECHO=$!; PIDS+=("$ECHO")
await_line "$WORK/echo.out" "$ECHO" "$WORK/echo.err"
EPORT=$(cut -d/ -f2 "$WORK/echo.out" | head -1)
"$UDP" relay --listen 127.0.0.1:0 --to "127.0.0.1:$EPORT" --loss 10% --duplicate 10% --reorder 10% --seed 1 \
    >"$WORK/relay.out" 2>"$WORK/relay.err" &
RELAY=$!; PIDS+=("$RELAY")
await_line "$WORK/relay.out" "$RELAY" "$WORK/relay.err"
RPORT=$(cut -d/ -f2 "$WORK/relay.out" | head -1)
echo "echo pid $ECHO on $EPORT, relay pid $RELAY on $RPORT, $SECS s" >&2

# Garbage and random sizes from Python (plain datagrams: the sealed server must reject every one).
python3 - "$RPORT" "$SECS" >"$WORK/garbage.out" <<'PY' &
import os, random, socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
end, sent = time.monotonic() + secs, 0
while time.monotonic() < end:
    for s in socks:
        s.sendto(os.urandom(random.choice([0, 1, 17, 100, 1200, 9000, 65000])), ('127.0.0.1', port))
        sent += 1
    time.sleep(0.0005)
print(sent)
PY
PIDS+=($!)
# Sealed traffic that should be answered: a loop of udp send, each run a new sender (so the server keeps
# many replay windows), with retries through the relay's faults.
( end=$((SECONDS + SECS)); while ((SECONDS < end)); do
    "$UDP" send "127.0.0.1:$RPORT" "$(head -c $((RANDOM % 1000 + 1)) /dev/zero | tr '\0' x)" --key-file "$WORK/key" \
        --timeout 0.2 --retries 2 >/dev/null 2>&1 || true
  done ) &
PIDS+=($!)

max_rss=0
for ((i = 0; i < SECS; i++)); do
    sleep 1
    kill -0 "$ECHO" 2>/dev/null || { echo "FAIL: udp echo died" >&2; exit 1; }
    kill -0 "$RELAY" 2>/dev/null || { echo "FAIL: udp relay died" >&2; exit 1; }
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$ECHO/status")
    ((rss > max_rss)) && max_rss=$rss
done
wait "${PIDS[2]}" "${PIDS[3]}" 2>/dev/null || true
sleep 1
kill -INT "$ECHO" "$RELAY"; wait "$ECHO" "$RELAY" 2>/dev/null || true
last=$(tail -1 "$WORK/echo.err")
echo "server: $last" >&2
echo "relay: $(grep -E 'client->server|server->client' "$WORK/relay.err" | tail -2 | tr '\n' ' ')" >&2
python3 - "$last" "$max_rss" <<'PY'
import re, sys
line, rss = sys.argv[1], int(sys.argv[2])
n = {name: int(value) for name, value in (item.rsplit(' ', 1) for item in line.split(', '))}
received = n.get('received', 0)
accounted = sum(n.get(k, 0) for k in ('replied', 'failed', 'rate-limited', 'amplification-limited', 'rejected by authentication'))
print(f"received {received}, accounted {accounted}, peak RSS {rss} kB")
ok = received > 0 and received == accounted and rss < 200_000
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
