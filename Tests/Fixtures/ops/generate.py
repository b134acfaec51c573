#!/usr/bin/python3
"""PyTorch reference values for the Torch layer's op tests (Tests/TorchTests/Ops*.swift).

Regenerate (from the repository root) with Debian's python3, whose torch 1.13 matches the
libtorch the package links:

    /usr/bin/python3 Tests/Fixtures/ops/generate.py

It writes Tests/Fixtures/ops/ops.safetensors. Output is deterministic (seeded inputs, one
thread, sorted keys), so regenerating an unchanged script gives identical bytes.

Naming: `<area>.<case>` is a result; `<area>.<case>.<role>` an input or extra output.
Gradient cases (`grad.<case>`) store their inputs as `grad.<case>.in.<name>`, the output as
`grad.<case>.out`, a fixed cotangent `grad.<case>.w`, and the gradients of
`(out * w).sum()` as `grad.<case>.d.<name>`. Exception messages go to `__metadata__`.
Cases live in cases_*.py, shared state and the safetensors writer in refs.py.
"""
import os
import sys

import torch

assert sys.byteorder == "little"
torch.set_num_threads(1)

import cases_grad  # noqa: E402  (the modules share refs.RNG: import order is irrelevant, call order is not)
import cases_nn  # noqa: E402
import cases_shape  # noqa: E402
import cases_tensor  # noqa: E402
from refs import META, OUT, write_safetensors  # noqa: E402


def main():
    cases_tensor.creation()
    cases_tensor.dtypes()
    cases_tensor.half_precision()
    cases_tensor.promotion()
    cases_tensor.arithmetic()
    cases_shape.reductions()
    cases_shape.indexing()
    cases_shape.shapes()
    cases_nn.linalg()
    cases_nn.nn_functional()
    cases_nn.losses()
    cases_grad.gradients()
    cases_nn.errors()
    META["torch_version"] = torch.__version__
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.safetensors")
    write_safetensors(path, OUT, META)
    print(f"wrote {len(OUT)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
