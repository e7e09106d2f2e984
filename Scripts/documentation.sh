#!/usr/bin/env bash
# Scripts/documentation.sh [TARGET...]: builds and checks the libraries' documentation the way CI does.
#
# For each library (all of them when no TARGET is named):
#   1. `swift package --traits Sealing generate-documentation --target TARGET --warnings-as-errors` runs clean: no
#      broken link, no undocumented parameter, no article or tutorial that fails to parse. Each target's time is
#      printed. With the package trait Sealing, so that the engines' sealed API (UDPTools) is documented too: after
#      a build without it, the first target rebuilds the package's modules.
#   2. Every public symbol declared in Sources/TARGET has a doc comment: Scripts/undocumented-symbols.py reads the
#      symbol graphs that the documentation build just extracted.
# The archives land in .build/plugins/Swift-DocC/outputs/TARGET.doccarchive. To read one in a browser:
#   swift package --disable-sandbox preview-documentation --target UDP
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(UDP UDPPatterns UDPAsync UDPSeal UDPDNS UDPNTP UDPDiscovery UDPTools)
fi

log=$(mktemp)
stamp=$(mktemp)
trap 'rm -f "$log" "$stamp"' EXIT
# The plugin extracts each target's symbol graphs under extracted-symbols/PACKAGE/TARGET beside the build folder.
symbols="$(dirname "$(swift build --show-bin-path)")/extracted-symbols"
missing=0
for target in "${targets[@]}"; do
    start=$(date +%s.%N)
    touch "$stamp"
    if ! swift package --traits Sealing generate-documentation --target "$target" --warnings-as-errors >"$log" 2>&1; then
        cat "$log" >&2
        echo "documentation of $target: failed" >&2
        exit 1
    fi
    awk -v target="$target" -v start="$start" -v end="$(date +%s.%N)" \
        'BEGIN { printf "documentation of %s: %.1f s\n", target, end - start }'
    # Those of this run only: another clone's build folder, or an older run, may have left graphs too.
    graph=$(find "$symbols" -mindepth 3 -maxdepth 3 -name "$target.symbols.json" -newer "$stamp" | head -n 1)
    if [ -z "$graph" ]; then
        echo "documentation of $target: no symbol graphs under $symbols" >&2
        exit 1
    fi
    Scripts/undocumented-symbols.py "$(dirname "$graph")" "$target" || missing=1
done
exit $missing
