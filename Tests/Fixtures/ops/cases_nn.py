"""Linear algebra, nn.functional ops, losses and exception messages."""
import torch
import torch.nn.functional as F

from refs import META, RNG, put, put_all, rand, randn


# ---------------------------------------------------------------- linear algebra
def linalg():
    m, n, b3, b4 = randn(3, 4), randn(4, 5), randn(2, 3, 4), randn(2, 4, 5)
    v = randn(4)
    w, bias, xl = randn(5, 4), randn(5), randn(2, 3, 4)
    put_all("linalg", m=m, n=n, b3=b3, b4=b4, v=v, w=w, bias=bias, xl=xl)
    put("linalg.mm", m @ n)
    put("linalg.bmm", torch.bmm(b3, b4))
    put("linalg.matmul_bcast", b3 @ n)
    put("linalg.matvec", m @ v)
    q4, k3 = randn(2, 1, 3, 4), randn(5, 4, 2)
    put_all("linalg", q4=q4, k3=k3)
    put("linalg.matmul_4d", q4 @ k3)
    put("linalg.linear", F.linear(xl, w, bias))
    put("linalg.linear_nobias", F.linear(xl, w))
    c0 = randn(2, 3, 5)
    put("linalg.c0", c0)
    put("linalg.baddbmm", torch.baddbmm(c0, b3, b4, beta=0.5, alpha=2.0))
    p, r = randn(2, 4, 3), randn(2, 5, 3)
    put_all("linalg", p=p, r=r)
    put("linalg.cdist_p1", torch.cdist(p, r, p=1))
    put("linalg.cdist_p2", torch.cdist(p, r, p=2))
    put("linalg.cdist_p1_2d", torch.cdist(p[0], r[1], p=1))
    put("linalg.einsum", torch.einsum("bqc,bkc->bqk", p, r))


