#!/usr/bin/env python3
"""Writes tests/classic_golden/: what numpy.convolve and scipy.signal's
convolve2d/correlate2d return, for tests/test_classic.cpp.

Layout:
  inputs/<name>.npy      float32 arrays (the C++ side reads them as they are)
  expected/<case>.npy    float64 results, computed from those float32 values
  manifest.tsv           one case a line:
                         case  op  mode  boundary  fillvalue  in1  in2
                         (op: convolve | convolve2d | correlate2d; boundary
                         and fillvalue are "-" for convolve)

Covers every mode x boundary, odd and even sizes, kernels larger than the
input in one or both dimensions (and 'valid' swaps), a nonzero fillvalue,
correlation, rank-1 and box kernels (the separable path), and a few arrays
wide enough for the vectorised paths.

Run through scripts/make_classic_golden.sh, which installs the pinned numpy
and scipy. Seeded: rerunning it rewrites the same data.
"""
import shutil
from pathlib import Path

import numpy as np
import scipy
import scipy.signal

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "classic_golden"

rng = np.random.default_rng(20240603)
inputs = {}
cases = []


def add_input(name, array):
    array = np.asarray(array, dtype=np.float32)
    if name in inputs:
        assert np.array_equal(inputs[name], array), name
    inputs[name] = array
    return name


def random_input(name, shape):
    """Uniform in [-1, 1); made once per name, then shared by every case."""
    if name not in inputs:
        add_input(name, rng.uniform(-1.0, 1.0, size=shape))
    assert inputs[name].shape == tuple(shape), name
    return name


def add_case(case, op, mode, in1, in2, boundary="-", fillvalue=0.0):
    a = inputs[in1].astype(np.float64)
    b = inputs[in2].astype(np.float64)
    if op == "convolve":
        expected = np.convolve(a, b, mode=mode)
    elif op == "convolve2d":
        expected = scipy.signal.convolve2d(a, b, mode=mode, boundary=boundary, fillvalue=fillvalue)
    else:
        expected = scipy.signal.correlate2d(a, b, mode=mode, boundary=boundary, fillvalue=fillvalue)
    cases.append((case, op, mode, boundary, "-" if op == "convolve" else repr(float(fillvalue)), in1, in2,
                  np.asarray(expected, dtype=np.float64)))


# --- 1-D: numpy.convolve ------------------------------------------------------
# The seed's own examples.
add_input("seed_x", [0, 0, 1, 1, 1, 0, 0])
add_input("seed_101", [1, 0, 1])
for mode in ("full", "same", "valid"):
    add_case(f"seed_{mode}", "convolve", mode, "seed_x", "seed_x")
    add_case(f"seed_101_{mode}", "convolve", mode, "seed_x", "seed_101")

# Odd and even lengths, either argument the longer, length 1, long enough
# for the vectorised path.
for n, m in [(7, 3), (3, 7), (8, 4), (4, 8), (9, 4), (4, 9), (6, 6), (1, 1), (1, 5), (5, 1), (13, 6),
             (200, 31), (31, 200), (100, 2), (64, 3)]:
    a = random_input(f"vec{n}", (n,))
    v = random_input(f"vec{m}", (m,)) if m != n else a
    for mode in ("full", "same", "valid"):
        add_case(f"conv1d_{n}_{m}_{mode}", "convolve", mode, a, v)

# --- 2-D: scipy.signal ---------------------------------------------------------
images = {
    "img5x7": (5, 7),   # odd
    "img6x8": (6, 8),   # even
    "img4x4": (4, 4),   # square, smaller than some kernels
}
for name, shape in images.items():
    random_input(name, shape)

kernels = {
    "k1x1": rng.uniform(-1, 1, (1, 1)),
    "k2x2": rng.uniform(-1, 1, (2, 2)),
    "k3x3": rng.uniform(-1, 1, (3, 3)),
    "k2x3": rng.uniform(-1, 1, (2, 3)),
    "k4x4": rng.uniform(-1, 1, (4, 4)),
    "k3x5": rng.uniform(-1, 1, (3, 5)),
    # rank 1: the separable path
    "k4x6rank1": np.outer(rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 6)),
    "box10x10": np.full((10, 10), 0.01),
    # larger than every image in both dimensions, and in one only
    "k8x9": rng.uniform(-1, 1, (8, 9)),
    "k7x3": rng.uniform(-1, 1, (7, 3)),
}
for name, k in kernels.items():
    add_input(name, k)

boundaries = [("fill", 0.0), ("fill", 1.5), ("wrap", 0.0), ("symm", 0.0)]


def contains(s1, s2):
    return all(a >= b for a, b in zip(s1, s2))


for img, shape in images.items():
    for kname, k in kernels.items():
        for mode in ("full", "same", "valid"):
            if mode == "valid" and not (contains(shape, k.shape) or contains(k.shape, shape)):
                continue  # scipy refuses; tested as an error in C++
            for boundary, fill in boundaries:
                tag = f"{boundary}{'' if fill == 0 else '_fv'}"
                for op in ("convolve2d", "correlate2d"):
                    add_case(f"{op}_{img}_{kname}_{mode}_{tag}", op, mode, img, kname, boundary, fill)
                    # Arguments the other way round: 'valid' swaps them, and
                    # 'full'/'same' treat a larger second input as the kernel.
                    if boundary == "fill" and fill == 0:
                        add_case(f"{op}_{kname}_{img}_{mode}", op, mode, kname, img, boundary, fill)

# Wide enough for every vectorised path (AVX-512 tiles are 64 columns; the
# separable path works on 256-column tiles).
random_input("img19x270", (19, 270))
random_input("k5x5", (5, 5))
for kname, mode, boundary, fill in [("k2x2", "same", "fill", 0.0), ("k3x3", "same", "symm", 0.0),
                                    ("k3x3", "full", "wrap", 0.0), ("k5x5", "valid", "fill", 0.0),
                                    ("k5x5", "same", "fill", -0.5), ("box10x10", "same", "fill", 0.0),
                                    ("box10x10", "full", "symm", 0.0), ("k4x6rank1", "same", "wrap", 0.0)]:
    tag = f"{boundary}{'' if fill == 0 else '_fv'}"
    for op in ("convolve2d", "correlate2d"):
        add_case(f"{op}_img19x270_{kname}_{mode}_{tag}", op, mode, "img19x270", kname, boundary, fill)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "inputs").mkdir(parents=True)
    (OUT / "expected").mkdir()
    for name, array in inputs.items():
        np.save(OUT / "inputs" / f"{name}.npy", array)
    lines = ["# case\top\tmode\tboundary\tfillvalue\tin1\tin2   "
             f"(numpy {np.__version__}, scipy {scipy.__version__}; made by scripts/make_classic_golden.py)"]
    for case, op, mode, boundary, fill, in1, in2, expected in cases:
        np.save(OUT / "expected" / f"{case}.npy", expected)
        lines.append("\t".join([case, op, mode, boundary, fill, in1, in2]))
    (OUT / "manifest.tsv").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(cases)} cases and {len(inputs)} inputs to {OUT}")


if __name__ == "__main__":
    main()
