#!/usr/bin/env bash
# Installs everything convpipe needs to build and test, on a fresh Debian 12
# machine. Idempotent: safe to rerun; a second run does nothing it need not.
#
#   - Debian packages (compiler, CMake helpers, JSON/CLI/image libraries, GoogleTest)
#   - Halide, pinned, from its PyPI wheel (C++ library, headers, CMake package),
#     plus a CMake and Ninja new enough for Halide's CMake package, all in a
#     project-local virtual environment: .deps/venv
#   - .deps/halide: a stable link to the Halide install inside that environment
set -euo pipefail

HALIDE_VERSION=21.0.0
CMAKE_VERSION=4.1.2
NINJA_VERSION=1.13.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps="$root/.deps"
venv="$deps/venv"
say() { printf '[setup] %s\n' "$*"; }

apt_packages=(build-essential pkg-config python3 python3-venv
              nlohmann-json3-dev libcli11-dev libfmt-dev
              libpng-dev libjpeg-dev libgtest-dev libgmock-dev)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

py=$(command -v python3)
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  mkdir -p "$deps"
  "$py" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip -q --disable-pip-version-check)

have() { "$venv/bin/python" - "$1" "$2" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
except PackageNotFoundError:
    sys.exit(1)
PY
}

have cmake "$CMAKE_VERSION" || { say "installing cmake $CMAKE_VERSION"; "${pip[@]}" install "cmake==$CMAKE_VERSION"; }
have ninja "$NINJA_VERSION" || { say "installing ninja $NINJA_VERSION"; "${pip[@]}" install "ninja==$NINJA_VERSION"; }

if ! have halide "$HALIDE_VERSION"; then
  say "installing Halide $HALIDE_VERSION"
  if ! "${pip[@]}" install "halide==$HALIDE_VERSION" 2>/dev/null; then
    # The C++ library does not depend on the wheel's Python tag: fetch the
    # cp311 wheel and unpack it where pip would have put it.
    say "no Halide wheel for this Python; unpacking the cp311 build"
    tmp=$(mktemp -d)
    "${pip[@]}" download --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux_2_28_x86_64 -d "$tmp" "halide==$HALIDE_VERSION"
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    "$venv/bin/python" -m zipfile -e "$tmp"/halide-*.whl "$site"
    rm -rf "$tmp"
  fi
fi

# Relative links, so that the tree can be moved or copied.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sfn "venv/${site#"$venv/"}/halide" "$deps/halide"
ln -sfn venv/bin "$deps/bin"
[ -f "$deps/halide/lib64/cmake/Halide/HalideConfig.cmake" ] || { echo "setup: Halide's CMake package is missing under $deps/halide" >&2; exit 1; }
say "ready: Halide $HALIDE_VERSION, $("$deps/bin/cmake" --version | head -1)"
