#!/usr/bin/python3
"""Reference values of torch.nn modules, optimizers and schedules for Tests/NNTests.

Run with Debian's Python (torch 1.13, the libtorch version the package links):

    /usr/bin/python3 Tests/Fixtures/nn/generate.py

Writes nn.safetensors beside this script. Naming, per case `<case>`:
    <case>.param.<key>   the module's state dict (PyTorch order)
    <case>.in.<name>     inputs
    <case>.out.<name>    outputs
    <case>.gw.<name>     weights w of the scalar loss sum(out * w) that is back-propagated
    <case>.grad.in.<name> / <case>.grad.param.<key>   gradients of that loss
Tensors are stored in insertion order, so key lists keep PyTorch's order.
"""
import json
import os
import struct
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn.safetensors")
tensors = OrderedDict()
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL"}


def put(name, t):
    assert name not in tensors, name
    tensors[name] = t.detach().contiguous().clone()


def write_safetensors(path, items):
    header, blobs, offset = OrderedDict(), [], 0
    for name, t in items.items():
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def put_module(case, module):
    for k, v in module.state_dict().items():
        put(f"{case}.param.{k}", v)


def run_case(case, module, inputs, forward):
    """Saves state dict, inputs, outputs and the gradients of sum(out * w) over all outputs."""
    put_module(case, module)
    leaves = {}
    for name, t in inputs.items():
        put(f"{case}.in.{name}", t)
        if t.is_floating_point():
            t = t.clone().requires_grad_(True)
            leaves[name] = t
        inputs[name] = t
    outs = forward(**inputs)
    loss = 0
    for name, o in outs.items():
        put(f"{case}.out.{name}", o)
        w = torch.randn_like(o)
        put(f"{case}.gw.{name}", w)
        loss = loss + (o * w).sum()
    module.zero_grad()
    loss.backward()
    for name, t in leaves.items():
        put(f"{case}.grad.in.{name}", t.grad)
    for k, p in module.named_parameters():
        put(f"{case}.grad.param.{k}", p.grad)


torch.manual_seed(0)

# ---- layers -----------------------------------------------------------------
lin = nn.Linear(5, 3)
run_case("linear", lin, {"x": torch.randn(2, 4, 5)}, lambda x: {"y": lin(x)})

conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
run_case("conv", conv, {"x": torch.randn(2, 4, 9, 9)}, lambda x: {"y": conv(x)})

conv_d = nn.Conv2d(3, 5, (3, 2), stride=(1, 2), padding=(2, 1), dilation=2, bias=False)
run_case("conv_dilated", conv_d, {"x": torch.randn(1, 3, 7, 8)}, lambda x: {"y": conv_d(x)})

gn = nn.GroupNorm(2, 6)
with torch.no_grad():
    gn.weight.normal_(); gn.bias.normal_()
run_case("groupnorm", gn, {"x": torch.randn(2, 6, 4, 3)}, lambda x: {"y": gn(x)})

ln = nn.LayerNorm(8)
with torch.no_grad():
    ln.weight.normal_(); ln.bias.normal_()
run_case("layernorm", ln, {"x": torch.randn(3, 5, 8) * 3 + 1}, lambda x: {"y": ln(x)})

emb = nn.Embedding(10, 4)
run_case("embedding", emb, {"idx": torch.tensor([[1, 3, 3], [9, 0, 2]])}, lambda idx: {"y": emb(idx)})


