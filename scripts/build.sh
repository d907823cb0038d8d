#!/usr/bin/env bash
# Sets up (if needed) and builds convpipe in Release into build/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup.sh
.deps/bin/cmake --preset release
.deps/bin/cmake --build --preset release --parallel "$(nproc)"
echo "[build] done: build/bin/convpipe"
