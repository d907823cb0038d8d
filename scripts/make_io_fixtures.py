#!/usr/bin/env python3
"""Writes the small .npy and PNG fixtures used by tests/test_io.cpp.

Needs numpy (run it from any venv that has it):
    python3 scripts/make_io_fixtures.py [output_dir]
The default output directory is tests/data/io next to this script's parent.
Every value is a simple function of the flat (C-order) index i, so the test
recomputes the expected numbers independently; keep the formulas in sync
with tests/test_io.cpp.
"""
import os
import struct
import sys
import zlib

import numpy as np


def flat(shape):
    return np.arange(int(np.prod(shape))).reshape(shape)


def write_npy(out, name, array, version=None):
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, array)
        else:
            np.lib.format.write_array(f, array, version=version)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(out, name, width, height, bit_depth, color_type, rows, palette=None, interlace=False):
    """Minimal PNG writer (no Pillow needed): rows are lists of samples."""
    if interlace:  # 8-bit only: emit the seven Adam7 sub-images one after another
        channels = len(rows[0]) // width
        passes = []
        for x0, y0, dx, dy in ADAM7:
            for y in range(y0, height, dy):
                row = [v for x in range(x0, width, dx) for v in rows[y][x * channels:(x + 1) * channels]]
                if row:
                    passes.append(row)
        rows = passes
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b""
    for row in rows:
        raw += b"\x00"  # filter type None
        if bit_depth == 16:
            raw += b"".join(struct.pack(">H", v) for v in row)
        elif bit_depth == 8:
            raw += bytes(row)
        else:  # pack sub-byte samples, most significant bits first
            per_byte = 8 // bit_depth
            for start in range(0, len(row), per_byte):
                byte = 0
                group = row[start:start + per_byte]
                for k, v in enumerate(group):
                    byte |= v << (8 - bit_depth * (k + 1))
                raw += bytes([byte])
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0,
                                              1 if interlace else 0))
    if palette is not None:
        data += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    data += chunk(b"IDAT", zlib.compress(raw))
    data += chunk(b"IEND", b"")
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "data", "io")
    os.makedirs(out, exist_ok=True)

    # --- .npy ---
    write_npy(out, "f32_2d.npy", (flat((3, 4)) * 0.5 - 3).astype("<f4"))
    write_npy(out, "f64_3d.npy", (flat((2, 3, 2)) * 0.125 - 1).astype("<f8"))
    write_npy(out, "u8_4d.npy", (255 - flat((1, 2, 3, 2)) * 20).astype("u1"))
    # Logical (C-order) value at [a, b, c] is 100a + 10b + c; stored column-major.
    a, b, c = np.indices((2, 3, 4))
    write_npy(out, "fortran_3d.npy", np.asfortranarray((100 * a + 10 * b + c).astype("<f4")))
    write_npy(out, "f32_be_1d.npy", (flat((5,)) * 1.5 + 0.25).astype(">f4"))
    write_npy(out, "f64_be_2d.npy", (flat((2, 2)) * -2.0 + 0.5).astype(">f8"))
    write_npy(out, "f32_0d.npy", np.array(7.5, dtype="<f4"))
    write_npy(out, "f32_empty.npy", np.zeros((0, 3), dtype="<f4"))
    write_npy(out, "f32_v2.npy", (flat((2, 3)) * 0.5 - 3).astype("<f4"), version=(2, 0))
    write_npy(out, "f32_v3.npy", (flat((2, 3)) * 0.5 - 3).astype("<f4"), version=(3, 0))
    write_npy(out, "i64.npy", flat((3,)).astype("<i8"))

    # --- PNG (sample at flat index i given per file) ---
    w, h = 3, 2
    n = w * h
    # 16-bit gray: 12345i + 7 (bytes differ, so a missing byte swap shows).
    g16 = [12345 * i + 7 for i in range(n)]
    write_png(out, "gray16.png", w, h, 16, 0, [g16[r * w:(r + 1) * w] for r in range(h)])
    # 1-bit gray: i % 2 (expands to 0 or 255).
    g1 = [i % 2 for i in range(n)]
    write_png(out, "gray1.png", w, h, 1, 0, [g1[r * w:(r + 1) * w] for r in range(h)])
    # 8-bit gray + alpha: gray 40i, alpha 255 - i (dropped on load).
    ga = []
    for r in range(h):
        ga.append([v for i in range(r * w, (r + 1) * w) for v in (40 * i, 255 - i)])
    write_png(out, "gray_alpha8.png", w, h, 8, 4, ga)
    # 8-bit RGBA: R = 10i, G = 10i + 1, B = 10i + 2, A = 7 (dropped on load).
    rgba = []
    for r in range(h):
        rgba.append([v for i in range(r * w, (r + 1) * w) for v in (10 * i, 10 * i + 1, 10 * i + 2, 7)])
    write_png(out, "rgba8.png", w, h, 8, 6, rgba)
    # 16-bit RGB: R = 1000i, G = 65535 - 1000i, B = 30000.
    rgb16 = []
    for r in range(h):
        rgb16.append([v for i in range(r * w, (r + 1) * w) for v in (1000 * i, 65535 - 1000 * i, 30000)])
    write_png(out, "rgb16.png", w, h, 16, 2, rgb16)
    # 2-bit palette: index i % 4 into the colours below.
    palette = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]
    idx = [i % 4 for i in range(n)]
    write_png(out, "palette2.png", w, h, 2, 3, [idx[r * w:(r + 1) * w] for r in range(h)], palette)
    # Adam7-interlaced 8-bit RGB, 5x5: R = i, G = 2i, B = 255 - i.
    il = [[v for i in range(r * 5, (r + 1) * 5) for v in (i, 2 * i, 255 - i)] for r in range(5)]
    write_png(out, "rgb8_interlaced.png", 5, 5, 8, 2, il, interlace=True)
    # Header claims 100000x100000 RGB but holds almost no data: the loader
    # must reject it before allocating ~30 GB.
    write_png(out, "huge_ihdr.png", 100000, 100000, 8, 2, [[0, 0, 0]])


if __name__ == "__main__":
    main()
