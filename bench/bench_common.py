"""Shared by the PyTorch sides of the benches: the protocol of bench/reference.h (one JSON request per stdin line,
one JSON answer per stdout line), medians timed the way bench/bench_util.cpp times ours, and the two models with the
engine's layout and module names (the seed notebook's UNet, the Grad-CAM tutorial's LeNet)."""
import json
import os
import statistics
import sys
import time

import torch


def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve(handlers):
    """Answers requests until {"kind": "quit"}: handlers[kind](request) returns the answer (a dict); an unknown kind
    or an exception is answered as {"error": ...} and the loop goes on."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            kind = request["kind"]
            if kind == "quit":
                return
            if kind not in handlers:
                answer({"error": "unknown request kind %r" % kind})
                continue
            answer(handlers[kind](request))
        except Exception as e:  # noqa: BLE001 - report and keep serving
            answer({"error": "%s: %s" % (type(e).__name__, e)})


def measure(fn, warmup, reps, with_cpu=True):
    """Median wall and CPU (process) milliseconds of `reps` calls after `warmup` untimed ones; the CPU median is
    NaN when with_cpu is false (calls of a few microseconds must not pay for reading the CPU time)."""
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time() if with_cpu else 0.0
        fn()
        walls.append((time.perf_counter() - w0) * 1e3)
        if with_cpu:
            cpus.append((time.process_time() - c0) * 1e3)
    return statistics.median(walls), statistics.median(cpus) if cpus else float("nan")


def median_ms(fn, warmup, reps):
    return measure(fn, warmup, reps, with_cpu=False)[0]


# The PyTorch twins of the engine's UNet and LeNet, defined once in models/export_torch.py.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from export_torch import LeNet, UNet  # noqa: E402,F401
