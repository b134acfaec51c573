#!/usr/bin/env python3
"""Per-encoder-layer record of the official Salience-DETR on a fixture set made by make_fixtures.py
(issue 32: wide/strip batch), plus tie-order / formulation experiments.

    python record_encoder.py FIXTURE_MODEL_DIR [--experiments] [--tie-check] [--threads 2]
    (e.g. /tmp/fx-wide/salience_detr; needs tiny.pth and tiny_eval.safetensors there)

Rebuilds the tiny model with the official classes exactly as /work/shared/tools/make_fixtures.py does (same
hyper-parameters, imported from it; same two monkeypatches: no pretrained download, get_sine_pos_embed
num_pos_feats=32), loads tiny.pth strictly and runs the eval forward on the fixture's in.image.* pixels.
Official files are untouched: the encoder layers are observed through instance-level forward wrappers and a
proxy for the `torch` name inside models/bricks/salience_transformer.py (calls pass straight through unless an
experiment changes the tie order).

Writes beside the fixture:
  tiny_eval_encoder.safetensors   enc.layer.<k>.foreground_inds    [B, n_k] int64  (tokens of layer k)
                                  enc.layer.<k>.mc_score           [B, n_k] f32    (score_tgt.max(-1) * fg score)
                                  enc.layer.<k>.pre_attention_index[B, topk_sa] int64 (select_tgt_index, in
                                                                   n_k-local positions, official topk order)
                                  enc.layer.<k>.pre_attention_out  [B, topk_sa, C] (pre_norm output)
                                  enc.layer.<k>.self_attn_out      [B, n_k, C]     (deformable attn, pre-residual)
                                  enc.layer.<k>.output             [B, n_k, C]     (layer output, before write-back)
                                  enc.memory_pre_neck, enc.memory  (repeated, for a self-contained file)
  tiny_eval_encoder.json          per layer/image: padded tokens among n_k and among the top-k, tie groups at the
                                  top-k boundary; with --experiments: max|d| of every experiment vs the recorded run;
                                  with --tie-check: merge sort / per-level top-k with stable (and reversed) tie order
                                  vs the recorded run, per image (seed_sweep.sh runs it over seeds).
"""
import argparse
import functools
import json
import os
import sys
from collections import OrderedDict

TOOLS = os.environ.get("FIXTURE_TOOLS", "/work/shared/tools")
SALIENCE_ROOT = os.environ.get("SALIENCE_ROOT", "/work/shared/anchors/Salience-DETR")
sys.path.insert(0, TOOLS)
sys.path.insert(0, SALIENCE_ROOT)
import make_fixtures as mf  # noqa: E402  (hyper-parameters SAL / NUM_CLASSES only)

import torch  # noqa: E402
from torch import nn  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("fixdir")
ap.add_argument("--threads", type=int, default=mf.MAIN_THREADS)
ap.add_argument("--experiments", action="store_true")
ap.add_argument("--tie-check", action="store_true",
                help="merge-sort / per-level top-k tie order: stable vs as-is, per image (tie_check in the json)")
ap.add_argument("--seeds", type=int, default=10, help="random tie orders per sweep (--experiments)")
args = ap.parse_args()
torch.set_num_threads(args.threads)

import warnings  # noqa: E402
warnings.filterwarnings("ignore")
import models.backbones.resnet as rb  # noqa: E402
rb.load_checkpoint = lambda *a, **k: None
from models.backbones.resnet import ResNetBackbone  # noqa: E402
from models.bricks.misc import FrozenBatchNorm2d  # noqa: E402
from models.bricks.position_encoding import PositionEmbeddingSine  # noqa: E402
from models.bricks.post_process import PostProcess  # noqa: E402
import models.bricks.salience_transformer as st  # noqa: E402
import models.bricks.ms_deform_attn as msda  # noqa: E402
from models.bricks.salience_transformer import (SalienceTransformer, SalienceTransformerDecoder,  # noqa: E402
                                                SalienceTransformerDecoderLayer, SalienceTransformerEncoder,
                                                SalienceTransformerEncoderLayer)
