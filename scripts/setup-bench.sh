#!/usr/bin/env bash
# Installs what bench/ compares against: OpenCV (Debian's libopencv-dev, for
# cv::filter2D) and, in .deps/classic-venv, the pinned numpy and scipy (for
# scipy.signal.convolve2d). Benchmark dependencies only; the library and its
# tests need neither. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '[setup-bench] %s\n' "$*"; }

if ! dpkg-query -W -f='${Status}' libopencv-dev 2>/dev/null | grep -q "install ok installed"; then
  say "installing libopencv-dev"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopencv-dev >/dev/null
fi
bash "$root/scripts/make_classic_golden.sh" --venv-only
say "ready; reconfigure (cmake --preset release) so bench_classic finds OpenCV"

# oneDNN (Debian 12: 2.6.3, C++ API in oneapi/dnnl/dnnl.hpp) for bench_layers.
if ! dpkg-query -W -f='${Status}' libdnnl-dev 2>/dev/null | grep -q "install ok installed"; then
  say "installing libdnnl-dev"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libdnnl-dev >/dev/null
fi
