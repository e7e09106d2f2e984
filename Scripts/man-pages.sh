#!/usr/bin/env bash
# Scripts/man-pages.sh [--check]: the man pages of `udp` (Documentation/man/udp.1, udp.echo.1, …), generated from
# the command definitions by swift-argument-parser's generate-manual plugin, one page per subcommand.
#
# The pages are checked in, so that Scripts/install.sh and a reader of the repository have them without running
# the plugin (whose default is a release build of every product: minutes on 2 cores). CI runs `--check` after its
# `swift build`: it regenerates them in debug, which reuses that build (11 s on 2026-12-04), and fails on any
# difference from the checked-in pages, so they cannot drift from `udp --help`. Without --check it rewrites
# them, dated today; commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

pages=Documentation/man
output=.build/plugins/GenerateManual/outputs/udp
check=false
case "${1:-}" in
--check) check=true ;;
"") ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 64
    ;;
esac

if $check; then
    # The pages' own date, so that only their content is compared.
    date=$(date -d "$(sed -n 's/^\.Dd //p' "$pages/udp.1")" +%F)
else
    date=$(date +%F)
fi
# The plugin adds to its output folder: a page of a removed subcommand would stay.
rm -rf "$output"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift package generate-manual --configuration debug --multi-page --date "$date" >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi

if $check; then
    if ! diff -ru "$pages" "$output"; then
        echo "$pages is out of date: run Scripts/man-pages.sh and commit the pages" >&2
        exit 1
    fi
    echo "$pages: up to date ($(ls "$pages" | wc -l) pages)"
else
    rm -rf "$pages"
    mkdir -p "$pages"
    cp "$output"/*.1 "$pages/"
    ls "$pages"
fi
