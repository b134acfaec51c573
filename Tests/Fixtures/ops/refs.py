"""Shared state of the reference generator: the seeded input stream, the collected tensors
and messages, and the safetensors writer (no dependency on the safetensors package)."""
import json
import struct

import torch

OUT = {}       # name -> tensor
META = {}      # name -> string
RNG = torch.Generator().manual_seed(20240611)  # every input comes from this stream, in call order


def randn(*shape, dtype=torch.float32):
    return torch.randn(shape, generator=RNG, dtype=dtype)


def rand(*shape, dtype=torch.float32):
    return torch.rand(shape, generator=RNG, dtype=dtype)


def put(name, t):
    assert name not in OUT, name
    OUT[name] = t.detach().contiguous().clone()


def put_all(prefix, **tensors):
    for k, v in tensors.items():
        put(f"{prefix}.{k}", v)


def gen(seed):
    return torch.Generator().manual_seed(seed)


ST_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL", torch.int8: "I8",
    torch.int16: "I16",
}


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    if t.dtype == torch.bool:
        return t.to(torch.uint8).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name in sorted(tensors):
        t = tensors[name]
        data = raw_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)
