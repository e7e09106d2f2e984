#!/usr/bin/env bash
# Scripts/tutorial-listings.sh: checks the code listings of the UDP tutorial (Sources/UDP/UDP.docc/Tutorials), so
# that what a reader types in step by step still compiles and still ends in the program under Examples/.
#
# Each program is built up in numbered listings under Sources/UDP/UDP.docc/Resources (server-01.swift, …).
#   1. The last listing of each program is its Examples/ program, which `swift build` compiles (and
#      FirstMinuteTests runs, for the server and the client): a symbolic link to it, which DocC reads through, so
#      that the tutorial cannot drift from the tested code and the program is not kept twice.
#   2. Every listing type-checks, warnings as errors, against the UDP module of the last `swift build` (run it
#      first; CI does). DocC only copies these files, and SwiftPM does not compile what is inside a .docc
#      catalog, so nothing else would notice a listing that no longer compiles. One swiftc per file: 20
#      listings in 2 s (2026-12-04).
# The run-*.txt transcripts are real output, captured once on loopback; they name the kernel's ephemeral ports,
# so they are not compared with a new run.
set -euo pipefail
cd "$(dirname "$0")/.."

listings=Sources/UDP/UDP.docc/Resources
bin=$(swift build --show-bin-path)
if [ ! -f "$bin/Modules/UDP.swiftmodule" ]; then
    echo "$bin/Modules/UDP.swiftmodule is missing: run swift build first" >&2
    exit 1
fi
# UDP imports the C module CUDP, whose module map SwiftPM writes into the build folder, not into Sources/CUDP.
flags=(-typecheck -swift-version 6 -warnings-as-errors -I "$bin/Modules")
flags+=(-Xcc -fmodule-map-file="$bin/CUDP.build/module.modulemap")

failed=0
# Each program: the prefix of its listings, and the Examples/ file its last listing must equal.
for pair in server:MinimalServer client:MinimalClient query:QueryWithRetries listen:MultiPeerListen; do
    prefix=${pair%%:*}
    program=Examples/${pair##*:}/main.swift
    files=("$listings/$prefix"-[0-9][0-9].swift)
    if [ ! -f "${files[0]}" ]; then
        echo "$listings/$prefix-NN.swift: no listings of $program" >&2
        failed=1
        continue
    fi
    for file in "${files[@]}"; do
        if swiftc "${flags[@]}" "$file"; then
            echo "$file: compiles"
        else
            echo "$file: does not compile" >&2
            failed=1
        fi
    done
    last=${files[${#files[@]} - 1]}
    if [ -L "$last" ] && [ "$(readlink -f "$last")" = "$(readlink -f "$program")" ]; then
        echo "$last: links to $program"
    else
        echo "$last: is not a link to $program (the last listing must be the program itself)" >&2
        failed=1
    fi
done

# A listing that belongs to no program above would go unchecked, and one that no step shows is dead weight
# (DocC says nothing of either).
for file in "$listings"/*.swift; do
    name=$(basename "$file")
    case "$name" in
    server-[0-9][0-9].swift | client-[0-9][0-9].swift | query-[0-9][0-9].swift | listen-[0-9][0-9].swift) ;;
    *)
        echo "$file: not a listing of a known program (name it PROGRAM-NN.swift and list it here)" >&2
        failed=1
        ;;
    esac
    if ! grep -q "file: $name" Sources/UDP/UDP.docc/Tutorials/*.tutorial; then
        echo "$file: no step of Sources/UDP/UDP.docc/Tutorials shows it" >&2
        failed=1
    fi
done

exit "$failed"
