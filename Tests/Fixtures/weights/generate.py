#!/usr/bin/python3
"""Writes the small PyTorch files of the weight-file tests and what they must load as.

Run with Debian's interpreter, which has torch 1.13 (a pyenv `python3` may lack torch):

    /usr/bin/python3 Tests/Fixtures/weights/generate.py

Outputs (beside this script):
  tensors_zip.pth, tensors_legacy.pth      an OrderedDict state dict, zip and legacy format
  tensors_zip64.pth                        tensors_zip.pth rewritten with ZIP64 records
  checkpoint_zip.pth, checkpoint_legacy.pth  a training checkpoint {"model", "optimizer", "args", ...}
  expected.json                            per file: tensors (name, dtype, shape, values, sha256)
                                           and the summaries of the other checkpoint entries
  pickles.json                             plain pickles of Python values at protocols 0-5
                                           with a canonical rendering of each value
  bad_*.pth                                damaged files that must be refused with an error
"""
import argparse
import collections
import hashlib
import json
import os
import pickle
import struct
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def state_dict():
    """Every storage dtype, parameters, views with offsets and strides, tied storages."""
    g = torch.Generator().manual_seed(0)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
    sd = collections.OrderedDict()
    sd["float32"] = torch.randn(2, 3, generator=g)
    sd["float16"] = torch.randn(3, 2, generator=g).half()
    sd["bfloat16"] = torch.randn(5, generator=g).bfloat16()
    sd["float64"] = torch.randn(2, 2, generator=g, dtype=torch.float64)
    sd["int64"] = torch.arange(-3, 4)
    sd["int32"] = torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32)
    sd["int16"] = torch.tensor([-32768, 7, 32767], dtype=torch.int16)
    sd["int8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))
    sd["half_param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g).half(), requires_grad=False)
    # Views of one storage: offsets, non-contiguous strides, a transpose, tied keys.
    sd["base"] = base
    sd["tied"] = base
    sd["view_offset"] = base[1:, ::2]
    sd["view_t"] = base.t()
    sd["row"] = base[2]
    sd["expanded"] = torch.arange(3.0).expand(2, 3)
    sd["half_view"] = sd["float16"].t()[1]
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


def checkpoint():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(5, 4)).sum().backward()
    opt.step()
    args = argparse.Namespace(lr=0.0001, backbone="resnet50", dilation=False, lr_drop=40,
                              milestones=[10, 20], frozen_weights=None)
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "args": args,
        "epoch": 12,
        "name": "tiny",
        "milestones": [10, 20],
        "best": 0.5,
        "empty": None,
        "flags": {1, 2},
        "blob": b"xy",
        "big": 2**70,
    }


def summary(v):
    """The same short description as PickleValue.summary in Swift."""
    def count(n, noun):
        if n == 1:
            return f"1 {noun}"
        return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"
    if v is None:
        return "None"
    if isinstance(v, bool):
        return f"bool {v}"
    if isinstance(v, int):
        return f"int {v}" if -2**63 <= v < 2**63 else f"int ({((v.bit_length() + 8) // 8) * 8}-bit)"
    if isinstance(v, float):
        return f"float {v!r}"
    if isinstance(v, str):
        return f"str '{v}'"
    if isinstance(v, bytes):
        return f"bytes ({len(v)})"
    if isinstance(v, list):
        return f"list with {count(len(v), 'item')}"
    if isinstance(v, tuple):
        return f"tuple with {count(len(v), 'item')}"
    if isinstance(v, (set, frozenset)):
        return f"{type(v).__name__} with {count(len(v), 'item')}"
    if isinstance(v, dict):
        kind = "OrderedDict" if isinstance(v, collections.OrderedDict) else "dict"
        return f"{kind} with {count(len(v), 'entry')}"
    if isinstance(v, argparse.Namespace):
        return f"argparse.Namespace with {count(len(vars(v)), 'attribute')}"
    raise TypeError(type(v))


def describe(t):
    t = t.detach().contiguous()
    raw = t.reshape(-1).view(torch.uint8) if t.dtype != torch.bool else t.reshape(-1).to(torch.uint8)
    values = t.reshape(-1).tolist()
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "values": [int(v) if isinstance(v, bool) else v for v in values],
        "sha256": hashlib.sha256(bytes(raw.tolist())).hexdigest(),
    }


def expectation(obj, fmt):
    if "model" in obj:
        sd, key = obj["model"], "model"
        others = [{"key": k, "summary": summary(v) if k != "optimizer" else "dict with 2 entries"}
                  for k, v in obj.items() if k != "model"]
    else:
        sd, key, others = obj, None, []
    tensors = [dict(name=k, **describe(v)) for k, v in sd.items()]
    return {"format": fmt, "state_dict_key": key, "tensors": tensors, "other": others}


