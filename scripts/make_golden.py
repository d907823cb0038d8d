#!/usr/bin/env python3
"""Writes tests/golden/<case>/: a convpipe spec and the numbers Keras computes for it.

Each case is a spec (DESIGN.md's format, weights as {"npy": ...} files beside
it), an input and the expected output(s) from a real Keras model built from
that same spec, with the same weights. The C++ reference is tested against
these files, and every other test is tested against the reference.

Run through scripts/make_golden.sh, which installs the pinned TensorFlow.
Seeded: rerunning it rewrites the same data.
"""
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import keras  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden"


def conv(name, filters, kernel_size, **keys):
    """One Conv2D layer entry of a spec (weights are added later)."""
    layer = {"type": "Conv2D", "name": name, "filters": filters, "kernel_size": kernel_size}
    layer.update(keys)
    return layer


# (case name, what it checks, input shape NHWC, layers, outputs or None, value range)
# The value range scales input and weights so that each activation sees the
# interesting part of its domain (e.g. hard_sigmoid's clamps beyond +-3).
CASES = [
    ("golden_k1_valid", "1x1 kernel, 3 -> 4 channels", [1, 9, 11, 3],
     [conv("conv", 4, [1, 1])], None, 1.0),
    ("golden_k2_same", "2x2 kernel, same: pads only bottom/right", [1, 9, 11, 2],
     [conv("conv", 3, [2, 2], padding="same")], None, 1.0),
    ("golden_k3_valid", "3x3 kernel, valid", [1, 9, 11, 3],
     [conv("conv", 2, [3, 3], padding="valid")], None, 1.0),
    ("golden_k3_same", "3x3 kernel, same", [1, 9, 11, 3],
     [conv("conv", 2, [3, 3], padding="same")], None, 1.0),
    ("golden_k3_valid_s2", "3x3 kernel, valid, stride 2 (odd leftover)", [1, 12, 13, 2],
     [conv("conv", 3, [3, 3], strides=[2, 2])], None, 1.0),
    ("golden_k3_same_s2", "3x3 kernel, same, stride 2", [1, 12, 13, 2],
     [conv("conv", 3, [3, 3], strides=[2, 2], padding="same")], None, 1.0),
    ("golden_k4_same_s2", "4x4 kernel, same, stride 2: even kernel, asymmetric pad", [1, 12, 13, 2],
     [conv("conv", 3, [4, 4], strides=[2, 2], padding="same")], None, 1.0),
    ("golden_k5_same_s3", "5x5 kernel, same, stride 3", [1, 12, 13, 2],
     [conv("conv", 2, [5, 5], strides=[3, 3], padding="same")], None, 1.0),
    ("golden_k5_valid_s3", "5x5 kernel, valid, stride 3", [1, 12, 13, 2],
     [conv("conv", 2, [5, 5], strides=[3, 3], padding="valid")], None, 1.0),
    ("golden_k6_same", "6x6 kernel, same: even kernel, pad 2 before, 3 after", [1, 9, 11, 2],
     [conv("conv", 2, [6, 6], padding="same")], None, 1.0),
    ("golden_k7_valid", "7x7 kernel, valid", [1, 12, 13, 2],
     [conv("conv", 2, [7, 7])], None, 1.0),
    ("golden_k7_same_s2", "7x7 kernel, same, stride 2", [1, 12, 13, 3],
     [conv("conv", 4, [7, 7], strides=[2, 2], padding="same")], None, 1.0),
    ("golden_rect_same", "2x3 kernel, strides (1, 2), same: each axis on its own", [1, 9, 11, 2],
     [conv("conv", 3, [2, 3], strides=[1, 2], padding="same")], None, 1.0),
    ("golden_dilation2_same", "3x3 kernel, dilation 2, same", [1, 9, 11, 2],
     [conv("conv", 3, [3, 3], dilation_rate=[2, 2], padding="same")], None, 1.0),
    ("golden_dilation_rect_valid", "3x2 kernel, dilation (2, 3), valid", [1, 12, 13, 2],
     [conv("conv", 2, [3, 2], dilation_rate=[2, 3], padding="valid")], None, 1.0),
    ("golden_groups2", "groups 2: 4 -> 6 channels, 3x3 same", [1, 9, 11, 4],
     [conv("conv", 6, [3, 3], padding="same", groups=2)], None, 1.0),
    ("golden_groups_depthwise", "groups = C_in = 3, 2 filters per group (depthwise-like), 3x3 same", [1, 9, 11, 3],
     [conv("conv", 6, [3, 3], padding="same", groups=3)], None, 1.0),
    ("golden_no_bias", "use_bias false, 3x3 same", [1, 9, 11, 3],
     [conv("conv", 2, [3, 3], padding="same", use_bias=False)], None, 1.0),
    ("golden_batch3", "batch of 3, 3x3 same, relu", [3, 9, 11, 2],
     [conv("conv", 2, [3, 3], padding="same", activation="relu")], None, 1.0),
    ("golden_two_layers", "two layers in sequence: 3x3 same relu, then 3x3 valid stride 2", [1, 12, 13, 2],
     [conv("conv1", 4, [3, 3], padding="same", activation="relu"),
      conv("conv2", 3, [3, 3], strides=[2, 2], activation="tanh")], None, 1.0),
    ("golden_dag_two_outputs", "a DAG with two outputs: stem -> left, and right reads stem by name", [1, 9, 11, 2],
     [conv("stem", 3, [3, 3], padding="same", activation="relu"),
      conv("left", 2, [1, 1]),
      conv("right", 2, [3, 3], strides=[2, 2], activation="sigmoid", inputs=["stem"])],
     ["left", "right"], 1.0),
]