# ---------------------------------------------------------------- nn functional
def nn_functional():
    x = randn(3, 7) * 2
    put("nn.act.x", x)
    put("nn.relu", F.relu(x))
    put("nn.gelu", F.gelu(x))
    put("nn.gelu_tanh", F.gelu(x, approximate="tanh"))
    put("nn.silu", F.silu(x))
    put("nn.sigmoid", torch.sigmoid(x))
    put("nn.tanh", torch.tanh(x))
    put("nn.leaky_relu", F.leaky_relu(x, 0.1))
    put("nn.hardsigmoid", F.hardsigmoid(x))
    put("nn.softmax_d1", F.softmax(x, 1))
    put("nn.softmax_d0", F.softmax(x, 0))
    put("nn.softmax_big", F.softmax(x * 50, -1))
    put("nn.log_softmax_d1", F.log_softmax(x, 1))
    put("nn.log_softmax_big", F.log_softmax(x * 50, -1))

    cx = randn(2, 4, 7, 6)
    put("nn.conv.x", cx)
    convs = {
        "basic": (randn(3, 4, 3, 3), randn(3), dict()),
        "s2p1": (randn(3, 4, 3, 3), randn(3), dict(stride=2, padding=1)),
        "dil2": (randn(3, 4, 3, 3), None, dict(padding=2, dilation=2)),
        "groups2": (randn(6, 2, 3, 3), randn(6), dict(padding=1, groups=2)),
        "depthwise": (randn(4, 1, 3, 3), None, dict(padding=1, groups=4)),
        "rect": (randn(5, 4, 1, 3), randn(5), dict(stride=(2, 1), padding=(0, 1))),
        "pw": (randn(2, 4, 1, 1), randn(2), dict()),
    }
    for name, (w, b, kw) in convs.items():
        put(f"nn.conv.{name}.w", w)
        if b is not None:
            put(f"nn.conv.{name}.b", b)
        put(f"nn.conv.{name}", F.conv2d(cx, w, b, **kw))

    px = randn(2, 3, 7, 8)
    put("nn.pool.x", px)
    put("nn.pool.max_k3s2p1", F.max_pool2d(px, 3, 2, 1))
    put("nn.pool.max_k2", F.max_pool2d(px, 2))
    put("nn.pool.max_ceil", F.max_pool2d(px, 3, 2, ceil_mode=True))
    put("nn.pool.max_dil2", F.max_pool2d(px, 2, 1, dilation=2))
    put("nn.pool.avg_k2", F.avg_pool2d(px, 2))
    put("nn.pool.avg_k3s1p1", F.avg_pool2d(px, 3, 1, 1))
    put("nn.pool.adaptive_3x2", F.adaptive_avg_pool2d(px, (3, 2)))
    put("nn.pool.adaptive_1x1", F.adaptive_avg_pool2d(px, 1))

    ix = randn(1, 2, 5, 7)
    put("nn.interp.x", ix)
    put("nn.interp.nearest_up", F.interpolate(ix, size=(10, 14), mode="nearest"))
    put("nn.interp.nearest_down", F.interpolate(ix, size=(3, 4), mode="nearest"))
    put("nn.interp.nearest_odd", F.interpolate(ix, size=(8, 9), mode="nearest"))
    for ac in (False, True):
        s = "ac" if ac else "noac"
        put(f"nn.interp.bilinear_up_{s}", F.interpolate(ix, size=(9, 13), mode="bilinear", align_corners=ac))
        put(f"nn.interp.bilinear_down_{s}", F.interpolate(ix, size=(3, 4), mode="bilinear", align_corners=ac))
    put("nn.interp.bilinear_aa_down", F.interpolate(ix, size=(3, 4), mode="bilinear", antialias=True))
    put("nn.interp.bilinear_aa_down_ac", F.interpolate(ix, size=(2, 3), mode="bilinear", antialias=True,
                                                       align_corners=True))
    put("nn.interp.bilinear_aa_up", F.interpolate(ix, size=(8, 11), mode="bilinear", antialias=True))
    put("nn.interp.bicubic_up", F.interpolate(ix, size=(8, 9), mode="bicubic", align_corners=False))

    gx = randn(2, 3, 5, 6)
    grid = rand(2, 4, 7, 2) * 2.4 - 1.2  # some points outside [-1, 1]
    put("nn.grid.x", gx)
    put("nn.grid.grid", grid)
    put("nn.grid.bilinear_zeros", F.grid_sample(gx, grid, "bilinear", "zeros", align_corners=False))
    put("nn.grid.bilinear_zeros_ac", F.grid_sample(gx, grid, "bilinear", "zeros", align_corners=True))
    put("nn.grid.nearest_zeros", F.grid_sample(gx, grid, "nearest", "zeros", align_corners=False))
    put("nn.grid.bilinear_border", F.grid_sample(gx, grid, "bilinear", "border", align_corners=False))
    put("nn.grid.bilinear_reflection", F.grid_sample(gx, grid, "bilinear", "reflection", align_corners=False))

    lx, lw, lb = randn(2, 3, 8), randn(8), randn(8)
    put_all("nn.ln", x=lx, w=lw, b=lb)
    put("nn.ln.affine", F.layer_norm(lx, (8,), lw, lb))
    put("nn.ln.plain_2d", F.layer_norm(lx, (3, 8), eps=1e-6))

    gnx, gnw, gnb = randn(2, 6, 3, 4), randn(6), randn(6)
    put_all("nn.gn", x=gnx, w=gnw, b=gnb)
    put("nn.gn.g3", F.group_norm(gnx, 3, gnw, gnb))
    put("nn.gn.g1", F.group_norm(gnx, 1, gnw, gnb))
    put("nn.gn.g6_plain", F.group_norm(gnx, 6, eps=1e-3))

    bx, bw, bb = randn(4, 3, 2, 5) * 2 + 1, randn(3), randn(3)
    rm0, rv0 = randn(3) * 0.1, rand(3) + 0.5
    put_all("nn.bn", x=bx, w=bw, b=bb, rm0=rm0, rv0=rv0)
    rm, rv = rm0.clone(), rv0.clone()
    put("nn.bn.train", F.batch_norm(bx, rm, rv, bw, bb, training=True, momentum=0.1))
    put("nn.bn.train.rm", rm)
    put("nn.bn.train.rv", rv)
    rm, rv = rm0.clone(), rv0.clone()
    put("nn.bn.train_m03", F.batch_norm(bx, rm, rv, bw, bb, training=True, momentum=0.3, eps=1e-3))
    put("nn.bn.train_m03.rm", rm)
    put("nn.bn.train_m03.rv", rv)
    put("nn.bn.eval", F.batch_norm(bx, rm0, rv0, bw, bb, training=False))
    put("nn.bn.train_nostats", F.batch_norm(bx, None, None, bw, bb, training=True))

    ew, ei = randn(6, 4), torch.tensor([[0, 5, 2], [2, 2, 1]])
    put_all("nn.embedding", w=ew, idx=ei)
    put("nn.embedding", F.embedding(ei, ew))
    put("nn.one_hot", F.one_hot(torch.tensor([0, 4, 2, 2]), 5))
    padx = randn(1, 2, 3, 3)
    put("nn.pad.x", padx)
    put("nn.pad", F.pad(padx, (1, 2, 0, 1), value=0.5))
    psx = randn(1, 8, 2, 3)
    put("nn.pixel_shuffle.x", psx)
    put("nn.pixel_shuffle", F.pixel_shuffle(psx, 2))


