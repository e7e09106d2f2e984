#!/usr/bin/env bash
# udp ping's kernel round trips (the kernel's send stamp to its receive stamp) against its user-space ones, on
# loopback: 2,000 probes 2 ms apart, first idle, then beside a 6-second `udp bench` flood against a second echo
# server. Each ping prints both figures in its --json line; this prints the keys that matter. Loopback only,
# bounded in count and time; the servers it starts are stopped by PID.
#
# usage: Scripts/ping-timestamps.sh   (after `swift build -c release --product udp`)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-.build/release/udp}
$B echo --host 127.0.0.1 --port 0 > /tmp/pb-echo1.out 2>&1 & e1=$!
$B echo --host 127.0.0.1 --port 0 > /tmp/pb-echo2.out 2>&1 & e2=$!
trap 'kill $e1 $e2 2>/dev/null || true' EXIT
sleep 0.5
p1=$(sed -n 's/listening on udp\///p' /tmp/pb-echo1.out); p2=$(sed -n 's/listening on udp\///p' /tmp/pb-echo2.out)
pick() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().splitlines()[-1]); print(' '.join(f'{k}={d[k]}' for k in ['timestamps','received','min_us','p50_us','p99_us','max_us','user_min_us','user_p50_us','user_p99_us','user_max_us','clock_steps']))"; }
echo "idle:  $($B ping 127.0.0.1:$p1 -c 2000 -i 0.002 --json | pick)"
$B bench 127.0.0.1:$p2 --duration 6 > /tmp/pb-bench.out 2>&1 & b=$!
sleep 0.5
echo "flood: $($B ping 127.0.0.1:$p1 -c 2000 -i 0.002 --json | pick)"
wait $b
tail -3 /tmp/pb-bench.out
