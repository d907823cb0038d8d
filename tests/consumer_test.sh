#!/usr/bin/env bash
# Installs convpipe to a temporary prefix, then configures, builds and runs
# examples/consumer against it, as another project would.
#   consumer_test.sh CMAKE BUILD_DIR SOURCE_DIR MAKE_PROGRAM
set -euo pipefail
cmake=$1 build=$2 src=$3 make_program=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" > "$work/install.log"
# Nothing from the build tree may leak in: only the prefix is given.
"$cmake" -S "$src/examples/consumer" -B "$work/build" -G Ninja \
  -DCMAKE_MAKE_PROGRAM="$make_program" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$work/build"
"$work/build/consumer"
# The installed CLI runs too, and finds its linked pipelines.
"$work/prefix/bin/convpipe" list | grep -q edges
echo "consumer project built and ran against the installed package"
