#!/usr/bin/env python3
"""Random Conv2D layer shapes in bench_layers' --layer notation, one per line.

    scripts/random_shapes.py SEED COUNT [--exclude FILE]... > shapes.txt

Shapes outside any hand-picked list, to find weak spots: dense, 1x1,
asymmetric (1xK, Kx1), stems of 1-4 channels, depthwise (with multipliers),
and grouped layers of every group size; strides, dilations, 'valid' and
activation-free layers; batches of 1-4; 2 MFLOP to 2 GFLOP each. The same
seed gives the same list (Python's random module). bench/random.txt is
    scripts/random_shapes.py 2026 70 --exclude bench/shapes.txt
"""
import argparse
import random


def shape(rng):
    kind = rng.choice(['dense', 'dense', 'dense', '1x1', '1x1', 'dw', 'group', 'stem', 'asym'])
    n = rng.choice([1] * 6 + [2, 4])
    h = rng.choice([7, 9, 12, 14, 17, 19, 24, 28, 31, 35, 48, 56, 60, 73, 80, 112])
    w = rng.choice([h, h, h, rng.choice([10, 20, 33, 64, 100])])
    channels = [8, 12, 16, 20, 24, 32, 40, 48, 56, 64, 72, 80, 96, 100, 120, 128, 144, 160, 192, 224, 256, 320,
                384, 512]
    c, f = rng.choice(channels), rng.choice(channels)
    kernel, extra = '3x3', []
    if kind == '1x1':
        kernel = '1x1'
    elif kind == 'dense':
        kernel = rng.choice(['3x3', '3x3', '5x5', '7x7', '2x2'])
    elif kind == 'asym':
        kernel = rng.choice(['1x3', '3x1', '1x5', '5x1', '1x7', '7x1'])
    elif kind == 'stem':
        c, f = rng.choice([1, 2, 3, 4]), rng.choice([8, 16, 24, 32, 48, 64])
        kernel = rng.choice(['3x3', '5x5', '7x7', '11x11'])
        h = w = rng.choice([64, 96, 128, 150, 199, 224])
    groups = 1
    if kind == 'dw':
        f = c * rng.choice([1, 1, 1, 2])
        kernel = rng.choice(['3x3', '3x3', '5x5', '7x7'])
        groups = c
        extra.append('dw' if f == c else f'g{c}')
    if kind == 'group':
        groups = rng.choice([2, 4, 8, 16, 32, 64])
        c, f = groups * rng.choice([3, 4, 6, 8, 12, 16]), groups * rng.choice([3, 4, 6, 8, 12, 16])
        extra.append(f'g{groups}')
    stride = rng.choice([1, 1, 1, 2])
    if stride > 1:
        extra.insert(0, f's{stride}')
    if kind in ('dense', 'dw') and stride == 1 and rng.random() < 0.15:
        extra.insert(0, 'd2')
    if rng.random() < 0.15:
        extra.append('valid')
    if rng.random() < 0.1:
        extra.append('linear')
    kh, kw = (int(k) for k in kernel.split('x'))
    flops = 2 * n * h * w * c * f * kh * kw / (stride * stride) / groups
    line = f'{n}x{h}x{w}x{c}->{f} {kernel}' + (' ' + ' '.join(extra) if extra else '')
    return line, flops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('seed', type=int)
    parser.add_argument('count', type=int)
    parser.add_argument('--exclude', action='append', default=[], help='a shape file whose lines to leave out')
    args = parser.parse_args()
    excluded = set()
    for path in args.exclude:
        with open(path) as f:
            excluded |= {line.strip() for line in f if line.strip() and not line.startswith('#')}
    rng = random.Random(args.seed)
    out = []
    while len(out) < args.count:
        line, flops = shape(rng)
        if 2e6 <= flops <= 2e9 and line not in excluded and line not in out:
            out.append(line)
    print('\n'.join(out))


if __name__ == '__main__':
    main()