def to_zip64(src, dst):
    """Rewrites a stored zip archive with ZIP64 sizes and offsets everywhere, as torch does for big files."""
    with zipfile.ZipFile(src) as z:
        records = [(info, z.read(info.filename)) for info in z.infolist()]
    out = bytearray()
    central = bytearray()
    for info, data in records:
        name = info.filename.encode()
        offset = len(out)
        crc = zipfile.crc32(data)
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(name), len(local_extra)) + name + local_extra + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0,
                               0xFFFFFFFF) + name + extra
    cd_offset = len(out)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(records), len(records),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(dst, "wb") as f:
        f.write(out)
    with zipfile.ZipFile(dst) as z:
        assert z.testzip() is None


def canon(v):
    """A canonical rendering, mirrored by the Swift tests over PickleValue."""
    if v is None or isinstance(v, bool):
        return repr(v)
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return "'" + v + "'"
    if isinstance(v, bytes):
        return "b:" + v.hex()
    if isinstance(v, collections.OrderedDict):
        return "OrderedDict{" + ", ".join(f"{canon(k)}: {canon(x)}" for k, x in v.items()) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{canon(k)}: {canon(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(canon(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(canon(x) for x in v) + ")"
    if isinstance(v, (set, frozenset)):
        return type(v).__name__ + "{" + ", ".join(canon(x) for x in v) + "}"
    raise TypeError(type(v))


def pickles():
    shared = [1, "s"]
    values = {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**63 - 1, -2**63],
        "big_ints": [2**64, -2**70, 2**63],
        "floats": [0.5, -2.25, 1e-05, 1e+100, 123456.789],
        "strings": ["", "abc", "\u00fcn\u00efc\u00f6d\u00e9 \u2713", "a" * 300, "back\\slash\nnewline"],
        "bytes": [b"", b"\x00\xff", b"x" * 300],
        "constants": [None, True, False],
        "lists": [1, [2, 3], [], [[[]]]],
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        "dict": {"a": 1, "b": [1, 2], "c": {"d": None}, 7: "int key"},
        "shared": [shared, shared, (shared,)],
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "sets": [{1, 2, 3}, frozenset({4}), set()],
        "nested": {"model": collections.OrderedDict([("w", [1.5, 2.5])]), "epoch": 3},
    }
    out = []
    for name, value in values.items():
        for protocol in range(6):
            if name == "big_ints" and protocol < 2:
                continue   # text LONG literals beyond 64 bits are not supported
            out.append({"name": name, "protocol": protocol,
                        "hex": pickle.dumps(value, protocol=protocol).hex(), "canonical": canon(value)})
    ns = argparse.Namespace(lr=0.5, name="x")
    for protocol in range(6):
        out.append({"name": "namespace", "protocol": protocol,
                    "hex": pickle.dumps(ns, protocol=protocol).hex(), "canonical": None})
    rec = []
    rec.append(rec)
    out.append({"name": "recursive", "protocol": 2, "hex": pickle.dumps(rec, protocol=2).hex(), "canonical": None})
    return out


class RawTensor:
    """Pickles as a _rebuild_tensor_v2 call with arbitrary (possibly invalid) view arguments."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


def damaged_files():
    """Files a reader must refuse: views outside their storage, compressed or big-endian archives."""
    storage = torch.arange(4.0).storage()
    views = {
        "bad_view_past_end": RawTensor(storage, 2, (3,), (1,)),
        "bad_view_negative_stride": RawTensor(storage, 3, (2,), (-1,)),
        "bad_view_overflow": RawTensor(storage, 0, (2, 2**62), (2**62, 1)),
        "bad_view_huge_expand": RawTensor(storage, 0, (2**20, 2**20), (0, 0)),
    }
    for name, view in views.items():
        torch.save({"w": view}, os.path.join(HERE, name + "_zip.pth"))
        torch.save({"w": view}, os.path.join(HERE, name + "_legacy.pth"), _use_new_zipfile_serialization=False)
    src = os.path.join(HERE, "tensors_zip.pth")
    with zipfile.ZipFile(src) as z:
        records = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(os.path.join(HERE, "bad_compressed_zip.pth"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in records:
            z.writestr(name, data)
    with zipfile.ZipFile(os.path.join(HERE, "bad_bigendian_zip.pth"), "w", zipfile.ZIP_STORED) as z:
        for name, data in records:
            z.writestr(name, data)
        z.writestr("tensors_zip/byteorder", b"big")


def main():
    sd, ckpt = state_dict(), checkpoint()
    expected = {}
    for stem, obj in (("tensors", sd), ("checkpoint", ckpt)):
        for fmt, zipped in (("zip", True), ("legacy", False)):
            name = f"{stem}_{fmt}.pth"
            torch.save(obj, os.path.join(HERE, name), _use_new_zipfile_serialization=zipped)
            expected[name] = expectation(obj, "pytorch-" + fmt)
            loaded = torch.load(os.path.join(HERE, name))
            assert list(loaded.keys()) == list(obj.keys())
    to_zip64(os.path.join(HERE, "tensors_zip.pth"), os.path.join(HERE, "tensors_zip64.pth"))
    expected["tensors_zip64.pth"] = dict(expected["tensors_zip.pth"])
    loaded = torch.load(os.path.join(HERE, "tensors_zip64.pth"))
    assert all(torch.equal(loaded[k], v) for k, v in sd.items())
    damaged_files()
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "pickles.json"), "w") as f:
        json.dump(pickles(), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
