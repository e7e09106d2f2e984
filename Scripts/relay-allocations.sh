#!/usr/bin/env bash
# Counts the relay's mallocs for N round trips and for 5×N, through an LD_PRELOAD counter: equal totals mean
# nothing is allocated per datagram. Without faults, then with delay, jitter and reordering (the timer path).
# Loopback only; every process is started and stopped by PID.
#
# usage: Scripts/relay-allocations.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
UDP=$PWD/.build/release/udp
swift build -c release --product udp >&2
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT
cat >"$TMP/count.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
static atomic_long count;
static void *(*real_malloc)(size_t);
void *malloc(size_t n) {
    if (!real_malloc) real_malloc = dlsym(RTLD_NEXT, "malloc");
    atomic_fetch_add(&count, 1);
    return real_malloc(n);
}
__attribute__((destructor)) static void report(void) {
    char line[64];
    int length = snprintf(line, sizeof line, "mallocs: %ld\n", atomic_load(&count));
    (void)!write(2, line, length);
}
C
cc -O2 -shared -fPIC -o "$TMP/count.so" "$TMP/count.c" -ldl

# port_of FILE: waits for `listening on udp/PORT` in FILE and prints PORT.
port_of() {
    for _ in $(seq 200); do grep -q 'listening on udp/' "$1" 2>/dev/null && break; sleep 0.05; done
    sed -n 's|^listening on udp/||p' "$1"
}

"$UDP" echo --host 127.0.0.1 --port 0 >"$TMP/echo.out" &
PIDS+=($!)
echo_port=$(port_of "$TMP/echo.out")
for faults in "" "--delay 0.2 --jitter 0.1 --reorder 0.05"; do
    for count in "$N" "$((N * 5))"; do
        # shellcheck disable=SC2086
        LD_PRELOAD=$TMP/count.so "$UDP" relay --listen 127.0.0.1:0 --to 127.0.0.1:"$echo_port" $faults \
            >"$TMP/relay.out" 2>"$TMP/relay.err" &
        relay=$!
        PIDS+=($relay)
        python3 - "$(port_of "$TMP/relay.out")" "$count" <<'PY'
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(2)
for _ in range(count):
    client.sendto(b"x" * 64, ("127.0.0.1", port))
    client.recvfrom(100)
PY
        kill -INT "$relay"
        wait "$relay" || true
        echo "relay ${faults:-without faults}, $count round trips: $(grep mallocs "$TMP/relay.err")"
    done
done
