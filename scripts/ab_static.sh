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
# The spec, and the sizes the driver allocates (from `convpipe info`'s
# input, kernel and output shapes).
build/bin/convpipe spec "$layer" --name ab > "$out/layer.json"
layer_info=$(build/bin/convpipe info "$out/layer.json")
shape_of() {   # the sizes in the brackets of the info line that starts with $1
  sed -n "s/^  $1.*\[\([0-9, ]*\)\].*/\1/p" <<<"$layer_info" | head -1 | tr -d ,
}
read -r n h w c <<<"$(shape_of 'input  x ')"
read -r kh kw cin_group f <<<"$(shape_of 'input  conv.kernel ')"
read -r _ oh ow _ <<<"$(shape_of 'layer  conv ')"
sizes="$n $h $w $c $f $kh $kw $cin_group $oh $ow"
# This CPU's target, as the JIT (and `convpipe info`, whose kernel block
# the driver is told) sees it: its features choose the schedule.
target=$(sed -n 's/.*(JIT \[\([^]]*\)\].*/\1/p' <<<"$layer_info" | head -1 | sed 's/-jit//')
if [ -z "$target" ]; then echo "ab_static.sh: no host target in convpipe info's output" >&2; exit 1; fi
blocks=()
for v in a b; do
  sched=$([ "$v" = a ] && echo "$sched_a" || echo "$sched_b")
  args=(-g convpipe -f "layer_$v" -o "$out" -e static_library,h "target=$target-no_runtime" "spec=$out/layer.json")
  info=(build/bin/convpipe info "$out/layer.json")
  if [ "$sched" != - ]; then args+=("schedule=$sched"); info+=(--schedule "$sched"); fi
  build/bin/convpipe_generator "${args[@]}"
  # The kernel's storage: "kernel stored in blocks of N filters", else
  # Keras's; with each group's filters padded to P, the blocks hold
  # groups x P of them ("N:groups*P").
  sched_info=$("${info[@]}")
  block=$(sed -n 's/.*kernel stored in blocks of \([0-9]*\) filters.*/\1/p' <<<"$sched_info" | head -1)
  group_pad=$(sed -n 's/.*filters of each group padded to \([0-9]*\).*/\1/p' <<<"$sched_info" | head -1)
  if [ -n "$block" ] && [ -n "$group_pad" ]; then block="$block:$((c / cin_group * group_pad))"; fi
  blocks+=("$block")
done
build/bin/convpipe_generator -r halide_runtime -o "$out" -e static_library "target=$target"
halide_include=$(dirname "$(find .deps -name HalideBuffer.h -print -quit)")
c++ -O2 -std=c++17 -I"$halide_include" -I"$out" bench/ab_static.cpp "$out/layer_a.a" "$out/layer_b.a" \
  "$out/halide_runtime.a" -lpthread -ldl -o "$out/ab_static"
for run in 1 2; do
  HL_NUM_THREADS=$threads "$out/ab_static" $sizes "${blocks[0]:-0}" "${blocks[1]:-0}" "$slice" "$slices"
done
