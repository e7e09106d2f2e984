#!/usr/bin/env python3
"""Scripts/undocumented-symbols.py SYMBOLGRAPH_DIR MODULE...: every public symbol a module declares has a doc comment.

Reads symbol graphs (those that `swift package generate-documentation` extracts, or `swift package
dump-symbol-graph`'s) and prints, for each MODULE,
the public and open symbols declared in Sources/MODULE/ that have no `///` comment, one per line as FILE:LINE: KIND
NAME, the way a compiler reports. Exits 1 when any is missing. Members the compiler synthesises (`==`, `hash(into:)`)
and those inherited from a protocol declared elsewhere are not declared in Sources/, so they are not asked for;
nor is an `extension` block itself, whose members are.
DocC's own coverage report counts those too, which is why this reads the symbol graphs instead.
"""

import glob
import json
import os
import sys


def undocumented(directory, module):
    found = set()
    # MODULE.symbols.json, and MODULE@Other.symbols.json for the module's extensions of another module's types.
    for path in glob.glob(os.path.join(directory, f"{module}.symbols.json")) + glob.glob(
        os.path.join(directory, f"{module}@*.symbols.json")
    ):
        with open(path) as file:
            graph = json.load(file)
        for symbol in graph["symbols"]:
            location = symbol.get("location", {})
            uri = location.get("uri", "")
            if f"/Sources/{module}/" not in uri or symbol.get("accessLevel") not in ("public", "open"):
                continue
            if symbol.get("docComment", {}).get("lines") or symbol["kind"]["identifier"] == "swift.extension":
                continue
            source = os.path.relpath(uri.removeprefix("file://"))
            line = location["position"]["line"] + 1
            kind = symbol["kind"]["displayName"].lower()
            found.add((source, line, kind, ".".join(symbol["pathComponents"])))
    return sorted(found)


def main():
    if len(sys.argv) < 3:
        print(f"usage: {sys.argv[0]} SYMBOLGRAPH_DIR MODULE...", file=sys.stderr)
        return 64
    directory, modules = sys.argv[1], sys.argv[2:]
    missing = 0
    for module in modules:
        if not glob.glob(os.path.join(directory, f"{module}.symbols.json")):
            print(f"{module}: no symbol graph in {directory}", file=sys.stderr)
            return 1
        for source, line, kind, name in undocumented(directory, module):
            print(f"{source}:{line}: {kind} {name} has no doc comment")
            missing += 1
    if missing:
        print(f"{missing} public symbols without a doc comment", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
