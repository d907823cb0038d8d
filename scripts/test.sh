#!/usr/bin/env bash
# Sets up (if needed), builds, and runs the whole test suite with ctest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/build.sh
.deps/bin/ctest --preset release --parallel "$(nproc)"
