#!/usr/bin/env bash
# Scripts/documentation.sh [TARGET...]: builds and checks the libraries' documentation the way CI does.
#
# For each library (all of them when no TARGET is named):
#   1. every public symbol declared in Sources/TARGET has a doc comment (Scripts/undocumented-symbols.py, on the
#      symbol graphs of `swift package dump-symbol-graph`);
#   2. `swift package generate-documentation --target TARGET --warnings-as-errors` runs clean: no broken link, no
#      undocumented parameter, no article that fails to parse. Each target's time is printed.
# The archives land in .build/plugins/Swift-DocC/outputs/TARGET.doccarchive. To read one in a browser:
#   swift package --disable-sandbox preview-documentation --target UDP
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(UDP UDPPatterns UDPAsync UDPSeal UDPDNS UDPNTP UDPDiscovery UDPTools)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift package dump-symbol-graph --skip-synthesized-members >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
graphs="$(dirname "$(swift build --show-bin-path)")/symbolgraph"
Scripts/undocumented-symbols.py "$graphs" "${targets[@]}"

for target in "${targets[@]}"; do
    start=$(date +%s.%N)
    if ! swift package generate-documentation --target "$target" --warnings-as-errors >"$log" 2>&1; then
        cat "$log" >&2
        echo "documentation of $target: failed" >&2
        exit 1
    fi
    awk -v target="$target" -v start="$start" -v end="$(date +%s.%N)" \
        'BEGIN { printf "documentation of %s: %.1f s\n", target, end - start }'
done
