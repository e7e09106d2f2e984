#!/usr/bin/env bash
# `udp bench` as the client against the C reference server (c-batch), beside the C load generator at its
# best setting (`load -m flood -w 64 -g`, GSO sends), alternated in each round: server pinned to CPU 0, the
# client to CPU 1, 127.0.0.1 only. Prints medians and udp bench's ratios to the C client.
#
# usage: Scripts/bench-client.sh [-r ROUNDS] [-d SECONDS] [-s SIZE] [-w WINDOW]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=5 SECS=3 SIZE=64 WINDOW=64
while getopts "r:d:s:w:" o; do
    case $o in r) ROUNDS=$OPTARG ;; d) SECS=$OPTARG ;; s) SIZE=$OPTARG ;; w) WINDOW=$OPTARG ;; *) exit 2 ;; esac
done
BENCH=../shared/bench
BIN=${BENCH_BIN:-$BENCH/c}
[[ -x $BIN/load ]] || BIN=${XDG_CACHE_HOME:-$HOME/.cache}/udp-bench
[[ -x $BIN/load && -x $BIN/echo ]] || "$BENCH/build.sh" -C >&2
UDP=$PWD/.build/release/udp
[[ -x $UDP ]] || swift build -c release --product udp >&2

RAW=$(mktemp)
SPID=""
cleanup() { [[ -n $SPID ]] && kill "$SPID" 2>/dev/null; rm -f "$RAW"; }
trap cleanup EXIT
json() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" <<<"$2"; }
field() { sed -n "s/.* $1=\([^ %]*\).*/\1/p" <<<" $2"; }

echo "## udp bench vs load -m flood -g against c-batch: size=$SIZE window=$WINDOW secs=$SECS rounds=$ROUNDS"
for r in $(seq 1 "$ROUNDS"); do
    port=$((20000 + RANDOM % 9000))
    taskset -c 0 "$BIN/echo" -m batch -p "$port" >/dev/null 2>&1 &
    SPID=$!
    taskset -c 1 "$BIN/load" -m probe -p "$port" -s "$SIZE" -d 10 >/dev/null
    c=$(taskset -c 1 "$BIN/load" -m flood -p "$port" -s "$SIZE" -w "$WINDOW" -d "$SECS" -g)
    printf 'load-g\t%s\t%s\t%s\n' "$(field pps "$c")" "$(field p50_us "$c")" "$(field p99_us "$c")" >>"$RAW"
    u=$(taskset -c 1 "$UDP" bench "127.0.0.1:$port" --size "$SIZE" --window "$WINDOW" --duration "$SECS" --json | tail -1)
    printf 'udp-bench\t%s\t%s\t%s\n' "$(json pps "$u")" "$(json p50_us "$u")" "$(json p99_us "$u")" >>"$RAW"
    echo "round $r: load -g $(field pps "$c") pps; udp bench $(json pps "$u") pps" >&2
    kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=""
done
python3 - "$RAW" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    name, *vals = line.split()
    rows.setdefault(name, []).append([float(v) for v in vals])
med = {n: [statistics.median(c) for c in zip(*v)] for n, v in rows.items()}
print(f"{'client':<10} {'pps':>9} {'p50_us':>8} {'p99_us':>8} {'pps ratio':>10} {'p50 ratio':>10} {'p99 ratio':>10}")
ref = med['load-g']
for n in ('load-g', 'udp-bench'):
    m = med[n]
    print(f"{n:<10} {m[0]:>9.0f} {m[1]:>8.1f} {m[2]:>8.1f} {m[0]/ref[0]:>10.3f} {m[1]/ref[1]:>10.3f} {m[2]/ref[2]:>10.3f}")
PY
