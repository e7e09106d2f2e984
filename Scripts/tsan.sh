#!/usr/bin/env bash
# Runs the whole test suite under Thread Sanitizer, in a build folder of its own (.build-tsan) so the normal
# build is untouched. Not part of .ci/run: a TSan build of everything takes several minutes on 2 cores.
#
# usage: Scripts/tsan.sh [swift test arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
swift test --sanitize=thread --scratch-path .build-tsan "$@"