from models.bricks.set_criterion import HybridSetCriterion  # noqa: E402
from models.detectors.salience_detr import SalienceCriterion, SalienceDETR  # noqa: E402
from models.matcher.hungarian_matcher import HungarianMatcher  # noqa: E402
from models.necks.channel_mapper import ChannelMapper  # noqa: E402
from models.necks.repnet import RepVGGPluXNetwork  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

SAL, E = mf.SAL, mf.SAL["embed_dim"]
st.get_sine_pos_embed = functools.partial(st.get_sine_pos_embed, num_pos_feats=E // 2)  # as the generator

sd = torch.load(os.path.join(args.fixdir, "tiny.pth"), map_location="cpu")
arch = "resnet50" if any(".conv3." in k for k in sd if k.startswith("backbone.")) else "resnet18"
ref = load_file(os.path.join(args.fixdir, "tiny_eval.safetensors"))


def build():
    torch.manual_seed(0)   # any init: every entry is overwritten by tiny.pth (strict)
    backbone = ResNetBackbone(arch, norm_layer=FrozenBatchNorm2d, return_indices=(1, 2, 3), freeze_indices=(0,),
                              layers=(1, 1, 1, 1))
    neck = ChannelMapper(in_channels=backbone.num_channels, out_channels=E, num_outs=SAL["num_levels"])
    pe = PositionEmbeddingSine(E // 2, temperature=10000, normalize=True, offset=-0.5)
    tr = SalienceTransformer(
        encoder=SalienceTransformerEncoder(
            encoder_layer=SalienceTransformerEncoderLayer(
                embed_dim=E, n_heads=SAL["num_heads"], dropout=0.0, activation=nn.ReLU(inplace=True),
                n_levels=SAL["num_levels"], n_points=SAL["num_points"], d_ffn=SAL["d_ffn"], topk_sa=SAL["topk_sa"]),
            num_layers=SAL["enc_layers"]),
        neck=RepVGGPluXNetwork(in_channels_list=neck.num_channels, out_channels_list=neck.num_channels,
                               norm_layer=nn.BatchNorm2d, activation=nn.SiLU, groups=SAL["neck_groups"]),
        decoder=SalienceTransformerDecoder(
            decoder_layer=SalienceTransformerDecoderLayer(
                embed_dim=E, n_heads=SAL["num_heads"], dropout=0.0, activation=nn.ReLU(inplace=True),
                n_levels=SAL["num_levels"], n_points=SAL["num_points"], d_ffn=SAL["d_ffn"]),
            num_layers=SAL["dec_layers"], num_classes=mf.NUM_CLASSES),
        num_classes=mf.NUM_CLASSES, num_feature_levels=SAL["num_levels"], two_stage_num_proposals=SAL["num_queries"],
        level_filter_ratio=SAL["level_filter_ratio"], layer_filter_ratio=SAL["layer_filter_ratio"])
    m = SalienceDETR(backbone=backbone, neck=neck, position_embedding=pe, transformer=tr,
                     criterion=HybridSetCriterion(mf.NUM_CLASSES, matcher=HungarianMatcher(), weight_dict={}),
                     focus_criterion=SalienceCriterion(noise_scale=0.0), postprocessor=PostProcess(
                         select_box_nums_for_evaluation=SAL["select_box_nums"]),
                     num_classes=mf.NUM_CLASSES, num_queries=SAL["num_queries"], denoising_nums=SAL["denoising_nums"],
                     aux_loss=True, min_size=SAL["min_size"], max_size=SAL["max_size"])
    m.register_buffer("_classes_", torch.zeros_like(sd["_classes_"]))
    m.load_state_dict(sd, strict=True)
    return m.eval()


model = build()
tr = model.transformer
B = len([k for k in ref if k.startswith("in.image.")])
imgs = [ref[f"in.image.{i}"] for i in range(B)]

# ------------------------------------------------------------------ instrumentation + switchable tie order
DEFAULTS = dict(enc="default", level="default", merge="default", nms="default", deform="default", noise=0.0, seed=0,
                feat="all", pos="default", pos_noise=0.0)
MODE = dict(DEFAULTS)
CTX = dict(layer=None, in_tr=False)
REC = {}
GEN = [torch.Generator()]


def tie_order(x, mode, k=None):
    """descending order of the rows of x (2-D, along dim 1) with an explicit rule among exactly equal values."""
    n = x.shape[1]
    if mode == "low":
        v, i = torch.sort(x, dim=1, descending=True, stable=True)
    elif mode == "high":
        v, i = torch.sort(x.flip(1), dim=1, descending=True, stable=True)
        i = n - 1 - i
    elif mode == "perm":
        p = torch.randperm(n, generator=GEN[0])
        v, i = torch.sort(x[:, p], dim=1, descending=True, stable=True)
        i = p[i]
    else:
        raise ValueError(mode)
    return (v, i) if k is None else (v[:, :k].contiguous(), i[:, :k].contiguous())


class TorchProxy:
    def __getattr__(self, n):
        return getattr(torch, n)

    def topk(self, x, k, dim=-1, largest=True, sorted=True):
        if CTX["layer"] is not None:
            mode = MODE["enc"]
            REC.setdefault("mc_score", {})[CTX["layer"]] = x.detach().clone()
        else:
            mode = MODE["nms"]
        if mode == "default":
            r = torch.topk(x, k, dim=dim, largest=largest, sorted=sorted)
        else:
            assert dim in (1, -1) and x.dim() == 2 and largest
            r = tie_order(x, mode, int(k))
        if CTX["layer"] is not None:
            REC.setdefault("pre_idx", {})[CTX["layer"]] = r[1].detach().clone()
        return r

    def sort(self, x, dim=-1, descending=False, **kw):
        if MODE["merge"] == "default" or not CTX["in_tr"]:
            return torch.sort(x, dim=dim, descending=descending, **kw)
        assert descending and dim in (1, -1) and x.dim() == 2
        return tie_order(x, MODE["merge"])


st.torch = TorchProxy()
_tensor_topk = torch._C.TensorBase.topk


def tensor_topk(self, k, dim=-1, largest=True, sorted=True):
    if CTX["in_tr"] and CTX["layer"] is None and MODE["level"] != "default":
        assert dim in (1, -1) and self.dim() == 2 and largest
        return tie_order(self, MODE["level"], int(k))
    return _tensor_topk(self, k, dim, largest, sorted)


torch.Tensor.topk = tensor_topk     # only the per-level selection calls Tensor.topk inside tr.forward

_msda = msda.multi_scale_deformable_attn_pytorch


def msda_switch(value, shapes, loc, w):
    if MODE["deform"] == "bilinear":      # the official code's own second formulation (used when tracing)
        g = msda.F.grid_sample
        msda.F.grid_sample = lambda im, grid, mode, padding_mode, align_corners: msda.bilinear_grid_sample(
            im, grid.contiguous(), align_corners=align_corners)
        try:
            return _msda(value, shapes, loc, w)
        finally:
            msda.F.grid_sample = g
    if MODE["deform"] == "f64":
        return _msda(value.double(), shapes, loc.double(), w.double()).float()
    return _msda(value, shapes, loc, w)


msda.multi_scale_deformable_attn_pytorch = msda_switch

_tr_fwd = tr.forward


def tr_fwd(*a, **k):
    CTX["in_tr"] = True
    try:
        return _tr_fwd(*a, **k)
    finally:
        CTX["in_tr"] = False


tr.forward = tr_fwd
_enc_fwd = tr.encoder.forward


def enc_fwd(**k):
    REC["foreground_inds"] = [x.clone() for x in k["foreground_inds"]]
    REC["mask_flatten"] = k["query_key_padding_mask"].clone()
    REC["focus_token_nums"] = k["focus_token_nums"].clone()
    out = _enc_fwd(**k)
    REC["memory_pre_neck"] = out.clone()
    return out


tr.encoder.forward = enc_fwd
_geop = tr.gen_encoder_output_proposals


def geop(memory, mask, shapes):
    REC.setdefault("geop_in", []).append(memory.clone())
    return _geop(memory, mask, shapes)


tr.gen_encoder_output_proposals = geop


def neck_hook(m, i, o):
    if MODE["noise"]:       # relative N(0,1) noise on the neck outputs, everywhere or (feat='pad') only at padding
        g = torch.Generator().manual_seed(MODE["seed"])
        out = []
        for v in o:
            nv = v * (1 + MODE["noise"] * torch.randn(v.shape, generator=g))
            if MODE["feat"] == "pad":
                nv = torch.where(LEVEL_MASKS[tuple(v.shape[-2:])][:, None], nv, v)
            out.append(nv)
        return out


model.neck.register_forward_hook(neck_hook)
LEVEL_MASKS = {tuple(ref[f"mask.{l}"].shape[-2:]): ref[f"mask.{l}"] for l in range(SAL["num_levels"])}


def pos_hook(m, i, o):
    """experiments on the sine embedding: 'f64' recomputes it in float64 (padded rows/columns have cumsum 0, so
    their argument is (0 - 0.5) / 1e-6 * 2pi ~ -3.1e6 and float32 rounding of it moves sin/cos by up to ~0.1);
    'pad_noise' multiplies it at padded positions by (1 + MODE['pos_noise'] * N(0, 1))."""
    if MODE["pos"] == "f64":
        mask = i[0].to(torch.int)
        nm = (1 - mask).double()
        y, x = nm.cumsum(1), nm.cumsum(2)
        y = (y + m.offset) / (y[:, -1:, :] + m.eps) * m.scale
        x = (x + m.offset) / (x[:, :, -1:] + m.eps) * m.scale
        px, py = x[..., None] / m.dim_tx.double(), y[..., None] / m.dim_ty.double()
        px = torch.stack((px[..., 0::2].sin(), px[..., 1::2].cos()), dim=4).flatten(3)
        py = torch.stack((py[..., 0::2].sin(), py[..., 1::2].cos()), dim=4).flatten(3)
        return torch.cat((py, px), dim=3).permute(0, 3, 1, 2).float()
    if MODE["pos"] == "pad_noise":
        g = torch.Generator().manual_seed(MODE["seed"])
        pad = i[0].bool()[:, None]
        return torch.where(pad, o * (1 + MODE["pos_noise"] * torch.randn(o.shape, generator=g)), o)


model.position_embedding.register_forward_hook(pos_hook)
for k_, layer in enumerate(tr.encoder.layers):
    def wrap(orig, k_=k_):
        def f(*a, **kw):
            CTX["layer"] = k_
            try:
                out = orig(*a, **kw)
            finally:
                CTX["layer"] = None
            REC.setdefault("output", {})[k_] = out.clone()
            return out
        return f
    layer.forward = wrap(layer.forward)
    layer.pre_norm.register_forward_hook(
        lambda m, i, o, k_=k_: REC.setdefault("pre_out", {}).__setitem__(k_, o.clone()))
    layer.self_attn.register_forward_hook(
        lambda m, i, o, k_=k_: REC.setdefault("sa_out", {}).__setitem__(k_, o.clone()))


def run(threads=None, **mode):
    MODE.clear()
    MODE.update(DEFAULTS)
    MODE.update(mode)
    GEN[0] = torch.Generator().manual_seed(MODE["seed"])
    REC.clear()
    torch.set_num_threads(threads or args.threads)
    with torch.no_grad():
        res = model([im.clone() for im in imgs])
    torch.set_num_threads(args.threads)
    out = dict(REC)
    out["memory"] = out["geop_in"][1]
    out["post"] = res
    return out


base = run()
ok = torch.equal(base["memory_pre_neck"], ref["enc.memory_pre_neck"]) and all(
    torch.equal(base["post"][i][k], ref[f"post.{i}.{k}"]) for i in range(B) for k in ("scores", "labels", "boxes"))
print(f"recorded run reproduces tiny_eval.safetensors bitwise: {ok}")
if not ok:
    raise SystemExit("not bitwise equal to tiny_eval.safetensors (run with the generator's thread count, --threads "
                     f"{mf.MAIN_THREADS}, on the machine that made the fixture)")

# ------------------------------------------------------------------ record + tie diagnostics
rec = OrderedDict()
mflat = base["mask_flatten"]
topk_sa = SAL["topk_sa"]
info = dict(arch=arch, threads=args.threads, bitwise_equal_to_tiny_eval=ok, topk_sa=topk_sa, layers=[])
for k_ in range(SAL["enc_layers"]):
    inds, mc, pidx = base["foreground_inds"][k_], base["mc_score"][k_], base["pre_idx"][k_]
    rec[f"enc.layer.{k_}.foreground_inds"] = inds
    rec[f"enc.layer.{k_}.mc_score"] = mc
    rec[f"enc.layer.{k_}.pre_attention_index"] = pidx
    rec[f"enc.layer.{k_}.pre_attention_out"] = base["pre_out"][k_]
    rec[f"enc.layer.{k_}.self_attn_out"] = base["sa_out"][k_]
    rec[f"enc.layer.{k_}.output"] = base["output"][k_]
    L = dict(layer=k_, n_k=int(inds.shape[1]), images=[])
    for b in range(B):
        pad = mflat[b][inds[b]]                     # padded flag of each of the n_k tokens
        sel_pad = pad[pidx[b]]
        v, _ = torch.sort(mc[b], descending=True)
        thr = v[topk_sa - 1]
        group = (mc[b] == thr)
        in_sel = group[pidx[b]].sum()
        # exact-tie groups among the selected tokens (value shared by >1 token of the n_k)
        sel_vals = mc[b][pidx[b]]
        tied_sel = int(sum(int((mc[b] == x).sum() > 1) for x in sel_vals))
        L["images"].append(dict(
            image=b, padded_in_n_k=int(pad.sum()), focus_token_num=int(base["focus_token_nums"][b]),
            padded_in_topk=int(sel_pad.sum()), selected_with_exactly_tied_value=tied_sel,
            boundary_value=float(thr), boundary_gap_to_next=float(v[topk_sa - 1] - v[topk_sa]),
            boundary_tie_group_size=int(group.sum()), boundary_tie_group_selected=int(in_sel),
            boundary_falls_inside_exact_tie=bool(v[topk_sa - 1] == v[topk_sa]),
            boundary_tie_group_padded=int((group & pad).sum()),
            padded_mc_score_distinct_values=int(torch.unique(mc[b][pad]).numel()) if pad.any() else 0))
    info["layers"].append(L)
rec["enc.memory_pre_neck"] = base["memory_pre_neck"]
rec["enc.memory"] = base["memory"]
rec = {k: v.contiguous() for k, v in rec.items()}
save_file(rec, os.path.join(args.fixdir, "tiny_eval_encoder.safetensors"))
os.chmod(os.path.join(args.fixdir, "tiny_eval_encoder.safetensors"), 0o644)


# ------------------------------------------------------------------ experiments
def diff(a, b):
    d = dict()
    valid = ~mflat
    dm = (a["memory_pre_neck"] - b["memory_pre_neck"]).abs()
    d["memory_pre_neck"] = float(dm.max())
    d["memory_pre_neck_valid_per_image"] = [float(dm[i][valid[i]].max()) for i in range(B)]
    d["memory"] = float((a["memory"] - b["memory"]).abs().max())
    d["post_per_image"] = [dict(scores=float((a["post"][i]["scores"] - b["post"][i]["scores"]).abs().max()),
                                boxes=float((a["post"][i]["boxes"] - b["post"][i]["boxes"]).abs().max()),
                                labels_differ=int((a["post"][i]["labels"] != b["post"][i]["labels"]).sum()))
                           for i in range(B)]
    d["foreground_inds_equal"] = all(torch.equal(x, y) for x, y in zip(a["foreground_inds"], b["foreground_inds"]))
    d["pre_attention_sets_differ_per_layer"] = [
        [int(len(set(a["pre_idx"][k][i].tolist()) ^ set(b["pre_idx"][k][i].tolist())) // 2) for i in range(B)]
        for k in range(SAL["enc_layers"])]
    return d



def fg_detail(a, b):
    """per layer / image: positions where foreground_inds differ, and whether every token involved is padded."""
    rows = []
    for k in range(SAL["enc_layers"]):
        x, y = a["foreground_inds"][k], b["foreground_inds"][k]
        per = []
        for i in range(B):
            pos = (x[i] != y[i]).nonzero().flatten()
            toks = torch.cat([x[i][pos], y[i][pos]])
            n = int(base["focus_token_nums"][i])
            sx, sy = set(x[i][:n].tolist()), set(y[i][:n].tolist())   # tokens written back by the layer
            per.append(dict(positions_differ=int(pos.numel()), only_padded=bool(mflat[i][toks].all()),
                            written_back_set_differs=sx != sy,
                            written_back_valid_set_differs={t for t in sx if not mflat[i][t]}
                            != {t for t in sy if not mflat[i][t]}))
        rows.append(per)
    return rows


def tie_check(a, b):
    """max|d| per image of memory_pre_neck / memory (all tokens, valid tokens, relative to max|base|) and of the
    post-processed detections (scores, boxes in original-image px; index-wise and nearest same-label box), plus
    fg_detail."""
    valid = ~mflat
    out = dict(images=[])
    for i in range(B):
        r = dict(image=i)
        for key in ("memory_pre_neck", "memory"):
            d = (a[key][i] - b[key][i]).abs()
            r[key] = float(d.max())
            r[key + "_valid"] = float(d[valid[i]].max())
            r[key + "_rel"] = float(d.max() / b[key][i].abs().max())
            r[key + "_valid_rel"] = float(d[valid[i]].max() / b[key][i][valid[i]].abs().max())
        r["scores"] = float((a["post"][i]["scores"] - b["post"][i]["scores"]).abs().max())
        r["boxes_px"] = float((a["post"][i]["boxes"] - b["post"][i]["boxes"]).abs().max())
        r["labels_differ"] = int((a["post"][i]["labels"] != b["post"][i]["labels"]).sum())
        # order-free: each detection's nearest same-label box of the other run (max over both directions, px);
        # the index-wise numbers above also count a swap of two near-tied scores
        pa, pb = a["post"][i], b["post"][i]
        same = pa["labels"][:, None] == pb["labels"][None, :]
        dist = (pa["boxes"][:, None] - pb["boxes"][None, :]).abs().amax(-1).masked_fill(~same, float("inf"))
        r["boxes_px_matched"] = float(torch.maximum(dist.amin(1).max(), dist.amin(0).max()))
        out["images"].append(r)
    fg = fg_detail(a, b)
    out["foreground_inds_equal"] = all(torch.equal(x, y) for x, y in zip(a["foreground_inds"], b["foreground_inds"]))
    out["foreground_inds_per_layer"] = fg
    out["foreground_inds_diff_only_padded"] = all(c["only_padded"] for L in fg for c in L)
    out["written_back_valid_set_differs"] = any(c["written_back_valid_set_differs"] for L in fg for c in L)
    return out


if args.tie_check:
    # issue 32: does the tie order of the per-level top-k / the level merge sort matter numerically?
    # low = torch.sort(..., stable=True) (ties: lower index first), high = the reverse tie order
    checks = OrderedDict([("merge_sort_stable", dict(merge="low")), ("merge_sort_ties_high", dict(merge="high")),
                          ("level_topk_stable", dict(level="low")), ("level_topk_ties_high", dict(level="high")),
                          ("level_topk+merge_sort_stable", dict(level="low", merge="low"))])
    info["tie_check_vs_recorded_run"] = OrderedDict()
    for name, m in checks.items():
        c = tie_check(run(**m), base)
        info["tie_check_vs_recorded_run"][name] = c
        print(f"{name:28s} fg_eq {c['foreground_inds_equal']} fg_diff_only_padded "
              f"{c['foreground_inds_diff_only_padded']} valid_written_back_differs "
              f"{c['written_back_valid_set_differs']}; per image pre_neck/rel/memory/memory_valid/scores/boxes_px/matched: "
              + " | ".join(f"{r['memory_pre_neck']:.3g}/{r['memory_pre_neck_rel']:.2g}/{r['memory']:.3g}/"
                           f"{r['memory_valid']:.3g}/{r['scores']:.2g}/{r['boxes_px']:.2g}/{r['boxes_px_matched']:.2g}"
                           for r in c["images"]))


if args.experiments:
    exps = OrderedDict([
        ("threads_1", dict(threads=1)),
        ("threads_2_rerun", dict()),
        ("enc_topk_ties_low_index_first", dict(enc="low")),
        ("enc_topk_ties_high_index_first", dict(enc="high")),
        ("enc_topk_ties_random_perm_seed1", dict(enc="perm", seed=1)),
        ("enc_topk_ties_random_perm_seed2", dict(enc="perm", seed=2)),
        ("level_topk_and_merge_sort_ties_high", dict(level="high", merge="high")),
        ("level_topk_and_merge_sort_ties_perm_seed1", dict(level="perm", merge="perm", seed=1)),
        ("nms_pre_topk_ties_high", dict(nms="high")),
        ("all_ties_high", dict(enc="high", level="high", merge="high", nms="high")),
        ("deform_official_bilinear_grid_sample", dict(deform="bilinear")),
        ("deform_float64", dict(deform="f64")),
        ("neck_out_x(1+1e-6*N(0,1))_seed1", dict(noise=1e-6, seed=1)),
        ("neck_out_x(1+1e-6*N(0,1))_seed2", dict(noise=1e-6, seed=2)),
        ("neck_out_x(1+1e-7*N(0,1))_seed3", dict(noise=1e-7, seed=3)),
        ("neck_out_at_padding_x(1+1e-5*N(0,1))", dict(noise=1e-5, feat="pad", seed=4)),
        ("pos_sine_in_float64", dict(pos="f64")),
        ("pos_at_padding_x(1+1e-6*N(0,1))", dict(pos="pad_noise", pos_noise=1e-6, seed=5)),
        ("pos_at_padding_x(1+1e-4*N(0,1))", dict(pos="pad_noise", pos_noise=1e-4, seed=6)),
    ])
    info["experiments_vs_recorded_run"] = OrderedDict()
    for name, m in exps.items():
        d = diff(run(**m), base)
        info["experiments_vs_recorded_run"][name] = d
        print(f"{name:48s} pre_neck {d['memory_pre_neck']:.3g} (valid/img "
              + " ".join(f"{x:.2g}" for x in d["memory_pre_neck_valid_per_image"])
              + f") memory {d['memory']:.3g} scores/img "
              + " ".join(f"{p['scores']:.2g}" for p in d["post_per_image"]) + " boxes/img "
              + " ".join(f"{p['boxes']:.2g}" for p in d["post_per_image"])
              + f" fg_eq {d['foreground_inds_equal']} preattn_set_diff {d['pre_attention_sets_differ_per_layer']}")
    # sweeps over random tie orders (one choice at a time): per image, max / median over seeds of the valid-token
    # max|d| of memory_pre_neck, and of the post-processed scores / boxes
    info["tie_order_sweeps"] = OrderedDict()
    for name, keys in (("enc_topk", ("enc",)), ("level_topk", ("level",)), ("merge_sort", ("merge",)),
                       ("level_topk+merge_sort", ("level", "merge")), ("nms_pre_topk", ("nms",))):
        rows = []
        for seed in range(1, args.seeds + 1):
            d = diff(run(seed=seed, **{k: "perm" for k in keys}), base)
            rows.append(d)
        per = []
        for i in range(B):
            v = sorted(r["memory_pre_neck_valid_per_image"][i] for r in rows)
            sc = max(r["post_per_image"][i]["scores"] for r in rows)
            bx = max(r["post_per_image"][i]["boxes"] for r in rows)
            per.append(dict(image=i, pre_neck_valid_max=v[-1], pre_neck_valid_median=v[len(v) // 2],
                            seeds_changed=sum(x > 0 for x in v), post_scores_max=sc, post_boxes_max=bx))
        info["tie_order_sweeps"][name] = dict(seeds=args.seeds, per_image=per,
                                              memory_max=max(r["memory"] for r in rows))
        print(f"sweep {name:22s} ({args.seeds} seeds) memory max {info['tie_order_sweeps'][name]['memory_max']:.3g}; "
              + "; ".join(f"img{p['image']} pre_neck(valid) max {p['pre_neck_valid_max']:.3g} median "
                          f"{p['pre_neck_valid_median']:.3g} changed {p['seeds_changed']}/{args.seeds} scores "
                          f"{p['post_scores_max']:.2g} boxes {p['post_boxes_max']:.2g}" for p in per))
json.dump(info, open(os.path.join(args.fixdir, "tiny_eval_encoder.json"), "w"), indent=1)
for L in info["layers"]:
    print(f"layer {L['layer']} n_k={L['n_k']}: " + "; ".join(
        f"img{x['image']} pad_in_nk={x['padded_in_n_k']} pad_in_topk={x['padded_in_topk']} "
        f"tie_at_boundary={x['boundary_falls_inside_exact_tie']} (group {x['boundary_tie_group_size']}, "
        f"sel {x['boundary_tie_group_selected']}, pad {x['boundary_tie_group_padded']}, gap {x['boundary_gap_to_next']:.2g})"
        for x in L["images"]))
