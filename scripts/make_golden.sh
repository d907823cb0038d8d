#!/usr/bin/env bash
# Regenerates tests/golden/ from Keras itself. Needs network access to PyPI
# once: installs pinned TensorFlow (CPU) and NumPy into a scratch virtual
# environment, .deps/golden-venv (git-ignored), then runs make_golden.py.
# Falls back to Keras on the JAX backend when TensorFlow cannot be installed.
set -euo pipefail

TENSORFLOW_VERSION=2.21.0
KERAS_VERSION=3.15.1
NUMPY_VERSION=2.4.6
JAX_VERSION=0.10.2

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.deps/golden-venv"
say() { printf '[golden] %s\n' "$*"; }

if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  mkdir -p "$root/.deps"
  "${PYTHON:-python3}" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip -q --disable-pip-version-check)

backend=tensorflow
if ! "${pip[@]}" install "tensorflow-cpu==$TENSORFLOW_VERSION" "keras==$KERAS_VERSION" "numpy==$NUMPY_VERSION"; then
  say "tensorflow-cpu $TENSORFLOW_VERSION could not be installed; trying Keras on JAX"
  "${pip[@]}" install "jax[cpu]==$JAX_VERSION" "keras==$KERAS_VERSION" "numpy==$NUMPY_VERSION"
  backend=jax
fi

say "running make_golden.py with the $backend backend"
KERAS_BACKEND=$backend "$venv/bin/python" "$root/scripts/make_golden.py"
