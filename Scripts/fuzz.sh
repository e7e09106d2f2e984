#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (with -sanitize=fuzzer,address) and runs each for a bounded time,
# printing executions and whether anything crashed. Exits non-zero on a crash; the crashing input is left in
# the working folder as crash-*.
#
# usage: Scripts/fuzz.sh [SECONDS_PER_TARGET]        (default 30)
#        Scripts/fuzz.sh --build-only                 builds them and runs nothing (CI does, so they cannot rot)
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
SECONDS_EACH=${1:-30}
# Only these flags build the targets: each exports its own <Target>_main, which a plain build also generates
# (-parse-as-library stops that), and calls libFuzzer's LLVMFuzzerRunDriver (-sanitize=fuzzer links it).
swift build -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
if [[ $SECONDS_EACH == --build-only ]]; then
    exit 0
fi
status=0
for target in $(sed -n 's/.*name: "\(Fuzz[A-Za-z]*\)".*/\1/p' Package.swift | grep -v -x -e FuzzDriver -e FuzzMachine); do
    corpus=$(mktemp -d)
    # Seeds, where a target has them (Fuzz/Corpus/TARGET): a reply with every record type the DNS codec decodes
    # starts the run where blind mutation would take minutes to get (an SOA, an MX).
    if [[ -d Corpus/$target ]]; then cp Corpus/"$target"/* "$corpus"/; fi
    log=$(mktemp)
    if ".build/debug/$target" "$corpus" -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1; then
        result="0 crashes"
    else
        result="CRASHED (see $log)"
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "$target: ${runs:-?} executions in ${SECONDS_EACH} s, $result"
    rm -rf "$corpus"
done
exit $status