class DetrMLP(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, num_layers):
        super().__init__()
        self.num_layers = num_layers
        h = [hidden_dim] * (num_layers - 1)
        self.layers = nn.ModuleList(nn.Linear(n, k) for n, k in zip([input_dim] + h, h + [output_dim]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = F.relu(layer(x)) if i < self.num_layers - 1 else layer(x)
        return x


mlp = DetrMLP(6, 10, 4, 3)
run_case("mlp", mlp, {"x": torch.randn(2, 3, 6)}, lambda x: {"y": mlp(x)})


class FrozenBatchNorm2d(nn.Module):
    """torchvision.ops.misc.FrozenBatchNorm2d (eps 1e-5), as DETR and Salience DETR use it."""

    def __init__(self, n, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(n))
        self.register_buffer("bias", torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x):
        w, b = self.weight.reshape(1, -1, 1, 1), self.bias.reshape(1, -1, 1, 1)
        rv, rm = self.running_var.reshape(1, -1, 1, 1), self.running_mean.reshape(1, -1, 1, 1)
        scale = w * (rv + self.eps).rsqrt()
        return x * scale + (b - rm * scale)


fbn = FrozenBatchNorm2d(3)
fbn.weight.normal_(); fbn.bias.normal_(); fbn.running_mean.normal_(); fbn.running_var.uniform_(0.5, 2)
run_case("frozenbn", fbn, {"x": torch.randn(2, 3, 4, 4)}, lambda x: {"y": fbn(x)})

# BatchNorm2d: two training passes (running statistics), then evaluation.
for case, momentum in (("batchnorm", 0.1), ("batchnorm_cumulative", None)):
    bn = nn.BatchNorm2d(3, momentum=momentum)
    with torch.no_grad():
        bn.weight.normal_(); bn.bias.normal_()
    put_module(case + ".initial", bn)
    x1, x2, x3 = torch.randn(4, 3, 5, 5) * 2 + 1, torch.randn(4, 3, 5, 5), torch.randn(2, 3, 5, 5)
    put(f"{case}.in.x1", x1); put(f"{case}.in.x2", x2); put(f"{case}.in.x3", x3)
    bn.train()
    bn(x1)
    x2 = x2.clone().requires_grad_(True)
    y2 = bn(x2)
    w = torch.randn_like(y2)
    put(f"{case}.out.y2", y2); put(f"{case}.gw.y2", w)
    (y2 * w).sum().backward()
    put(f"{case}.grad.in.x2", x2.grad)
    put(f"{case}.grad.param.weight", bn.weight.grad); put(f"{case}.grad.param.bias", bn.bias.grad)
    put_module(case + ".after", bn)
    bn.eval()
    put(f"{case}.out.y3", bn(x3))

# ---- multi-head attention -------------------------------------------------------
E, H, L, S, B = 8, 2, 4, 5, 2


def mha_case(case, mha, query, key, value, same, **masks):
    inputs = {"query": query}
    if not same:
        inputs["key"] = key
        if value is not key:
            inputs["value"] = value
    for k, m in masks.items():
        put(f"{case}.in.{k}", m)

    def fwd(query, key=None, value=None):
        k_ = query if key is None else key
        v_ = k_ if value is None else value
        out, weights = mha(query, k_, v_, **masks)
        return {"y": out, "weights": weights}

    run_case(case, mha, inputs, fwd)


mha = nn.MultiheadAttention(E, H)
with torch.no_grad():
    mha.in_proj_bias.normal_(); mha.out_proj.bias.normal_()
mha.eval()
mha_case("mha_self", mha, torch.randn(L, B, E), None, None, same=True)

kpm = torch.zeros(B, S, dtype=torch.bool)
kpm[0, 4] = True
kpm[1, 1:3] = True
bool_mask = torch.zeros(L, S, dtype=torch.bool)
bool_mask[0, 0] = True
bool_mask[2, 3:] = True
mha_kv = nn.MultiheadAttention(E, H)
with torch.no_grad():
    mha_kv.in_proj_bias.normal_(); mha_kv.out_proj.bias.normal_()
mha_kv.eval()
mem = torch.randn(S, B, E)
mha_case("mha_bool_masks", mha_kv, torch.randn(L, B, E), mem, mem, same=False,
         key_padding_mask=kpm, attn_mask=bool_mask)

float_mask = torch.randn(B * H, L, S)
mha_case("mha_float_mask", mha_kv, torch.randn(L, B, E), torch.randn(S, B, E), torch.randn(S, B, E), same=False,
         key_padding_mask=kpm, attn_mask=float_mask)

mha_sep = nn.MultiheadAttention(E, H, kdim=6, vdim=7)
with torch.no_grad():
    mha_sep.in_proj_bias.normal_(); mha_sep.out_proj.bias.normal_()
mha_sep.eval()
mha_case("mha_kdim_vdim", mha_sep, torch.randn(L, B, E), torch.randn(S, B, 6), torch.randn(S, B, 7), same=False,
         key_padding_mask=kpm)


# ---- composite: state-dict names and order ---------------------------------------
class Composite(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(E, H, dim_feedforward=16, dropout=0.0) for _ in range(2))
        self.downsample = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.head = DetrMLP(E, 16, 4, 2)
        self.frozen = FrozenBatchNorm2d(4)
        self.alpha = nn.Parameter(torch.randn(3))
        self.register_buffer("table", torch.randn(2, 2))
        self.register_buffer("scratch", torch.zeros(1), persistent=False)


comp = Composite().eval()
put_module("composite", comp)
x = torch.randn(L, B, E)
put("composite.in.x", x)
put("composite.in.key_padding_mask", kpm[:, :L])
y = x
for layer in comp.layers:
    y = layer(y, src_key_padding_mask=kpm[:, :L])
put("composite.out.y", y)

# ---- optimizer ---------------------------------------------------------------------
w1, b1, w3 = torch.randn(3, 4), torch.randn(3), torch.randn(2, 3)
X, Y = torch.randn(5, 4), torch.randn(5, 2)
for n, t in (("w1", w1), ("b1", b1), ("w3", w3), ("X", X), ("Y", Y)):
    put(f"adamw.in.{n}", t)
params = [t.clone().requires_grad_(True) for t in (w1, b1, w3)]
opt = torch.optim.AdamW([{"params": params[:2], "lr": 1e-2, "weight_decay": 1e-2},
                         {"params": params[2:], "lr": 5e-3, "weight_decay": 0.0}], betas=(0.9, 0.99), eps=1e-6)
for step in range(1, 6):
    opt.zero_grad()
    loss = (((X @ params[0].T + params[1]).tanh() @ params[2].T - Y) ** 2).mean()
    loss.backward()
    opt.step()
    for n, p in zip(("w1", "b1", "w3"), params):
        put(f"adamw.step{step}.{n}", p)

# clip_grad_norm_: once clipping, once not.
for case, max_norm in (("clip", 0.5), ("noclip", 100.0)):
    ps = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
    for i, p in enumerate(ps):
        p.grad = torch.randn_like(p)
        put(f"{case}.in.g{i}", p.grad)
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    put(f"{case}.out.total", total.reshape(1))
    for i, p in enumerate(ps):
        put(f"{case}.out.g{i}", p.grad)


# ---- learning-rate schedules (lr after each of 0..n-1 scheduler.step() calls) ----
def lrs(make, n, base=0.1):
    o = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=base)
    s = make(o)
    out = []
    for _ in range(n):
        out.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    return torch.tensor(out, dtype=torch.float64)


put("sched.step", lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.1), 10))
put("sched.multistep", lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 5], gamma=0.5), 9))
put("sched.linear", lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.001, total_iters=5), 9))

write_safetensors(OUT, tensors)
print(f"wrote {len(tensors)} tensors, {os.path.getsize(OUT)} bytes to {OUT}")
