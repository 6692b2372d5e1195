# Captum side of bench_explain: one JSON request per line on stdin, one JSON answer per line on stdout.
#   {"kind": "init", "threads": N}         -> {"torch": version, "captum": version}
#   {"kind": "setup", "case": ..., ...}    -> loads the weights and input bench_explain wrote, builds the call
#   {"kind": "run"}                        -> {"ms": wall time of one call}
#   {"kind": "quit"}
# The models are models/export_torch.py's (the engine's module names), so bench_explain's state dicts load as is.
import json
import os
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import captum
    from captum.attr import FeatureAblation, IntegratedGradients, LayerGradCam
    from bench_common import serve
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    import export_torch
except Exception as e:  # noqa: BLE001 - any import failure means "no reference"
    print(json.dumps({"error": "import failed: %s" % e}), flush=True)
    sys.exit(0)

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]])
        array = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=8 + n + begin)
        out[name] = torch.from_numpy(array.copy()).reshape(info["shape"])
    return out


def load(c, model):
    tensors = load_safetensors(c["weights"])
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    return model.eval(), tensors["input"]


class FrozenMaskSegmentation(torch.nn.Module):
    """The segmentation tutorial's wrapper with the argmax mask computed once from the clean input."""

    def __init__(self, unet, clean_input):
        super().__init__()
        self.unet = unet
        with torch.no_grad():
            out = unet(clean_input)
        self.n = out.shape[0]
        self.mask = torch.zeros_like(out).scatter_(1, out.argmax(1, keepdim=True), 1.0)
        self.segments = out.argmax(1, keepdim=True)

    def forward(self, x):
        out = self.unet(x)
        return (out * self.mask.repeat(out.shape[0] // self.n, 1, 1, 1)).sum(dim=(2, 3))


def build_call(c):
    case = c["case"]
    if case == "gradcam_lenet":
        model, x = load(c, export_torch.LeNet())
        layer = model.get_submodule(c["layer"])
        cam = LayerGradCam(model, layer)
        return lambda: cam.attribute(x, target=c["targets"])
    unet, x = load(c, export_torch.UNet(num_classes=c["classes"], in_channels=c["in_channels"], width=c["width"]))
    wrapper = FrozenMaskSegmentation(unet, x).eval()
    if case == "gradcam_unet":
        cam = LayerGradCam(wrapper, unet.get_submodule(c["layer"]))
        return lambda: cam.attribute(x, target=c["target"])
    if case == "ig_unet":
        ig = IntegratedGradients(wrapper)
        return lambda: ig.attribute(x, target=c["target"], n_steps=c["steps"], method="gausslegendre",
                                    internal_batch_size=c["internal_batch"], return_convergence_delta=True)
    if case == "fa_unet":
        fa = FeatureAblation(wrapper)
        return lambda: fa.attribute(x, target=c["target"], feature_mask=wrapper.segments, perturbations_per_eval=2)
    raise ValueError("unknown case %r" % case)


def timed_ms(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def init(c):
    torch.set_num_threads(int(c["threads"]))
    return {"torch": torch.__version__, "captum": captum.__version__, "threads": torch.get_num_threads()}


_call = [None]


def setup(c):
    def build():
        _call[0] = None  # frees the previous case's model before building this one
        _call[0] = build_call(c)
    return {"ms": timed_ms(build)}


if __name__ == "__main__":
    serve({"init": init, "setup": setup, "run": lambda c: {"ms": timed_ms(_call[0])}})