# One case per activation; the range is chosen so each sees its kinks/clamps.
ACTIVATIONS = [
    ("linear", 1.0), ("relu", 1.0), ("sigmoid", 2.0), ("tanh", 1.5), ("relu6", 2.5),
    ("leaky_relu", 1.5), ("elu", 1.5), ("selu", 1.5), ("gelu", 1.5), ("swish", 1.5),
    ("silu", 1.5), ("softplus", 2.0), ("softsign", 2.0), ("hard_sigmoid", 2.5),
    ("exponential", 0.8), ("abs", 1.0),
]
for act, scale in ACTIVATIONS:
    CASES.append((f"golden_act_{act}", f"activation {act}", [1, 9, 11, 2],
                  [conv("conv", 3, [3, 3], padding="same", activation=act)], None, scale))
CASES.append(("golden_act_leaky_relu_alpha", "activation leaky_relu with \"alpha\": 0.05 in the spec",
              [1, 9, 11, 2],
              [conv("conv", 3, [3, 3], padding="same", activation="leaky_relu", alpha=0.05)], None, 1.5))


def keras_activation(layer):
    """The Keras activation for a spec layer's activation keys."""
    act = layer.get("activation", "linear")
    if act == "abs":
        # Keras has no "abs" activation string; ops.abs is the same function.
        return keras.ops.abs
    if act == "leaky_relu" and "alpha" in layer:
        slope = layer["alpha"]
        return lambda x: keras.activations.leaky_relu(x, negative_slope=slope)
    # Everything else through Keras's own string lookup: that is what a Keras
    # user writing activation="..." gets (e.g. leaky_relu's default slope).
    return act


def keras_model(spec):
    """A Keras functional model that means the same as the spec."""
    c_in = spec["input"]["shape"][3]
    x = keras.Input(shape=(None, None, c_in), name=spec["input"]["name"])
    values = {spec["input"]["name"]: x}
    keras_layers = []
    prev = x
    for layer in spec["layers"]:
        src = values[layer["inputs"][0]] if "inputs" in layer else prev
        k = keras.layers.Conv2D(
            filters=layer["filters"], kernel_size=tuple(layer["kernel_size"]),
            strides=tuple(layer.get("strides", [1, 1])), padding=layer.get("padding", "valid"),
            dilation_rate=tuple(layer.get("dilation_rate", [1, 1])), groups=layer.get("groups", 1),
            use_bias=layer.get("use_bias", True), activation=keras_activation(layer),
            name=layer["name"])
        prev = values[layer["name"]] = k(src)
        keras_layers.append(k)
    outputs = spec.get("outputs", [spec["layers"][-1]["name"]])
    return keras.Model(x, [values[o] for o in outputs]), keras_layers


