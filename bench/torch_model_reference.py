# PyTorch side of bench_model: the same models (the seed notebook's UNet, the Grad-CAM tutorial's LeNet) and the
# same steps as bench/bench_model.cpp. Reads one JSON case per line on stdin and answers one JSON line on stdout
# ({"ms": wall median}; a following {"kind": "last_cpu"} answers {"ms": CPU-time median} of that run). Started
# once per bench run; models and optimizers are built on first use and kept, as bench_model keeps its own.
#
# Standalone op breakdown (torch.profiler) of one case:
#   python bench/torch_model_reference.py --profile unet64_train [--threads 2] [--steps 3]
import json
import sys

try:
    import torch
    import torch.nn as nn
    from bench_common import LeNet, UNet, measure, serve
except Exception as e:  # noqa: BLE001 - any import failure means "no reference"
    print(json.dumps({"error": "import torch failed: %s" % e}), flush=True)
    sys.exit(0)


def train_step(model, batch, classes, spatial):
    x = torch.rand(*batch)
    target_shape = (batch[0], *batch[2:]) if spatial else (batch[0],)
    target = (torch.rand(*target_shape) * classes).long()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()
    return step


def eval_forward(model, batch):
    x = torch.rand(*batch)
    model.eval()

    def forward():
        with torch.no_grad():
            model(x)
    return forward


def lenet_gradcam():
    model = LeNet()
    model.eval()
    x = torch.rand(256, 1, 28, 28)
    kept = {}
    model.conv[3].register_forward_hook(lambda m, i, o: kept.__setitem__("a", o))

    def run():
        score = model(x)[:, 3].sum()
        torch.autograd.grad(score, kept["a"])
    return run


def make_case(name):
    if name == "unet64_train":
        return train_step(UNet(width=64), (1, 3, 256, 256), 10, True)
    if name == "unet64_eval":
        return eval_forward(UNet(width=64), (1, 3, 256, 256))
    if name == "unet16_train":
        return train_step(UNet(width=16), (4, 3, 128, 128), 10, True)
    if name == "unet16_eval":
        return eval_forward(UNet(width=16), (4, 3, 128, 128))
    if name == "lenet_train":
        return train_step(LeNet(), (32, 1, 28, 28), 10, False)
    if name == "lenet_gradcam":
        return lenet_gradcam()
    raise ValueError("unknown case %r" % name)


_cases = {}
_last_cpu = [float("nan")]


def model_case(c):
    name = c["case"]
    if name not in _cases:
        _cases[name] = make_case(name)
        _cases[name]()  # as bench_model: one call before timing (allocations, optimizer state)
    wall, _last_cpu[0] = measure(_cases[name], c["warmup"], c["reps"])
    return wall


def profile(name, threads, steps):
    from torch.profiler import ProfilerActivity, profile as torch_profile
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    fn = make_case(name)
    fn()
    fn()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            fn()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=40))


def init(c):
    torch.set_num_threads(int(c["threads"]))
    torch.manual_seed(0)
    return {"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads()}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--profile":
        args = sys.argv[2:]
        name = args[0]
        threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
        steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 3
        profile(name, threads, steps)
        return
    serve({"init": init, "model": lambda c: {"ms": model_case(c)}, "last_cpu": lambda c: {"ms": _last_cpu[0]}})


if __name__ == "__main__":
    main()
