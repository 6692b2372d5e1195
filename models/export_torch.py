#!/usr/bin/env python3
"""PyTorch side of the model zoo: the seed notebook's UNet, the Grad-CAM tutorial's LeNet and FCN-32s defined
with the engine's module names (VGG comes from torchvision), safetensors export of their state_dicts, and the
fixtures under tests/data/models/ that the engine's tests compare against. CI never runs this; run it with a
Python that has torch and torchvision (e.g. /opt/torchenv/bin/python):

    python models/export_torch.py fixtures [--out tests/data/models]
    python models/export_torch.py weights unet out.safetensors --width 16 --in-channels 1 --num-classes 2
    python models/export_torch.py weights vgg16 vgg16.safetensors     # torchvision's layout, random init
    python models/export_torch.py weights lenet lenet.safetensors --from-state-dict trained.pt

The safetensors files are written by hand (json + struct), so the `safetensors` package is not needed.
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn

# torchvision is imported where VGG and FCN-32s need it, so that bench/ can import the UNet and LeNet with torch
# alone.

# ---------------------------------------------------------------------------------------------- models


class UNet(nn.Module):
    """The seed notebook's UNet, with a width (64 in the notebook) and an input channel count."""

    def __init__(self, num_classes=10, in_channels=3, width=64):
        super().__init__()
        w = width
        self.num_classes = num_classes
        self.contracting_11 = self.conv_block(in_channels=in_channels, out_channels=w)
        self.contracting_12 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.contracting_21 = self.conv_block(in_channels=w, out_channels=2 * w)
        self.contracting_22 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.contracting_31 = self.conv_block(in_channels=2 * w, out_channels=4 * w)
        self.contracting_32 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.contracting_41 = self.conv_block(in_channels=4 * w, out_channels=8 * w)
        self.contracting_42 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.middle = self.conv_block(in_channels=8 * w, out_channels=16 * w)
        self.expansive_11 = nn.ConvTranspose2d(16 * w, 8 * w, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.expansive_12 = self.conv_block(in_channels=16 * w, out_channels=8 * w)
        self.expansive_21 = nn.ConvTranspose2d(8 * w, 4 * w, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.expansive_22 = self.conv_block(in_channels=8 * w, out_channels=4 * w)
        self.expansive_31 = nn.ConvTranspose2d(4 * w, 2 * w, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.expansive_32 = self.conv_block(in_channels=4 * w, out_channels=2 * w)
        self.expansive_41 = nn.ConvTranspose2d(2 * w, w, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.expansive_42 = self.conv_block(in_channels=2 * w, out_channels=w)
        self.output = nn.Conv2d(in_channels=w, out_channels=num_classes, kernel_size=3, stride=1, padding=1)

    def conv_block(self, in_channels, out_channels):
        return nn.Sequential(
            nn.Conv2d(in_channels=in_channels, out_channels=out_channels, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(num_features=out_channels),
            nn.Conv2d(in_channels=out_channels, out_channels=out_channels, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(num_features=out_channels))

    def forward(self, X):
        contracting_11_out = self.contracting_11(X)
        contracting_12_out = self.contracting_12(contracting_11_out)
        contracting_21_out = self.contracting_21(contracting_12_out)
        contracting_22_out = self.contracting_22(contracting_21_out)
        contracting_31_out = self.contracting_31(contracting_22_out)
        contracting_32_out = self.contracting_32(contracting_31_out)
        contracting_41_out = self.contracting_41(contracting_32_out)
        contracting_42_out = self.contracting_42(contracting_41_out)
        middle_out = self.middle(contracting_42_out)
        expansive_11_out = self.expansive_11(middle_out)
        expansive_12_out = self.expansive_12(torch.cat((expansive_11_out, contracting_41_out), dim=1))
        expansive_21_out = self.expansive_21(expansive_12_out)
        expansive_22_out = self.expansive_22(torch.cat((expansive_21_out, contracting_31_out), dim=1))
        expansive_31_out = self.expansive_31(expansive_22_out)
        expansive_32_out = self.expansive_32(torch.cat((expansive_31_out, contracting_21_out), dim=1))
        expansive_41_out = self.expansive_41(expansive_32_out)
        expansive_42_out = self.expansive_42(torch.cat((expansive_41_out, contracting_11_out), dim=1))
        return self.output(expansive_42_out)


class LeNet(nn.Module):
    """The Grad-CAM tutorial's LeNet (28x28 inputs)."""

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                                  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.fc = nn.Sequential(nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                nn.Linear(84, num_classes))

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class FCN32s(nn.Module):
    """FCN-32s on torchvision's VGG-16 features, laid out as models/fcn.h."""

    def __init__(self, num_classes=21, in_channels=3, head_width=4096, dropout=0.5):
        super().__init__()
        import torchvision

        self.features = torchvision.models.vgg16(weights=None).features
        if in_channels != 3:
            self.features[0] = nn.Conv2d(in_channels, 64, kernel_size=3, padding=1)
        self.fc6 = nn.Sequential(nn.Conv2d(512, head_width, 7, padding=3), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.fc7 = nn.Sequential(nn.Conv2d(head_width, head_width, 1), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.score = nn.Conv2d(head_width, num_classes, 1)
        self.upscore = nn.ConvTranspose2d(num_classes, num_classes, 64, stride=32, padding=16, bias=False)

    def forward(self, x):
        h = self.upscore(self.score(self.fc7(self.fc6(self.features(x)))))
        if h.shape[-2:] != x.shape[-2:]:
            h = nn.functional.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return h


def vgg(name, num_classes=1000, in_channels=3, pool_size=7, classifier_width=4096, dropout=0.5):
    """torchvision's VGG, with models/vgg.h's options applied by replacing avgpool and classifier."""
    import torchvision

    model = getattr(torchvision.models, name)(weights=None, num_classes=num_classes, dropout=dropout)
    if in_channels != 3:
        model.features[0] = nn.Conv2d(in_channels, 64, kernel_size=3, padding=1)
    if pool_size != 7 or classifier_width != 4096:
        model.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        model.classifier = nn.Sequential(
            nn.Linear(512 * pool_size * pool_size, classifier_width), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(classifier_width, classifier_width), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(classifier_width, num_classes))
    return model


def build(config):
    """A model from an engine ModelConfig dict (models/model.h), with the engine's defaults."""
    name = config["name"]
    classes = config.get("num_classes")
    if name == "unet":
        return UNet(classes or 10, config.get("in_channels", 3), config.get("width", 64))
    if name == "lenet":
        return LeNet(classes or 10, config.get("in_channels", 1))
    if name == "fcn32s":
        return FCN32s(classes or 21, config.get("in_channels", 3), config.get("head_width", 4096),
                      config.get("dropout", 0.5))
    if name.startswith("vgg"):
        return vgg(name, classes or 1000, config.get("in_channels", 3), config.get("pool_size", 7),
                   config.get("classifier_width", 4096), config.get("dropout", 0.5))
    raise SystemExit(f"unknown model {name}")


# ---------------------------------------------------------------------------------------------- safetensors

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8",
          torch.bool: "BOOL"}


def save_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor) in file order."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        data = t.numpy().tobytes() if t.dtype != torch.bool else t.to(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------- fixtures


def hashed_fill_(model):
    """Deterministic weights the C++ test reproduces bit for bit (tests/models/torch_parity_test.cpp): tensor k of
    the state dict (in order), element i: u = ((i * 2654435761 + (k + 1) * 40503) mod 2^32) / 2^32 and value
    (2u - 1) / sqrt(numel / size(0)) for tensors with 2+ dims, (2u - 1) * 0.1 for 1-D ones, in float64, then
    rounded to float32. Integer buffers are left alone."""
    with torch.no_grad():
        for k, (name, t) in enumerate(model.state_dict().items()):
            if not t.is_floating_point():
                continue
            i = torch.arange(t.numel(), dtype=torch.int64)
            h = (i * 2654435761 + (k + 1) * 40503) % (2 ** 32)
            u = h.double() / 2.0 ** 32
            bound = 1.0 / math.sqrt(t.numel() / t.shape[0]) if t.dim() >= 2 else 0.1
            t.copy_(((2.0 * u - 1.0) * bound).float().view(t.shape))


def names_and_shapes(model):
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


def export_fixtures(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)

    # Names and shapes of every model's state_dict, with the config the engine builds it from. VGGs and FCN use
    # reduced classifier/head widths (the names are the same; features shapes are torchvision's).
    configs = [{"name": "unet"}, {"name": "unet", "in_channels": 1, "num_classes": 2, "width": 16},
               {"name": "lenet"}, {"name": "fcn32s", "num_classes": 5, "head_width": 64}]
    for depth in (11, 13, 16, 19):
        for bn in ("", "_bn"):
            configs.append({"name": f"vgg{depth}{bn}", "num_classes": 10, "pool_size": 1, "classifier_width": 64})
    configs.append({"name": "vgg16", "num_classes": 7, "in_channels": 1, "pool_size": 2, "classifier_width": 32})
    entries = []
    for config in configs:
        with torch.device("meta"):
            model = build(config)
        entries.append({"config": config, "state_dict": names_and_shapes(model),
                        "num_parameters": sum(p.numel() for p in model.parameters()),
                        "modules": [n for n, _ in model.named_modules() if n]})
    with open(os.path.join(out, "model_names.json"), "w") as f:
        json.dump(entries, f, separators=(",", ":"))

    # LeNet: hashed weights, a batch of 2 inputs, eval logits and d(logits[:, 3].sum())/dx.
    lenet = LeNet().eval()
    hashed_fill_(lenet)
    x = torch.randn(2, 1, 28, 28)
    x.requires_grad_(True)
    logits = lenet(x)
    (grad,) = torch.autograd.grad(logits[:, 3].sum(), x)
    save_safetensors(os.path.join(out, "lenet_io.safetensors"),
                     [("input", x), ("output", logits), ("input_grad", grad)],
                     {"model_config": json.dumps({"name": "lenet"}), "weights": "hashed_fill_"})

    # UNet width 2, 3 input channels, 3 classes: PyTorch's own init, BatchNorm statistics made non-trivial,
    # exported as a plain state_dict file; then eval and train-mode outputs and the running statistics after
    # the train-mode forward.
    unet = UNet(num_classes=3, in_channels=3, width=2)
    with torch.no_grad():
        for m in unet.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.num_batches_tracked.fill_(7)
    save_safetensors(os.path.join(out, "unet_w2.safetensors"), list(unet.state_dict().items()),
                     {"model_config": json.dumps({"name": "unet", "in_channels": 3, "num_classes": 3, "width": 2})})
    x = torch.randn(1, 3, 32, 32)
    unet.eval()
    with torch.no_grad():
        eval_out = unet(x)
    unet.train()
    with torch.no_grad():
        train_out = unet(x)
    io = [("input", x), ("eval_output", eval_out), ("train_output", train_out)]
    io += [("after_train." + k, v) for k, v in unet.state_dict().items()
           if k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    save_safetensors(os.path.join(out, "unet_w2_io.safetensors"), io)

    # Learning-rate schedules, optimizer trajectories and clip_grad_norm_ from torch itself.
    with open(os.path.join(out, "torch_reference.json"), "w") as f:
        json.dump({"schedules": schedules(), "optimizers": optimizer_traces(), "clip": clip_cases()}, f, indent=1)
    for name in sorted(os.listdir(out)):
        print(f"{os.path.join(out, name)}: {os.path.getsize(os.path.join(out, name))} bytes")


def schedules():
    def run(make, epochs):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        lrs = []
        for _ in range(epochs):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return lrs

    S = torch.optim.lr_scheduler
    return [
        {"kind": "step", "base_lr": 0.1, "step_size": 3, "gamma": 0.5,
         "lrs": run(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12)},
        {"kind": "cosine", "base_lr": 0.1, "t_max": 10, "eta_min": 1e-4, "warmup": 0, "start_factor": 1.0,
         "lrs": run(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-4), 25)},
        {"kind": "cosine", "base_lr": 0.1, "t_max": 7, "eta_min": 0.0, "warmup": 3, "start_factor": 0.1,
         "lrs": run(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=3),
                                                  S.CosineAnnealingLR(o, T_max=7)], milestones=[3]), 15)},
    ]


def optimizer_traces():
    start = [0.5, -1.0, 2.0, 0.0, -0.25]
    grads = [[0.1, -0.2, 0.3, -0.4, 0.5], [-0.3, 0.1, 0.2, 0.05, -0.6], [0.2, 0.2, -0.1, 0.3, 0.0],
             [0.0, -0.5, 0.4, 0.1, 0.2]]
    cases = [("sgd", {"lr": 0.1}), ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
             ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
             ("adam", {"lr": 0.01}), ("adam", {"lr": 0.01, "betas": [0.8, 0.99], "weight_decay": 0.1, "amsgrad": True}),
             ("adamw", {"lr": 0.01}), ("adamw", {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True, "eps": 1e-6})]
    out = []
    for kind, options in cases:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
        opt = cls([p], **options)
        trace = []
        for g in grads:
            p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            trace.append(p.detach().tolist())
        out.append({"kind": kind, "options": options, "start": start, "grads": grads, "params": trace})
    return out


def clip_cases():
    grads = [[[0.5, -1.5], [2.0, 0.25]], [[3.0, -0.75, 0.1]], [[-4.0]]]
    out = []
    for norm_type, max_norm in ((2.0, 1.0), (1.0, 2.5), (float("inf"), 1.0), (3.0, 0.5), (2.0, 100.0)):
        params = [torch.zeros(torch.tensor(g).shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        out.append({"norm_type": "inf" if math.isinf(norm_type) else norm_type, "max_norm": max_norm,
                    "grads": grads, "total": total.item(), "clipped": [p.grad.tolist() for p in params]})
    return out


# ---------------------------------------------------------------------------------------------- weights


def export_weights(args):
    config = {"name": args.model}
    for key in ("in_channels", "num_classes", "width", "pool_size", "classifier_width", "head_width"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    model = build(config)
    if args.from_state_dict:
        model.load_state_dict(torch.load(args.from_state_dict, map_location="cpu"))
    save_safetensors(args.out, list(model.state_dict().items()), {"model_config": json.dumps(config)})
    print(f"wrote {args.out}: {len(model.state_dict())} tensors")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fixtures = sub.add_parser("fixtures", help="write the test fixtures")
    fixtures.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                        "data", "models"))
    weights = sub.add_parser("weights", help="export one model's state_dict")
    weights.add_argument("model")
    weights.add_argument("out")
    for key in ("in_channels", "num_classes", "width", "pool_size", "classifier_width", "head_width"):
        weights.add_argument("--" + key.replace("_", "-"), dest=key, type=int)
    weights.add_argument("--from-state-dict", help="a torch.save()d state_dict to export instead of fresh weights")
    args = parser.parse_args()
    if args.command == "fixtures":
        export_fixtures(os.path.normpath(args.out))
    else:
        export_weights(args)


if __name__ == "__main__":
    sys.exit(main())
