"""Gradient references: d(out * w).sum() / d inputs for the autograd-facing ops."""
import torch
import torch.nn.functional as F

from refs import put, rand, randn


def grad_case(name, fn, wrt, **inputs):
    """Stores inputs, fn(**inputs), a cotangent w and d/d(wrt) of (fn(**inputs) * w).sum()."""
    leaves = {k: (v.clone().requires_grad_(True) if k in wrt else v) for k, v in inputs.items()}
    out = fn(**leaves)
    w = randn(*out.shape)
    (out * w).sum().backward()
    for k, v in inputs.items():
        put(f"grad.{name}.in.{k}", v)
    put(f"grad.{name}.out", out)
    put(f"grad.{name}.w", w)
    for k in wrt:
        put(f"grad.{name}.d.{k}", leaves[k].grad)


def gradients():
    grad_case("linear", lambda x, w, b: F.linear(x, w, b), ["x", "w", "b"], x=randn(2, 3, 4), w=randn(5, 4), b=randn(5))
    grad_case("matmul", lambda a, b: a @ b, ["a", "b"], a=randn(2, 3, 4), b=randn(4, 5))
    grad_case("bmm", lambda a, b: torch.bmm(a, b), ["a", "b"], a=randn(2, 3, 4), b=randn(2, 4, 2))
    grad_case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2), ["x", "w", "b"],
              x=randn(1, 4, 6, 5), w=randn(6, 2, 3, 3), b=randn(6))
    grad_case("conv2d_dil", lambda x, w: F.conv2d(x, w, None, padding=2, dilation=2), ["x", "w"],
              x=randn(2, 2, 5, 5), w=randn(3, 2, 3, 3))
    grad_case("grid_sample", lambda x, g: F.grid_sample(x, g, "bilinear", "zeros", align_corners=False),
              ["x", "g"], x=randn(1, 2, 4, 5), g=rand(1, 3, 4, 2) * 2.2 - 1.1)
    grad_case("layer_norm", lambda x, w, b: F.layer_norm(x, (6,), w, b), ["x", "w", "b"],
              x=randn(2, 3, 6), w=randn(6), b=randn(6))
    grad_case("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), ["x", "w", "b"],
              x=randn(2, 4, 3, 3), w=randn(4), b=randn(4))
    grad_case("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
              ["x", "w", "b"], x=randn(3, 2, 3, 3), w=randn(2), b=randn(2))
    grad_case("batch_norm_eval", lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=False),
              ["x", "w", "b"], x=randn(3, 2, 2, 2), w=randn(2), b=randn(2), rm=randn(2), rv=rand(2) + 0.5)
    act = randn(3, 5) * 2
    grad_case("softmax", lambda x: F.softmax(x, -1), ["x"], x=act)
    grad_case("log_softmax", lambda x: F.log_softmax(x, 1), ["x"], x=act)
    grad_case("sigmoid", lambda x: torch.sigmoid(x), ["x"], x=act)
    grad_case("gelu", lambda x: F.gelu(x), ["x"], x=act)
    grad_case("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), ["x"], x=act)
    grad_case("silu", lambda x: F.silu(x), ["x"], x=act)
    grad_case("relu", lambda x: F.relu(x), ["x"], x=act)
    grad_case("tanh", lambda x: torch.tanh(x), ["x"], x=act)
    grad_case("interp_bilinear", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False),
              ["x"], x=randn(1, 2, 3, 4))
    grad_case("interp_bilinear_ac", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True),
              ["x"], x=randn(1, 2, 3, 4))
    grad_case("interp_bilinear_aa", lambda x: F.interpolate(x, size=(3, 4), mode="bilinear", antialias=True),
              ["x"], x=randn(1, 2, 7, 9))
    grad_case("interp_nearest", lambda x: F.interpolate(x, size=(5, 7), mode="nearest"), ["x"], x=randn(1, 2, 3, 4))
    grad_case("bce_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t), ["x"],
              x=randn(4, 3) * 2, t=rand(4, 3))
    grad_case("bce_logits_weight", lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, w, reduction="sum"),
              ["x"], x=randn(4, 3) * 2, t=rand(4, 3), w=rand(3))
    grad_case("l1", lambda x, t: F.l1_loss(x, t), ["x"], x=randn(4, 3), t=randn(4, 3))
    grad_case("smooth_l1", lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), ["x"], x=randn(4, 3), t=randn(4, 3))
    grad_case("cross_entropy", lambda x, c: F.cross_entropy(x, c), ["x"], x=randn(4, 5), c=torch.tensor([1, 4, 0, 2]))
    grad_case("cdist_p1", lambda a, b: torch.cdist(a, b, p=1), ["a", "b"], a=randn(3, 4), b=randn(5, 4))
    grad_case("cdist_p2", lambda a, b: torch.cdist(a, b, p=2), ["a", "b"], a=randn(2, 3, 4), b=randn(2, 5, 4))
    grad_case("gather", lambda x, i: x.gather(1, i), ["x"], x=randn(3, 5), i=torch.tensor([[0, 4], [2, 2], [1, 3]]))
    grad_case("index_select", lambda x, i: x.index_select(0, i), ["x"], x=randn(4, 3), i=torch.tensor([2, 0, 2]))
    grad_case("masked_fill", lambda x, m: x.masked_fill(m, 0.5), ["x"], x=randn(3, 4), m=rand(3, 4) > 0.5)
    grad_case("where", lambda m, a, b: torch.where(m, a, b), ["a", "b"], m=rand(3, 4) > 0.5, a=randn(3, 4),
              b=randn(1, 4))
    grad_case("index_adv", lambda x, i: x[i], ["x"], x=randn(5, 3), i=torch.tensor([4, 1, 1]))
    grad_case("cat", lambda a, b: torch.cat([a, b], 1), ["a", "b"], a=randn(2, 3), b=randn(2, 2))
    grad_case("stack", lambda a, b: torch.stack([a, b], 1), ["a", "b"], a=randn(2, 3), b=randn(2, 3))
    grad_case("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1), ["x"], x=randn(1, 2, 5, 5))
    grad_case("avg_pool2d", lambda x: F.avg_pool2d(x, 2), ["x"], x=randn(1, 2, 4, 4))
    pos = rand(3, 4) + 0.5
    grad_case("sqrt", lambda x: torch.sqrt(x), ["x"], x=pos)
    grad_case("rsqrt", lambda x: torch.rsqrt(x), ["x"], x=pos)
    grad_case("log", lambda x: torch.log(x), ["x"], x=pos)
    grad_case("exp", lambda x: torch.exp(x), ["x"], x=randn(3, 4))
    grad_case("abs", lambda x: torch.abs(x), ["x"], x=randn(3, 4))
    grad_case("pow", lambda x: x ** 3, ["x"], x=randn(3, 4))
    grad_case("div", lambda a, b: a / b, ["a", "b"], a=randn(3, 4), b=pos)
    grad_case("clamp", lambda x: x.clamp(-0.5, 0.5), ["x"], x=randn(3, 4))
    grad_case("mean_d1", lambda x: x.mean(1), ["x"], x=randn(3, 4))
    grad_case("var_d1", lambda x: x.var(1), ["x"], x=randn(3, 4))
    grad_case("norm_d1", lambda x: x.norm(dim=1), ["x"], x=randn(3, 4))
    grad_case("logsumexp", lambda x: x.logsumexp(1), ["x"], x=randn(3, 4))
    grad_case("topk", lambda x: x.topk(2, dim=1)[0], ["x"], x=randn(3, 5))
    grad_case("sort", lambda x: x.sort(1)[0], ["x"], x=randn(3, 5))
    grad_case("expand_repeat", lambda x: x.expand(2, 3, 4).repeat(1, 2, 1), ["x"], x=randn(3, 1))
    grad_case("permute_reshape", lambda x: x.permute(2, 0, 1).reshape(4, 6), ["x"], x=randn(2, 3, 4))
    grad_case("embedding", lambda w, i: F.embedding(i, w), ["w"], w=randn(5, 3), i=torch.tensor([[0, 4], [4, 2]]))
    grad_case("pad", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), ["x"], x=randn(1, 1, 2, 3))
    grad_case("baddbmm", lambda c, a, b: torch.baddbmm(c, a, b, beta=0.5, alpha=2.0), ["c", "a", "b"],
              c=randn(2, 3, 2), a=randn(2, 3, 4), b=randn(2, 4, 2))
