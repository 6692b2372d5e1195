#!/usr/bin/env python3
"""Generates the PyTorch golden fixtures in tests/data/golden/ (run by hand; CI only reads the files).

    python3 -m venv /opt/torchenv && /opt/torchenv/bin/pip install torch
    /opt/torchenv/bin/python tests/golden/make_golden.py [layers] [half]

Each family is one safetensors file. A case named C stores its inputs and PyTorch's outputs as tensors
"C.<role>" and its parameters as JSON in the metadata entry "C". The C++ tests (tests/golden/*_test.cpp) read
the parameters from the file, so this script is the single source of truth for what is compared.
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden")
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8",
          torch.bool: "BOOL", torch.bfloat16: "BF16", torch.float16: "F16"}


class Fixture:
    def __init__(self, name):
        self.name = name
        self.tensors = {}
        self.metadata = {}

    def case(self, case, params, **tensors):
        assert case not in self.metadata, case
        self.metadata[case] = json.dumps(params, sort_keys=True)
        for role, t in tensors.items():
            self.tensors[f"{case}.{role}"] = t.detach().contiguous().cpu()

    def write(self):
        header, blobs, offset = {"__metadata__": self.metadata}, [], 0
        for key in sorted(self.tensors):
            t = self.tensors[key]
            raw = t.view(torch.int16) if t.dtype in (torch.bfloat16, torch.float16) else t  # numpy has no bf16
            data = raw.numpy().tobytes()
            header[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
            blobs.append(data)
            offset += len(data)
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * ((8 - len(text) % 8) % 8)
        path = os.path.join(OUT, self.name + ".safetensors")
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        print(f"{path}: {len(self.metadata)} cases, {os.path.getsize(path)} bytes")


def rand(*shape, dtype=torch.float32, lo=-1.0, hi=1.0):
    return (torch.rand(*shape, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def conv_fixture():
    fx = Fixture("conv")
    configs = [  # name, N, C, H, W, O, k, stride, padding, dilation, groups, bias
        ("basic", 2, 3, 7, 9, 4, 3, 1, 1, 1, 1, True),
        ("stride2", 2, 3, 8, 7, 5, 3, 2, 0, 1, 1, True),
        ("stride2_pad1_odd", 1, 4, 9, 11, 3, 3, 2, 1, 1, 1, False),
        ("dilation2", 2, 2, 9, 9, 3, 3, 1, 2, 2, 1, True),
        ("groups2", 2, 4, 6, 6, 6, 3, 1, 1, 1, 2, True),
        ("depthwise", 1, 5, 7, 7, 5, 3, 1, 1, 1, 5, False),
        ("pointwise", 3, 8, 5, 4, 6, 1, 1, 0, 1, 1, True),
        ("lenet_k5", 2, 1, 28, 28, 6, 5, 1, 0, 1, 1, True),
        ("rect_kernel", 1, 2, 6, 10, 2, (2, 4), (1, 2), (1, 0), 1, 1, True),
    ]
    for dtype in (torch.float32, torch.float64):
        for name, n, c, h, w, o, k, s, p, d, g, bias in configs:
            kh, kw = (k, k) if isinstance(k, int) else k
            x = rand(n, c, h, w, dtype=dtype)
            wt = rand(o, c // g, kh, kw, dtype=dtype)
            b = rand(o, dtype=dtype) if bias else None
            y = F.conv2d(x, wt, b, stride=s, padding=p, dilation=d, groups=g)
            pair = lambda v: list(v) if isinstance(v, tuple) else [v, v]
            tensors = dict(x=x, w=wt, y=y)
            if bias:
                tensors["b"] = b
            fx.case(f"conv2d.{name}.{DTYPES[dtype]}", dict(stride=pair(s), padding=pair(p), dilation=pair(d),
                                                          groups=g), **tensors)
    transposed = [  # name, N, C_in, H, W, C_out, k, stride, padding, output_padding, dilation, groups, bias
        ("unet_up", 2, 4, 5, 5, 3, 3, 2, 1, 1, 1, 1, True),
        ("stride2_nopad", 1, 3, 4, 6, 2, 3, 2, 0, 0, 1, 1, True),
        ("stride1", 2, 2, 5, 4, 3, 3, 1, 1, 0, 1, 1, False),
        ("groups2", 1, 4, 4, 4, 6, 3, 2, 1, 1, 1, 2, True),
        ("dilation2", 1, 2, 5, 5, 2, 3, 1, 0, 0, 2, 1, True),
        ("k2s2", 2, 3, 3, 5, 2, 2, 2, 0, 0, 1, 1, True),
    ]
    for dtype in (torch.float32, torch.float64):
        for name, n, c, h, w, o, k, s, p, op, d, g, bias in transposed:
            x = rand(n, c, h, w, dtype=dtype)
            wt = rand(c, o // g, k, k, dtype=dtype)
            b = rand(o, dtype=dtype) if bias else None
            y = F.conv_transpose2d(x, wt, b, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
            tensors = dict(x=x, w=wt, y=y)
            if bias:
                tensors["b"] = b
            fx.case(f"conv_transpose2d.{name}.{DTYPES[dtype]}",
                    dict(stride=[s, s], padding=[p, p], output_padding=[op, op], dilation=[d, d], groups=g), **tensors)
    fx.write()


def pool_fixture():
    fx = Fixture("pool")
    max_configs = [  # name, shape, kernel, stride, padding, dilation, ceil_mode
        ("k2s2", (2, 3, 8, 8), 2, 2, 0, 1, False),
        ("k2s2_odd", (1, 2, 7, 9), 2, 2, 0, 1, False),
        ("k3s2p1", (2, 2, 9, 8), 3, 2, 1, 1, False),
        ("ceil", (1, 3, 7, 7), 2, 2, 0, 1, True),
        ("ceil_k3s2p1", (1, 2, 10, 9), 3, 2, 1, 1, True),
        ("dilation2", (1, 2, 9, 9), 3, 1, 1, 2, False),
        ("rect", (2, 1, 6, 10), (2, 3), (2, 1), (1, 1), 1, False),
    ]
    for name, shape, k, s, p, d, ceil in max_configs:
        x = rand(*shape)
        y, idx = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
        pair = lambda v: list(v) if isinstance(v, tuple) else [v, v]
        fx.case(f"max_pool2d.{name}", dict(kernel=pair(k), stride=pair(s), padding=pair(p), dilation=pair(d),
                                           ceil_mode=ceil), x=x, y=y, indices=idx)
    avg_configs = [  # name, shape, kernel, stride, padding, ceil_mode, count_include_pad
        ("k2s2", (2, 3, 8, 8), 2, 2, 0, False, True),
        ("k3s2p1_incl", (1, 2, 9, 8), 3, 2, 1, False, True),
        ("k3s2p1_excl", (1, 2, 9, 8), 3, 2, 1, False, False),
        ("ceil_incl", (1, 2, 7, 7), 3, 2, 1, True, True),
        ("ceil_excl", (1, 2, 7, 7), 3, 2, 1, True, False),
        ("k3s1", (2, 1, 5, 6), 3, 1, 0, False, True),
    ]
    for name, shape, k, s, p, ceil, incl in avg_configs:
        x = rand(*shape)
        y = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=incl)
        fx.case(f"avg_pool2d.{name}", dict(kernel=[k, k], stride=[s, s], padding=[p, p], ceil_mode=ceil,
                                           count_include_pad=incl), x=x, y=y)
    for name, shape, out in [("7x9_to_3x4", (2, 3, 7, 9), (3, 4)), ("to_1x1", (2, 4, 5, 6), (1, 1)),
                             ("up_3x3_to_5x4", (1, 2, 3, 3), (5, 4)), ("same", (1, 2, 4, 4), (4, 4))]:
        x = rand(*shape)
        fx.case(f"adaptive_avg_pool2d.{name}", dict(output=list(out)), x=x, y=F.adaptive_avg_pool2d(x, out))
    fx.write()


def batch_norm_fixture():
    fx = Fixture("batch_norm")
    for name, shape, affine in [("4d", (3, 4, 5, 6), True), ("4d_noaffine", (2, 3, 4, 4), False),
                                ("2d", (8, 5), True), ("4d_batch1", (1, 3, 5, 5), True)]:
        for dtype in (torch.float32, torch.float64):
            c = shape[1]
            x = rand(*shape, dtype=dtype, lo=-2.0, hi=3.0)
            rm0, rv0 = rand(c, dtype=dtype), rand(c, dtype=dtype, lo=0.5, hi=2.0)
            w = rand(c, dtype=dtype) if affine else None
            b = rand(c, dtype=dtype) if affine else None
            rm, rv = rm0.clone(), rv0.clone()
            y_train = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
            y_eval = F.batch_norm(x, rm0, rv0, w, b, training=False, eps=1e-5)
            tensors = dict(x=x, running_mean=rm0, running_var=rv0, y_train=y_train, running_mean_after=rm,
                           running_var_after=rv, y_eval=y_eval)
            if affine:
                tensors.update(weight=w, bias=b)
            fx.case(f"batch_norm.{name}.{DTYPES[dtype]}", dict(momentum=0.1, eps=1e-5, affine=affine), **tensors)
    fx.write()


def interpolate_fixture():
    fx = Fixture("interpolate")
    cases = [  # name, shape, size or None, scale or None, mode, align_corners
        ("nearest_up2", (1, 2, 4, 5), (8, 10), None, "nearest", None),
        ("nearest_down", (2, 1, 9, 7), (4, 3), None, "nearest", None),
        ("nearest_odd", (1, 2, 5, 5), (7, 9), None, "nearest", None),
        ("nearest_scale", (1, 1, 5, 6), None, (1.5, 2.5), "nearest", None),
        ("bilinear_up", (2, 2, 4, 5), (9, 11), None, "bilinear", False),
        ("bilinear_up_ac", (2, 2, 4, 5), (9, 11), None, "bilinear", True),
        ("bilinear_down", (1, 3, 10, 9), (4, 5), None, "bilinear", False),
        ("bilinear_down_ac", (1, 3, 10, 9), (4, 5), None, "bilinear", True),
        ("bilinear_scale", (1, 2, 5, 4), None, (2.0, 1.5), "bilinear", False),
        ("bilinear_to_1", (1, 1, 4, 4), (1, 1), None, "bilinear", True),
        ("gradcam_upsample", (2, 1, 7, 7), (28, 28), None, "bilinear", False),
    ]
    for name, shape, size, scale, mode, ac in cases:
        x = rand(*shape)
        y = F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=ac)
        fx.case(f"interpolate.{name}", dict(size=list(size) if size else None, scale=list(scale) if scale else None,
                                            mode=mode, align_corners=bool(ac)), x=x, y=y)
    fx.write()


def softmax_loss_fixture():
    fx = Fixture("softmax_loss")
    for name, shape, dim in [("rows", (4, 7), 1), ("last", (2, 3, 5), -1), ("channels", (2, 5, 3, 4), 1),
                             ("first", (3, 4), 0)]:
        x = rand(*shape, lo=-4.0, hi=4.0)
        fx.case(f"softmax.{name}", dict(dim=dim), x=x, y=F.softmax(x, dim), log_y=F.log_softmax(x, dim))
    x = torch.tensor([[1000.0, 0.0, -1000.0], [1e-3, 2e-3, 3e-3]])
    fx.case("softmax.extreme", dict(dim=1), x=x, y=F.softmax(x, 1), log_y=F.log_softmax(x, 1))

    for reduction in ("mean", "sum", "none"):
        logits = rand(6, 5, lo=-3.0, hi=3.0)
        target = torch.tensor([0, 4, 2, 2, 1, 3])
        weight = rand(5, lo=0.2, hi=2.0)
        fx.case(f"cross_entropy.plain.{reduction}", dict(reduction=reduction, ignore_index=-100),
                logits=logits, target=target, loss=F.cross_entropy(logits, target, reduction=reduction))
        fx.case(f"cross_entropy.weighted_ignore.{reduction}", dict(reduction=reduction, ignore_index=2),
                logits=logits, target=target, weight=weight,
                loss=F.cross_entropy(logits, target, weight=weight, ignore_index=2, reduction=reduction))
        seg = rand(2, 4, 5, 6, lo=-3.0, hi=3.0)
        seg_target = torch.randint(0, 4, (2, 5, 6))
        seg_target[0, 0, :3] = 255
        seg_weight = rand(4, lo=0.2, hi=2.0)
        fx.case(f"cross_entropy.spatial.{reduction}", dict(reduction=reduction, ignore_index=255),
                logits=seg, target=seg_target, weight=seg_weight,
                loss=F.cross_entropy(seg, seg_target, weight=seg_weight, ignore_index=255, reduction=reduction))
        x = rand(4, 3, lo=-5.0, hi=5.0)
        t = torch.rand(4, 3)
        pos_weight = rand(3, lo=0.5, hi=3.0)
        w = rand(4, 1, lo=0.1, hi=1.0)
        fx.case(f"bce_with_logits.{reduction}", dict(reduction=reduction), x=x, target=t, weight=w,
                pos_weight=pos_weight,
                loss=F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pos_weight, reduction=reduction))
    fx.write()


def half_fixture():
    """float32 -> bfloat16 / float16 conversion (edge cases, ties, random bit patterns) and the elementwise ops
    and reductions in each 16-bit type, as PyTorch's CPU computes them (in float, rounded once)."""
    fx = Fixture("half")
    f32 = lambda bits: torch.tensor(bits, dtype=torch.int64).to(torch.int32).view(torch.float32)
    edges = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), 65504.0, 65519.99, 65520.0, 65536.0,
             -65520.0, 2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 3 * 2.0 ** -26, 2.0 ** -26, 1e-45,
             3.4028234663852886e38, -3.4028234663852886e38, 3.3961776e38, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8,
             1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 0.1, 1.0 / 3.0, 5.9604645e-8, 6.1035156e-5, 6.0975552e-5]
    edges = torch.tensor(edges, dtype=torch.float32)
    # Random bit patterns over the whole float range (NaNs with payloads included) ...
    bits = f32(torch.randint(-2 ** 31, 2 ** 31, (8000,)).tolist())
    # ... and values exactly halfway between neighbouring bfloat16 / float16 values, and one float ulp beside.
    bf = torch.randint(0, 2 ** 16, (1500,), dtype=torch.int32)
    bf_ties = f32(((bf << 16) | 0x8000).tolist())
    hf = torch.randint(0, 2 ** 16, (1500,), dtype=torch.int32).to(torch.int16).view(torch.float16).float()
    hf = hf[torch.isfinite(hf)]
    hf_next = torch.nextafter(hf, torch.full_like(hf, float("inf"))).to(torch.float16).float()
    hf_ties = (hf + (hf_next - hf) / 2)  # exact in float32: the midpoint of two float16 neighbours
    near = torch.cat([bf_ties, hf_ties])
    near = torch.cat([near, torch.nextafter(near, torch.full_like(near, float("inf"))),
                      torch.nextafter(near, torch.full_like(near, float("-inf")))])
    x = torch.cat([edges, bits, near])
    fx.case("convert", {}, x=x, bf16=x.to(torch.bfloat16), f16=x.to(torch.float16))
    for name, dtype in (("bf16", torch.bfloat16), ("f16", torch.float16)):
        a = (torch.randn(64, 33) * 3).to(dtype)
        b = (torch.randn(64, 33) * 3).to(dtype)
        b[0, :4] = torch.tensor([0.0, float("nan"), float("inf"), -0.0]).to(dtype)
        pos = a.abs() + torch.tensor(0.01, dtype=dtype)
        big, index = a.max(dim=1)
        fx.case(f"ops_{name}", {}, a=a, b=b, pos=pos, add=a + b, sub=a - b, mul=a * b, div=a / b,
                maximum=torch.maximum(a, b), mul_scalar=a * 0.1, add_scalar=a + 1e-3, exp=a.exp(), log=pos.log(),
                sqrt=pos.sqrt(), tanh=a.tanh(), sigmoid=a.sigmoid(), relu=a.relu(), neg=-a, lt=a < b,
                sum_dim1=a.sum(dim=1), mean_all=a.mean(), max_dim1=big, argmax_dim1=index,
                var_dim0=a.var(dim=0), to_f32=a.float(), to_i64=(a * 10).to(torch.int64))
    fx.write()


def main():
    os.makedirs(OUT, exist_ok=True)
    print(f"torch {torch.__version__}", file=sys.stderr)
    wanted = sys.argv[1:] or ["layers", "half"]
    if "layers" in wanted:  # these families share one random stream, in this order
        torch.manual_seed(20261125)
        conv_fixture()
        pool_fixture()
        batch_norm_fixture()
        interpolate_fixture()
        softmax_loss_fixture()
    if "half" in wanted:
        torch.manual_seed(20261208)
        half_fixture()


if __name__ == "__main__":
    main()
