#!/usr/bin/env bash
# Two schedules of one Conv2D layer, side by side, without oneDNN
# (bench/ab_static.cpp says how): each variant becomes a static library,
# both are linked into one driver, and it prints their median times and
# the ratio, twice. A schedule is a file (schedules' format, the layer
# named "conv") or '-' for the heuristic. Needs the build (scripts/build.sh).
#
#   scripts/ab_static.sh "1x7x7x512->512 3x3" - rows.json [THREADS] [SLICE_S] [SLICES]
#
# The layer is written as bench_layers writes it:
# "NxHxWxC->F KHxKW [sS] [dD] [gG|dw] [valid] [linear]". AB_OUTPUT_OFFSET=K
# starts the output K floats past a page boundary (where it lies relative
# to the input matters for layers whose pixels are 4 KB apart).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ $# -lt 3 ]; then sed -n '2,13p' "$0" >&2; exit 2; fi
layer=$1 sched_a=$2 sched_b=$3 threads=${4:-1} slice=${5:-0.05} slices=${6:-40}
out=build/ab_static
mkdir -p "$out"
# The spec, and the sizes the driver allocates.
sizes=$(.deps/venv/bin/python3 - "$layer" "$out/layer.json" <<'PY'
import json, re, sys
m = re.fullmatch(r"(\d+)x(\d+)x(\d+)x(\d+)->(\d+) (\d+)x(\d+)((?: (?:s\d+|d\d+|g\d+|dw|valid|linear))*)", sys.argv[1])
if not m:
    sys.exit("ab_static: cannot read layer '%s' (e.g. \"1x7x7x512->512 3x3 s2\")" % sys.argv[1])
n, h, w, c, f, kh, kw = map(int, m.groups()[:7])
opts = m.group(8).split()
def number(letter):
    return next((int(o[1:]) for o in opts if re.fullmatch(letter + r"\d+", o)), 1)
s, d = number("s"), number("d")
g = c if "dw" in opts else number("g")
valid = 'valid' in opts
layer = {"type": "Conv2D", "name": "conv", "filters": f, "kernel_size": [kh, kw], "strides": [s, s],
         "dilation_rate": [d, d], "groups": g, "padding": "valid" if valid else "same",
         "activation": "linear" if 'linear' in opts else "relu"}
json.dump({"name": "ab", "input": {"name": "x", "shape": [n, h, w, c]}, "layers": [layer]}, open(sys.argv[2], "w"))
oh = (h - d * (kh - 1) - 1) // s + 1 if valid else -(-h // s)
ow = (w - d * (kw - 1) - 1) // s + 1 if valid else -(-w // s)
print(n, h, w, c, f, kh, kw, c // g, oh, ow)
PY
)
# The target of the AVX2 variant that the builds link (the kernel block
# `convpipe info` reports is this CPU's choice, which matches it with AVX2).
target=x86-64-linux-avx2-fma-f16c
blocks=()
for v in a b; do
  sched=$([ "$v" = a ] && echo "$sched_a" || echo "$sched_b")
  args=(-g convpipe -f "layer_$v" -o "$out" -e static_library,h "target=$target-no_runtime" "spec=$out/layer.json")
  info=(build/bin/convpipe info "$out/layer.json")
  if [ "$sched" != - ]; then args+=("schedule=$sched"); info+=(--schedule "$sched"); fi
  build/bin/convpipe_generator "${args[@]}"
  # The kernel's storage: "kernel stored in blocks of N filters", else Keras's.
  blocks+=("$("${info[@]}" | sed -n 's/.*kernel stored in blocks of \([0-9]*\) filters.*/\1/p' | head -1)")
done
build/bin/convpipe_generator -r halide_runtime -o "$out" -e static_library "target=$target"
halide_include=$(dirname "$(find .deps -name HalideBuffer.h -print -quit)")
c++ -O2 -std=c++17 -I"$halide_include" -I"$out" bench/ab_static.cpp "$out/layer_a.a" "$out/layer_b.a" \
  "$out/halide_runtime.a" -lpthread -ldl -o "$out/ab_static"
for run in 1 2; do
  HL_NUM_THREADS=$threads "$out/ab_static" $sizes "${blocks[0]:-0}" "${blocks[1]:-0}" "$slice" "$slices"
done
