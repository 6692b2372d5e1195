#!/usr/bin/env python3
"""Captum reference outputs for tests/explain/parity_test.cpp, written to tests/data/explain/. CI never runs this;
run it by hand with the venv that has torch and captum:

    /opt/torchenv/bin/python tests/explain/make_captum_fixtures.py [--out tests/data/explain]

Models are models/export_torch.py's definitions (the engine's module names):
  lenet_captum.safetensors  LeNet (1x28x28, 10 classes) with export_torch.hashed_fill_ weights (the test
                            rebuilds them, so no weights are stored), 2 images, targets [3, 7]:
                            LayerGradCam at conv.3 (+ nearest and bilinear upsampling), IntegratedGradients
                            (zero baseline, riemann_trapezoid and gausslegendre, with deltas; n_steps
                            50 or, where 50 is ill-conditioned, the nearest that is not: metadata ig_steps),
                            Saliency, InputXGradient, Occlusion (window 1x8x8, strides 1x6x6: clipped windows).
  unet_captum.safetensors   UNet width 2, 1 input channel, 3 classes, trained for 100 Adam steps on a synthetic
                            task (class = intensity band of a smooth input; weights stored as
                            "model.<state_dict key>"), 2 images of 32x32; the
                            segmentation target of Captum's tutorial with the mask frozen from the clean
                            prediction (agg_segmentation_wrapper / out_max): for class c, the sum of the class-c
                            logits over the pixels whose clean argmax is c; c = the class with the most pixels:
                            LayerGradCam at middle and expansive_42, IntegratedGradients (as LeNet),
                            FeatureAblation (argmax segments as feature mask, perturbations_per_eval 2),
                            Saliency, InputXGradient.
Metadata records the torch and captum versions and every setting.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import export_torch  # noqa: E402

import captum  # noqa: E402
from captum.attr import (FeatureAblation, InputXGradient, IntegratedGradients, LayerAttribution,  # noqa: E402
                         LayerGradCam, Occlusion, Saliency)


class FrozenMaskSegmentation(torch.nn.Module):
    """Captum's segmentation wrapper with the argmax mask taken once from the clean input: (k*N, C) scores for a
    batch of k stacked copies of the N images (IG steps, ablation copies)."""

    def __init__(self, unet, clean_input):
        super().__init__()
        self.unet = unet
        with torch.no_grad():
            out = unet(clean_input)
        self.n = out.shape[0]
        self.register_buffer("mask", torch.zeros_like(out).scatter_(1, out.argmax(1, keepdim=True), 1.0))

    def forward(self, x):
        out = self.unet(x)
        copies = out.shape[0] // self.n
        return (out * self.mask.repeat(copies, 1, 1, 1)).sum(dim=(2, 3))


def ig_outputs(forward, x, target, prefix):
    """IntegratedGradients of both methods with the first n_steps of 50, 51, 49, 52, ... whose result is well
    conditioned: the same attribution in float64 agrees to 1e-5. Where a quadrature node falls within float32
    rounding of a ReLU kink, the float32 map depends on the CPU's summation order (seen for a UNet with
    Gauss-Legendre at 50 steps: 6e-4 between an AVX2 and an AVX-512 machine, as between float32 and float64), and
    no engine can match such a fixture on every machine. Returns the tensors and {method: n_steps}."""
    import copy
    ig = IntegratedGradients(forward)
    ig64 = IntegratedGradients(copy.deepcopy(forward).double())
    tensors, used = [], {}
    for method in ("riemann_trapezoid", "gausslegendre"):
        for steps in (50, 51, 49, 52, 48, 53):
            attr, delta = ig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=steps,
                                       method=method, return_convergence_delta=True)
            attr64 = ig64.attribute(x.double(), baselines=torch.zeros_like(x.double()), target=target,
                                    n_steps=steps, method=method)
            if ((attr.double() - attr64).abs().max() / attr64.abs().max()).item() <= 1e-5:
                break
        else:
            raise SystemExit(f"{prefix}ig_{method}: no well-conditioned n_steps near 50")
        tensors += [(f"{prefix}ig_{method}", attr), (f"{prefix}ig_{method}_delta", delta)]
        used[method] = steps
    return tensors, used


def lenet_fixture(out):
    model = export_torch.LeNet().eval()
    export_torch.hashed_fill_(model)
    torch.manual_seed(1)
    x = torch.randn(2, 1, 28, 28)
    target = [3, 7]
    tensors = [("input", x), ("output", model(x).detach())]
    cam = LayerGradCam(model, model.conv[3]).attribute(x, target=target)
    tensors += [("grad_cam_conv3", cam),
                ("grad_cam_conv3_nearest", LayerAttribution.interpolate(cam, (28, 28))),
                ("grad_cam_conv3_bilinear", F.interpolate(cam, (28, 28), mode="bilinear", align_corners=False))]
    ig_tensors, ig_steps = ig_outputs(model, x, target, "")
    tensors += ig_tensors
    tensors += [("saliency", Saliency(model).attribute(x, target=target)),
                ("input_x_gradient", InputXGradient(model).attribute(x, target=target)),
                ("occlusion", Occlusion(model).attribute(x, sliding_window_shapes=(1, 8, 8), strides=(1, 6, 6),
                                                          target=target))]
    meta = {"model_config": json.dumps({"name": "lenet"}), "weights": "export_torch.hashed_fill_",
            "targets": json.dumps(target), "ig": "zero baseline, internal_batch_size None",
            "ig_steps": json.dumps(ig_steps),
            "occlusion": "sliding_window_shapes (1, 8, 8), strides (1, 6, 6), baseline 0"}
    return tensors, meta


def unet_fixture(out):
    config = {"name": "unet", "in_channels": 1, "num_classes": 3, "width": 2}
    # A few Adam steps on a synthetic task (class = intensity band of a smooth input) so that the prediction
    # depends on the input: the frozen masks and the ablation segments are then spatially meaningful, and the
    # BatchNorm running statistics are non-trivial.
    torch.manual_seed(0)
    unet = export_torch.UNet(num_classes=3, in_channels=1, width=2)

    def smooth(n):
        return 2 * F.interpolate(torch.randn(n, 1, 8, 8), size=(32, 32), mode="bilinear", align_corners=False)

    def bands(x):
        return ((x > -0.6).long() + (x > 0.6).long()).squeeze(1)

    optimizer = torch.optim.Adam(unet.parameters(), lr=1e-2)
    for _ in range(100):
        batch = smooth(4)
        loss = F.cross_entropy(unet(batch), bands(batch))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    unet.eval()
    x = smooth(2)
    with torch.no_grad():
        pred = unet(x).argmax(1)
    counts = torch.stack([torch.bincount(p.flatten(), minlength=3) for p in pred])
    target = counts.argmax(1).tolist()  # the class with the most pixels (ties: lowest), as Target::predicted()
    wrapper = FrozenMaskSegmentation(unet, x).eval()
    tensors = [("model." + k, v) for k, v in unet.state_dict().items()]
    tensors += [("input", x), ("output", unet(x).detach()), ("segments", pred.unsqueeze(1))]
    for layer in ("middle", "expansive_42"):
        cam = LayerGradCam(wrapper, getattr(unet, layer)).attribute(x, target=target)
        tensors.append((f"grad_cam_{layer}", cam))
    middle = dict(tensors)["grad_cam_middle"]
    tensors += [("grad_cam_middle_nearest", LayerAttribution.interpolate(middle, (32, 32))),
                ("grad_cam_middle_bilinear", F.interpolate(middle, (32, 32), mode="bilinear", align_corners=False))]
    ig_tensors, ig_steps = ig_outputs(wrapper, x, target, "")
    tensors += ig_tensors
    fa = FeatureAblation(wrapper).attribute(x, target=target, feature_mask=pred.unsqueeze(1), perturbations_per_eval=2)
    tensors += [("feature_ablation", fa),
                ("saliency", Saliency(wrapper).attribute(x, target=target)),
                ("input_x_gradient", InputXGradient(wrapper).attribute(x, target=target))]
    meta = {"model_config": json.dumps(config), "training": "100 Adam steps, lr 1e-2, seed 0",
            "targets": json.dumps(target), "pixel_counts": json.dumps(counts.tolist()),
            "target_rule": "class-c logits summed over the clean argmax mask of c (frozen)",
            "ig": "zero baseline, internal_batch_size None", "ig_steps": json.dumps(ig_steps),
            "feature_ablation": "feature_mask = clean argmax (N,1,H,W), baseline 0, perturbations_per_eval 2"}
    return tensors, meta


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(HERE, "..", "data", "explain"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    common = {"torch_version": torch.__version__, "captum_version": captum.__version__,
              "generator": "tests/explain/make_captum_fixtures.py"}
    for name, build in (("lenet_captum.safetensors", lenet_fixture), ("unet_captum.safetensors", unet_fixture)):
        tensors, meta = build(args.out)
        tensors = [(k, v.detach().contiguous()) for k, v in tensors]
        path = os.path.join(args.out, name)
        export_torch.save_safetensors(path, tensors, {**common, **meta})
        print(f"{path}: {os.path.getsize(path)} bytes, captum {captum.__version__}, {meta.get('targets')}")


if __name__ == "__main__":
    sys.exit(main())
