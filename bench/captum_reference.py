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


def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import numpy as np
    import torch
    import captum
    from captum.attr import FeatureAblation, IntegratedGradients, LayerGradCam
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    import export_torch
except Exception as e:  # noqa: BLE001 - any import failure means "no reference"
    answer({"error": "import failed: %s" % e})
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


def setup(c):
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


def main():
    call = None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            c = json.loads(line)
            kind = c["kind"]
            if kind == "init":
                torch.set_num_threads(int(c["threads"]))
                answer({"torch": torch.__version__, "captum": captum.__version__, "threads": torch.get_num_threads()})
            elif kind == "setup":
                t0 = time.perf_counter()
                call = None
                call = setup(c)
                answer({"ms": (time.perf_counter() - t0) * 1e3})
            elif kind == "run":
                t0 = time.perf_counter()
                call()
                answer({"ms": (time.perf_counter() - t0) * 1e3})
            elif kind == "quit":
                return
            else:
                answer({"error": "unknown request kind %r" % kind})
        except Exception as e:  # noqa: BLE001 - report and keep serving
            answer({"error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    main()