# ---------------------------------------------------------------- losses
def losses():
    logits = randn(4, 5) * 2
    hard = (rand(4, 5) > 0.5).float()
    soft = rand(4, 5)
    w = rand(5) + 0.5
    put_all("loss", logits=logits, hard=hard, soft=soft, w=w)
    put("loss.bce_logits_mean", F.binary_cross_entropy_with_logits(logits, hard))
    put("loss.bce_logits_sum", F.binary_cross_entropy_with_logits(logits, hard, reduction="sum"))
    put("loss.bce_logits_none", F.binary_cross_entropy_with_logits(logits, soft, reduction="none"))
    put("loss.bce_logits_weight", F.binary_cross_entropy_with_logits(logits, soft, weight=w))
    put("loss.bce_logits_big", F.binary_cross_entropy_with_logits(logits * 40, hard, reduction="none"))
    probs = torch.sigmoid(logits)
    put("loss.bce_mean", F.binary_cross_entropy(probs, soft))
    target = randn(4, 5)
    put("loss.target", target)
    put("loss.l1_mean", F.l1_loss(logits, target))
    put("loss.l1_sum", F.l1_loss(logits, target, reduction="sum"))
    put("loss.l1_none", F.l1_loss(logits, target, reduction="none"))
    put("loss.mse_mean", F.mse_loss(logits, target))
    put("loss.smooth_l1_b05", F.smooth_l1_loss(logits, target, beta=0.5))
    put("loss.smooth_l1_sum", F.smooth_l1_loss(logits, target, reduction="sum"))
    cls = torch.tensor([1, 4, -100, 0])
    put("loss.ce.cls", cls)
    put("loss.ce_mean", F.cross_entropy(logits, cls))
    put("loss.ce_weight", F.cross_entropy(logits, cls, weight=w))
    put("loss.ce_none", F.cross_entropy(logits, cls, reduction="none"))
    put("loss.ce_unbatched", F.cross_entropy(logits[0], cls[0]))
    l4, c4 = randn(2, 5, 3, 3), torch.randint(0, 5, (2, 3, 3), generator=RNG)
    put_all("loss.ce4d", logits=l4, cls=c4)
    put("loss.ce4d", F.cross_entropy(l4, c4))


# ---------------------------------------------------------------- error messages
def errors():
    def message(fn):
        try:
            fn()
        except RuntimeError as e:
            return str(e)
        raise AssertionError("expected a RuntimeError")
    META["error.mm"] = message(lambda: torch.ones(2, 3) @ torch.ones(4, 4))
    META["error.add"] = message(lambda: torch.ones(2, 3) + torch.ones(4))
    META["error.cat"] = message(lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)], 0))
