# PyTorch side of bench_model: the same models (the seed notebook's UNet, the Grad-CAM tutorial's LeNet) and the
# same steps as bench/bench_model.cpp. Reads one JSON case per line on stdin and answers one JSON line on stdout
# ({"ms": wall median}; a following {"kind": "last_cpu"} answers {"ms": CPU-time median} of that run). Started
# once per bench run; models and optimizers are built on first use and kept, as bench_model keeps its own.
#
# Standalone op breakdown (torch.profiler) of one case:
#   python bench/torch_model_reference.py --profile unet64_train [--threads 2] [--steps 3]
import json
import statistics
import sys
import time


def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import torch
    import torch.nn as nn
except Exception as e:  # noqa: BLE001 - any import failure means "no reference"
    answer({"error": "import torch failed: %s" % e})
    sys.exit(0)


def conv_block(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(o),
                         nn.Conv2d(o, o, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(o))


def up(i, o):
    return nn.ConvTranspose2d(i, o, 3, stride=2, padding=1, output_padding=1)


class UNet(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, width=64):
        super().__init__()
        w = width
        self.contracting_11 = conv_block(in_channels, w)
        self.contracting_12 = nn.MaxPool2d(2, 2)
        self.contracting_21 = conv_block(w, 2 * w)
        self.contracting_22 = nn.MaxPool2d(2, 2)
        self.contracting_31 = conv_block(2 * w, 4 * w)
        self.contracting_32 = nn.MaxPool2d(2, 2)
        self.contracting_41 = conv_block(4 * w, 8 * w)
        self.contracting_42 = nn.MaxPool2d(2, 2)
        self.middle = conv_block(8 * w, 16 * w)
        self.expansive_11 = up(16 * w, 8 * w)
        self.expansive_12 = conv_block(16 * w, 8 * w)
        self.expansive_21 = up(8 * w, 4 * w)
        self.expansive_22 = conv_block(8 * w, 4 * w)
        self.expansive_31 = up(4 * w, 2 * w)
        self.expansive_32 = conv_block(4 * w, 2 * w)
        self.expansive_41 = up(2 * w, w)
        self.expansive_42 = conv_block(2 * w, w)
        self.output = nn.Conv2d(w, num_classes, 3, padding=1)

    def forward(self, x):
        c11 = self.contracting_11(x)
        c21 = self.contracting_21(self.contracting_12(c11))
        c31 = self.contracting_31(self.contracting_22(c21))
        c41 = self.contracting_41(self.contracting_32(c31))
        mid = self.middle(self.contracting_42(c41))
        e12 = self.expansive_12(torch.cat((self.expansive_11(mid), c41), dim=1))
        e22 = self.expansive_22(torch.cat((self.expansive_21(e12), c31), dim=1))
        e32 = self.expansive_32(torch.cat((self.expansive_31(e22), c21), dim=1))
        e42 = self.expansive_42(torch.cat((self.expansive_41(e32), c11), dim=1))
        return self.output(e42)


class LeNet(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                                  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.fc = nn.Sequential(nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                nn.Linear(84, num_classes))

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


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
    fn = _cases[name]
    for _ in range(c["warmup"]):
        fn()
    walls, cpus = [], []
    for _ in range(c["reps"]):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - w0) * 1e3)
        cpus.append((time.process_time() - c0) * 1e3)
    _last_cpu[0] = statistics.median(cpus)
    return statistics.median(walls)


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


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--profile":
        args = sys.argv[2:]
        name = args[0]
        threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
        steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 3
        profile(name, threads, steps)
        return
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            c = json.loads(line)
            kind = c["kind"]
            if kind == "init":
                torch.set_num_threads(int(c["threads"]))
                torch.manual_seed(0)
                answer({"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads()})
            elif kind == "model":
                answer({"ms": model_case(c)})
            elif kind == "last_cpu":
                answer({"ms": _last_cpu[0]})
            elif kind == "quit":
                return
            else:
                answer({"error": "unknown case kind %r" % kind})
        except Exception as e:  # noqa: BLE001 - report and keep serving
            answer({"error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    main()