def save(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def spec_text(spec):
    """The spec as JSON with one line per layer, as a person would write it."""
    lines = ["{"]
    for key, value in spec.items():
        if key == "layers":
            items = ",\n".join("    " + json.dumps(layer) for layer in value)
            lines.append(f'  "layers": [\n{items}\n  ],')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    lines[-1] = lines[-1].rstrip(",")
    return "\n".join(lines) + "\n}\n"


def make_case(index, name, shape, layers, outputs, scale):
    rng = np.random.default_rng(1000 + index)  # per-case seed: cases are independent
    case_dir = OUT / name
    case_dir.mkdir(parents=True)
    spec = {"name": name, "input": {"name": "image", "shape": [None, None, None, shape[3]]},
            "layers": [dict(layer) for layer in layers]}
    if outputs is not None:
        spec["outputs"] = outputs
    model, keras_layers = keras_model(spec)

    single = len(layers) == 1
    for layer, k in zip(spec["layers"], keras_layers):
        prefix = "" if single else layer["name"] + "_"
        kernel_shape = tuple(k.kernel.shape)  # (KH, KW, C_in/groups, filters)
        fan_in = kernel_shape[0] * kernel_shape[1] * kernel_shape[2]
        # Scaled by fan-in so outputs stay in the range the activation case wants.
        kernel = rng.uniform(-1, 1, kernel_shape).astype(np.float32) * np.float32(scale * 2 / np.sqrt(fan_in))
        weights = [kernel]
        save(case_dir / f"{prefix}kernel.npy", kernel)
        layer["kernel"] = {"npy": f"{prefix}kernel.npy"}
        if layer.get("use_bias", True):
            bias = rng.uniform(-0.5, 0.5, (layer["filters"],)).astype(np.float32) * np.float32(scale)
            weights.append(bias)
            save(case_dir / f"{prefix}bias.npy", bias)
            layer["bias"] = {"npy": f"{prefix}bias.npy"}
        k.set_weights(weights)

    x = rng.uniform(-1, 1, shape).astype(np.float32) * np.float32(scale)
    save(case_dir / "input.npy", x)
    ys = model(x, training=False)
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    ys = [np.asarray(y) for y in ys]
    if len(ys) == 1:
        save(case_dir / "expected.npy", ys[0])
    else:
        for i, y in enumerate(ys):
            save(case_dir / f"expected_{i}.npy", y)
    (case_dir / "spec.json").write_text(spec_text(spec))
    return [tuple(y.shape) for y in ys]


def main():
    backend = keras.backend.backend()
    backend_module = __import__(backend)  # tensorflow, or jax as the fallback
    versions = f"Keras {keras.__version__} ({backend} backend, {backend} {backend_module.__version__})"
    versions += f", NumPy {np.__version__}, Python {sys.version.split()[0]}"
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    lines = []
    for i, (name, what, shape, layers, outputs, scale) in enumerate(CASES):
        out_shapes = make_case(i, name, shape, layers, outputs, scale)
        shapes = ", ".join(str(list(s)) for s in out_shapes)
        lines.append(f"- `{name}`: {what}; input {shape} -> {shapes}")
        print(f"{name}: {shape} -> {shapes}")
    write_readme(versions, lines)
    print(f"wrote {len(CASES)} cases to {OUT.relative_to(ROOT)} with {versions}")


def write_readme(versions, lines):
    text = f"""# Golden data from Keras

Each folder is one case: `spec.json` (convpipe's spec format, DESIGN.md; weights
as `{{"npy": ...}}` files beside it, name = the folder's name), `input.npy`
(NHWC float32) and `expected.npy` (or `expected_0.npy`, `expected_1.npy`, ...
one per spec output, in order): what a real Keras model built from the same
spec, with the same weights set through `set_weights`, computes on that input.
`tests/test_reference.cpp` pins the C++ reference (`tests/reference/`) to these
numbers; every other test is checked against that reference.

Made with `scripts/make_golden.sh` (a scratch virtual environment under
`.deps/golden-venv`, then `scripts/make_golden.py`, seeded, so a rerun rewrites
the same data) using {versions}, on the CPU.

Keras 3 semantics worth knowing (checked against this version):
- `leaky_relu` as an activation string uses `negative_slope=0.2` (Keras 2's
  `LeakyReLU` layer defaulted to 0.3); the spec's `"alpha"` is passed as
  `negative_slope`.
- `hard_sigmoid` is `relu6(x + 3) / 6` (Keras 2 used `0.2 * x + 0.5` clipped;
  `keras.ops.hard_sigmoid`'s docstring still says so, but the code is the new one).
- `gelu` as an activation string is the exact erf form (`approximate=False`).
- `abs` is not a Keras activation string: its case uses `keras.ops.abs`.
- `swish` and `silu` are the same function, `x * sigmoid(x)`.

Cases:
""" + "\n".join(lines) + "\n"
    (OUT / "README.md").write_text(text)


if __name__ == "__main__":
    main()
