#!/usr/bin/env bash
# Regenerates tests/classic_golden/ from numpy and scipy themselves. Needs
# PyPI once: installs pinned NumPy and SciPy into a scratch virtual
# environment, .deps/classic-venv (git-ignored), then runs
# make_classic_golden.py. The benchmark's scipy side (bench/bench_scipy.py)
# uses the same environment.
set -euo pipefail

NUMPY_VERSION=2.4.6
SCIPY_VERSION=1.17.1   # the last release for Python 3.11 (Debian 12)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.deps/classic-venv"
say() { printf '[classic-golden] %s\n' "$*"; }

if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  mkdir -p "$root/.deps"
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip -q --disable-pip-version-check install \
  "numpy==$NUMPY_VERSION" "scipy==$SCIPY_VERSION"

if [ "${1:-}" = "--venv-only" ]; then
  say "ready: $venv"
  exit 0
fi
say "running make_classic_golden.py"
"$venv/bin/python" "$root/scripts/make_classic_golden.py"
