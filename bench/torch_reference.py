# PyTorch side of bench_cpu: reads one JSON case per line on stdin, times it the way bench_cpu times ours
# (warm-up, then the median of `reps` runs) and answers one JSON line on stdout. Started once per bench run.
import json
import sys

try:
    import torch
    import torch.nn.functional as F
    from bench_common import median_ms, serve
except Exception as e:  # noqa: BLE001 - any import failure means "no reference"
    print(json.dumps({"error": "import torch failed: %s" % e}), flush=True)
    sys.exit(0)


def gemm_case(c):
    m, n, k = c["m"], c["n"], c["k"]
    a = torch.rand(m, k) * 2 - 1
    # trans_b: b is the transpose of a contiguous (n, k) matrix, as in x @ weight.t().
    b = (torch.rand(n, k) * 2 - 1).t() if c.get("trans_b") else torch.rand(k, n) * 2 - 1
    with torch.no_grad():
        return median_ms(lambda: a @ b, c["warmup"], c["reps"])


def conv_case(c):
    n, ci, h, w, co = c["n"], c["c"], c["h"], c["w"], c["o"]
    kh, kw, s, p, d, g = c["kh"], c["kw"], c["stride"], c["pad"], c["dilation"], c["groups"]
    x = torch.rand(n, ci, h, w) * 2 - 1
    bias = torch.rand(co) * 2 - 1
    if c.get("transposed"):
        weight = (torch.rand(ci, co // g, kh, kw) * 2 - 1) * 0.05
        op = c.get("output_padding", 0)

        def fwd():
            return F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    else:
        weight = (torch.rand(co, ci // g, kh, kw) * 2 - 1) * 0.05

        def fwd():
            return F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d, groups=g)
    if c["mode"] == "fwd":
        with torch.no_grad():
            return median_ms(fwd, c["warmup"], c["reps"])
    x.requires_grad_(c.get("input_grad", True))
    weight.requires_grad_(True)
    bias.requires_grad_(True)
    inputs = [t for t in (x, weight, bias) if t.requires_grad]
    with torch.no_grad():
        grad_y = torch.rand_like(fwd()) * 2 - 1

    def step():
        y = fwd()
        return torch.autograd.grad(y, inputs, grad_y)
    return median_ms(step, c["warmup"], c["reps"])


def init(c):
    torch.set_num_threads(int(c["threads"]))
    torch.manual_seed(0)
    return {"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "mkldnn": bool(torch.backends.mkldnn.is_available())}


if __name__ == "__main__":
    serve({"init": init, "gemm": lambda c: {"ms": gemm_case(c)}, "conv": lambda c: {"ms": conv_case(c)}})
