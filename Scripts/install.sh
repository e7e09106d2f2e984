#!/usr/bin/env bash
# Scripts/install.sh [PREFIX]: builds `udp` for release with the Swift standard library and Foundation linked in
# (--static-swift-stdlib), so that it runs on a Linux machine without the Swift toolchain, and installs it with its
# man pages and shell completions under PREFIX (default /usr/local), below $DESTDIR when that is set (for
# packaging: `DESTDIR=/tmp/stage Scripts/install.sh /usr`). Prints each file it installed. The installed `udp` has
# everything, sealed datagrams included (the package trait Sealing: --key-file, udp keygen).
#
#   PREFIX/bin/udp                                        the binary, stripped of its symbol table
#   PREFIX/share/man/man1/udp.1, udp.echo.1, …            `man udp`, `man udp.echo`
#   PREFIX/share/bash-completion/completions/udp          bash (bash-completion loads it on first use)
#   PREFIX/share/zsh/site-functions/_udp                  zsh (on zsh's default fpath for PREFIX /usr/local)
#   PREFIX/share/fish/vendor_completions.d/udp.fish       fish
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${1:-/usr/local}
if [[ $prefix != /* ]]; then
    echo "usage: $0 [PREFIX]: PREFIX must be an absolute path, not '$prefix'" >&2
    exit 64
fi
root="${DESTDIR:-}$prefix"

swift build -c release --product udp --static-swift-stdlib --traits Sealing
binary="$(swift build -c release --product udp --static-swift-stdlib --traits Sealing --show-bin-path)/udp"

install_file() {  # MODE SOURCE DESTINATION
    install -D -m "$1" "$2" "$3"
    echo "installed $3"
}

# Stripped: the symbol table is over half the file, and a Swift program needs none of it to run (its metadata
# stays); the unstripped binary stays in .build for a debugger.
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$binary"
install_file 0755 "$stripped" "$root/bin/udp"

for page in Documentation/man/*.1; do
    install_file 0644 "$page" "$root/share/man/man1/${page##*/}"
done

# The completion scripts come from the binary just built, so they match it exactly.
completions=$(mktemp -d)
trap 'rm -f "$stripped"; rm -rf "$completions"' EXIT
for shell in bash zsh fish; do
    "$binary" --generate-completion-script "$shell" >"$completions/$shell"
done
install_file 0644 "$completions/bash" "$root/share/bash-completion/completions/udp"
install_file 0644 "$completions/zsh" "$root/share/zsh/site-functions/_udp"
install_file 0644 "$completions/fish" "$root/share/fish/vendor_completions.d/udp.fish"
