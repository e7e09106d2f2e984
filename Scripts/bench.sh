#!/usr/bin/env bash
# Reproduces the tables of BENCHMARKS.md: `udp echo` against the C and SwiftNIO reference servers with
# ../shared/bench/compare.sh (servers alternated in each run, server pinned to CPU 0, load to CPU 1), and
# `udp bench` against the C load generator. Run it on a quiet machine: a build beside it moves ratios by a
# third. Quote ratios from one run only.
#
# usage: Scripts/bench.sh [-r ROUNDS] [SECTION ...]
#   64-byte sections:   trains trains256 single nogro pingpong client async relay
#   1200-byte sections: large large256 largesingle largenogro largepingpong largeclient
#   wildcard binds:     wildcard wildcardsingle largewildcard (udp echo on 0.0.0.0 and :: against a
#                       specific-address bind: packet info on, each reply sent from the address asked)
# With no SECTION, all of them, in that order.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=5
while getopts "r:" o; do case $o in r) ROUNDS=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
if (($#)); then
    SECTIONS=("$@")
else
    SECTIONS=(trains trains256 single nogro pingpong client async relay large large256 largesingle largenogro largepingpong
        largeclient wildcard wildcardsingle largewildcard)
fi
BENCH=../shared/bench
UDP=$PWD/.build/release/udp

swift build -c release --product udp >&2
swift build -c release --product example-async-echo >&2
[[ -x $BENCH/c/nio-build/release/nio-echo || -x ${BENCH_BIN:-$HOME/.cache/udp-bench}/nio-build/release/nio-echo ]] ||
    "$BENCH/build.sh" >&2

echo "# $(date -u +%F) $(nproc) cpus, $(uname -sr), $(swift --version 2>/dev/null | head -1)"
run() { echo; echo "## $1"; echo "\$ compare.sh ${*:2}"; "$BENCH/compare.sh" -r "$ROUNDS" "${@:2}" 2>/dev/null; }
udp_echo="udp=$UDP echo --host 127.0.0.1 --port {port}"
udp_nogro="udp-nogro=$UDP echo --host 127.0.0.1 --port {port} --no-gro"
# The same server on a wildcard address (IPv4, and dual-stack IPv6 with the load's v4-mapped peers), and on a
# specific IPv6 socket address for the dual-stack one to be read against: 127.0.0.1, v4-mapped.
udp_any="udp-any=$UDP echo --host 0.0.0.0 --port {port}"
udp_any6="udp-any6=$UDP echo --host :: --port {port}"
udp_mapped="udp-mapped=$UDP echo --host ::ffff:127.0.0.1 --port {port}"
async_echo=$PWD/.build/release/example-async-echo
for section in "${SECTIONS[@]}"; do
    case $section in
    trains) run "GSO trains (compare.sh default), 64 B, window 64" c-gro c-batch nio-gro "$udp_echo" ;;
    trains256) run "GSO trains, 64 B, window 256" -w 256 c-gro c-batch nio-gro "$udp_echo" ;;
    single) run "single datagrams (-F ''), 64 B, window 64" -F '' c-batch c-simple nio-v64 "$udp_echo" "$udp_nogro" ;;
    nogro) run "udp echo --no-gro against trains, 64 B, window 64" c-batch c-gro "$udp_nogro" ;;
    pingpong) run "ping-pong, 64 B, 100000 round trips a round" -d 1 -n 100000 c-simple "$udp_echo" "$udp_nogro" ;;
    client) Scripts/bench-client.sh -r "$ROUNDS" ;;
    async)
        run "async echo (UDPAsync) against SwiftNIO, single datagrams" -F '' nio-v64 \
            "asyncecho=$async_echo --port {port}"
        run "async echo (UDPAsync) against SwiftNIO, trains" nio-gro "asyncecho=$async_echo --port {port} --gro"
        ;;
    relay)
        # The relay on CPU 0 forwards to a c-batch echo on CPU 1; each round trip is two receives and two
        # sends for the relay against one of each for the echo, so compare CPU per round trip (cpu_us).
        run "relay, no faults, single datagrams (-F ''), 64 B: udp relay on CPU 0 before a c-batch echo on CPU 1" \
            -F '' c-batch "relay=$PWD/Scripts/relay-bench-server.sh {port}"
        ;;
    large) run "GSO trains, 1200 B, window 64" -s 1200 c-gro c-batch nio-gro "$udp_echo" ;;
    large256) run "GSO trains, 1200 B, window 256" -s 1200 -w 256 c-gro c-batch nio-gro "$udp_echo" ;;
    largesingle) run "single datagrams (-F ''), 1200 B, window 64" -s 1200 -F '' c-batch c-simple nio-v64 \
        "$udp_echo" "$udp_nogro" ;;
    largenogro) run "udp echo --no-gro against trains, 1200 B, window 64" -s 1200 c-batch c-gro "$udp_nogro" ;;
    largepingpong) run "ping-pong, 1200 B, 100000 round trips a round" -s 1200 -d 1 -n 100000 c-simple \
        "$udp_echo" "$udp_nogro" ;;
    largeclient) Scripts/bench-client.sh -r "$ROUNDS" -s 1200 ;;
    wildcard) run "wildcard binds against 127.0.0.1, GSO trains, 64 B, window 64" "$udp_echo" "$udp_any" "$udp_mapped" \
        "$udp_any6" ;;
    wildcardsingle) run "wildcard binds against 127.0.0.1, single datagrams (-F ''), 64 B, window 64" -F '' \
        "$udp_echo" "$udp_any" "$udp_mapped" "$udp_any6" ;;
    largewildcard) run "wildcard binds against 127.0.0.1, GSO trains, 1200 B, window 64" -s 1200 "$udp_echo" \
        "$udp_any" "$udp_mapped" "$udp_any6" ;;
    *) echo "unknown section $section" >&2; exit 2 ;;
    esac
done
