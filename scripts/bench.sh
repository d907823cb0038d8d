#!/usr/bin/env bash
# Builds and runs the Conv2D layer benchmark (bench/bench_layers.cpp): the
# layer suite in bench/layers/ against oneDNN, side by side, at 1 and 2
# threads, with this CPU's FMA peak. Extra arguments go to bench_layers, e.g.
#
#   scripts/bench.sh                        # the whole suite, 1 and 2 threads
#   scripts/bench.sh --layers 3x3 --seconds 5
#   scripts/bench.sh --layer "1x28x28x96->160 3x3 s2"   # any other shape
#   scripts/bench.sh --seconds 1 --rounds 2 --layer-file bench/shapes.txt   # 130 more
#   scripts/bench.sh --rounds 6 --threads 1 --layer "1x14x14x576->576 3x3 dw" \
#       --layer "1x14x14x576->576 3x3 dw" --schedule other.json   # two schedules
#   scripts/bench.sh --json > layers.json
#
# The benchmark is never part of the tests. Run it on a quiet machine: the
# header line shows the load average, and noise only ever slows a run down.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf '[bench] %s\n' "$*" >&2; }

scripts/setup.sh >&2
# oneDNN (libdnnl-dev) is a benchmark dependency only; setup-bench.sh installs it.
if [ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then
  say "oneDNN not found; running scripts/setup-bench.sh"
  scripts/setup-bench.sh >&2
fi
# Reconfigure so a newly installed oneDNN is found, then build only what the
# benchmark needs (bench_layers is not part of the default build).
.deps/bin/cmake --preset release >&2
.deps/bin/cmake --build --preset release --target bench_layers >&2

# Debian's oneDNN threads with OpenMP; passive waiting keeps its idle threads
# from spinning on the cores Halide's pool needs (bench_layers sets this
# itself too, when it is not set).
export OMP_WAIT_POLICY=passive
exec build/bin/bench_layers --threads 1,2 "$@"
