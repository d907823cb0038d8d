#!/usr/bin/env python3
"""scipy.signal.convolve2d timings for bench_classic (bench/bench_classic.cpp).

Usage: bench_scipy.py [--seconds S] CASE...
CASE is HxW:KERNEL with KERNEL one of edge2x2, random3x3, box10x10 (the same
data recipe as bench_classic: image values uniform in [0, 1)). Prints one line
per case, "CASE<TAB>median_ms<TAB>runs", on stdout.

scipy runs single-threaded; mode 'same', boundary 'fill' as bench_classic.
"""
import argparse
import sys
import time

import numpy as np
import scipy.signal


def kernel(name):
    if name == "edge2x2":
        return np.array([[-1.0, -1.0], [1.0, 1.0]], dtype=np.float32)
    if name == "random3x3":
        return np.random.default_rng(3).uniform(-1, 1, (3, 3)).astype(np.float32)
    if name == "box10x10":
        return np.full((10, 10), 0.01, dtype=np.float32)
    raise SystemExit(f"bench_scipy.py: unknown kernel {name!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget per case")
    parser.add_argument("cases", nargs="+")
    args = parser.parse_args()
    for case in args.cases:
        size, kname = case.split(":")
        h, w = (int(v) for v in size.split("x"))
        image = np.random.default_rng(1).uniform(0, 1, (h, w)).astype(np.float32)
        k = kernel(kname)
        scipy.signal.convolve2d(image, k, mode="same")  # warm up
        times = []
        start = time.perf_counter()
        while len(times) < 3 or (time.perf_counter() - start < args.seconds and len(times) < 200):
            t0 = time.perf_counter()
            scipy.signal.convolve2d(image, k, mode="same")
            times.append(time.perf_counter() - t0)
        print(f"{case}\t{np.median(times) * 1e3:.4f}\t{len(times)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
