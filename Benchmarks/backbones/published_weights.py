"""Backbone weight files in the layouts their authors publish, and what the official backbones
compute after their own loaders read them.

For each family this writes, into --out:
  <name>.pth          random weights in the published layout: torchvision's resnet50 and
                      convnext_large state dicts, torchvision's Swin class at the Swin-L size with
                      the 21841-class head of the in22k release, Microsoft's classification FocalNet-L
                      (focal level 4, layer scale, post-LN, conv embedding) as {"model": state_dict}
  <name>.safetensors  `input` [1, 3, H, W], the official backbone's outputs `out<i>` after it loaded
                      <name>.pth through its own code path (Salience-DETR `load_checkpoint`,
                      torchvision's pretrained-weights download for Conditional DETR), and in the
                      metadata `filled`: how many tensors of the official module equal the file's.
Random weights are scaled away from their initialisation (batch-norm statistics, layer scales) so
that every loaded tensor changes the outputs.

Run with the venv of ../shared/anchors/README.md plus `pip install timm safetensors`, and a clone
of github.com/microsoft/FocalNet for its classification model:

  python Benchmarks/backbones/published_weights.py --out /tmp/published --focalnet-repo ~/FocalNet
  DETR_PUBLISHED_BACKBONES=/tmp/published swift test --filter PublishedBackboneTests

Each family runs in its own process (the two official code bases both have a `models` package).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ANCHORS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "anchors"))
FAMILIES = ["resnet", "conditional", "convnext", "swin", "focalnet"]


def scramble_(module, seed):
    """Moves norms, batch-norm statistics and layer scales away from their defaults."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "running_var":
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif leaf == "running_mean":
                t.copy_(0.1 * torch.randn(t.shape, generator=g))
            elif t.dim() == 1 and ("norm" in name or "bn" in name or "downsample.1" in name
                                   or leaf in ("layer_scale", "gamma_1", "gamma_2")):
                if leaf in ("weight", "layer_scale", "gamma_1", "gamma_2"):
                    t.copy_(0.1 + 0.4 * torch.rand(t.shape, generator=g))
                else:
                    t.copy_(0.05 * torch.randn(t.shape, generator=g))
            elif "layer_scale" in leaf:
                t.copy_(0.1 + 0.4 * torch.rand(t.shape, generator=g))


def published(family, focalnet_repo, seed):
    """The classification model whose state dict is the published file's layout."""
    import torch
    import torchvision
    torch.manual_seed(seed)
    if family in ("resnet", "conditional"):
        return torchvision.models.resnet50(), False
    if family == "convnext":
        return torchvision.models.convnext_large(), False
    if family == "swin":
        from torchvision.models.swin_transformer import SwinTransformer
        return SwinTransformer(patch_size=[4, 4], embed_dim=192, depths=[2, 2, 18, 2], num_heads=[6, 12, 24, 48],
                               window_size=[7, 7], stochastic_depth_prob=0.2, num_classes=21841), False
    sys.path.insert(0, os.path.join(focalnet_repo, "classification"))
    import focalnet as msfn
    return msfn.FocalNet(depths=[2, 2, 18, 2], embed_dim=192, focal_levels=[4] * 4, focal_windows=[3] * 4,
                         use_conv_embed=True, use_postln=True, use_layerscale=True,
                         normalize_modulator=True, num_classes=1000), True


def official(family, path):
    """The official backbone of the preset, loaded from `path` by the official code."""
    import torch
    if family == "conditional":
        sys.path.insert(0, os.path.join(ANCHORS, "ConditionalDETR"))
        import torch.nn.modules.linear as _linear
        if not hasattr(_linear, "_LinearWithBias"):
            _linear._LinearWithBias = _linear.NonDynamicallyQuantizableLinear
        sys.modules.setdefault("torch._overrides", torch.overrides)
        import torchvision.models._api as api
        api.load_state_dict_from_url = lambda url, *a, **k: torch.load(path, map_location="cpu")
        from models.backbone import Backbone
        b = Backbone("resnet50", train_backbone=True, return_interm_layers=False, dilation=False)
        return b.body, lambda x: list(b.body(x).values())
    sys.path.insert(0, os.path.join(ANCHORS, "Salience-DETR"))
    if family == "resnet":
        from models.backbones.resnet import ResNetBackbone
        from models.bricks.misc import FrozenBatchNorm2d
        b = ResNetBackbone("resnet50", weights=path, norm_layer=FrozenBatchNorm2d, return_indices=(1, 2, 3),
                           freeze_indices=(0,))
        module = b
    elif family == "convnext":
        from models.backbones.convnext import ConvNeXtBackbone
        b = ConvNeXtBackbone("conv_l", weights=path, return_indices=(1, 2, 3), freeze_indices=(0,))
        module = b
    elif family == "swin":
        from models.backbones.swin import SwinTransformerBackbone
        b = SwinTransformerBackbone("swin_l", weights=path, return_indices=(1, 2, 3), freeze_indices=(0,))
        module = b[0]
    else:
        from models.backbones.focalnet import FocalNetBackbone
        b = FocalNetBackbone("focalnet_large_lrf_fl4", weights=path, return_indices=(1, 2, 3), freeze_indices=(0,))
        module = b[0]
    return module, lambda x: list(b(x).values())


def run_family(family, out, focalnet_repo, seed, height, width):
    import torch
    from safetensors.torch import save_file
    torch.set_num_threads(2)
    model, nested = published(family, focalnet_repo, seed)
    scramble_(model, seed + 1)
    state = model.state_dict()
    name = "conditional_resnet50" if family == "conditional" else family
    path = os.path.join(out, name + ".pth")
    torch.save({"model": state} if nested else state, path)
    del model
    module, forward = official(family, path)
    module.eval()
    own = module.state_dict()
    filled = sum(1 for k, v in own.items() if k in state and state[k].shape == v.shape and torch.equal(state[k], v))
    x = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        outs = forward(x)
    tensors = {"input": x.contiguous()}
    for i, o in enumerate(outs):
        tensors[f"out{i}"] = o.contiguous()
    save_file(tensors, os.path.join(out, name + ".safetensors"),
              metadata={"filled": str(filled), "file_entries": str(len(state)), "family": family})
    print(json.dumps({"family": family, "file": path, "file_entries": len(state), "official_filled": filled,
                      "official_tensors": len(own), "outputs": [list(o.shape) for o in outs]}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--focalnet-repo", help="a clone of github.com/microsoft/FocalNet (for focalnet)")
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--height", type=int, default=224)
    p.add_argument("--width", type=int, default=288)
    p.add_argument("--part", help=argparse.SUPPRESS)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.part:
        import warnings
        warnings.filterwarnings("ignore")
        run_family(a.part, os.path.abspath(a.out), a.focalnet_repo, a.seed, a.height, a.width)
        return
    for family in a.families.split(","):
        if family == "focalnet" and not a.focalnet_repo:
            print("focalnet: skipped (no --focalnet-repo)", file=sys.stderr)
            continue
        cmd = [sys.executable, os.path.abspath(__file__), "--part", family, "--out", a.out, "--seed", str(a.seed),
               "--height", str(a.height), "--width", str(a.width)]
        if a.focalnet_repo:
            cmd += ["--focalnet-repo", a.focalnet_repo]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
