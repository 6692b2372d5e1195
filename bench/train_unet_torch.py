"""PyTorch side of `bench_train unet`: training steps of the seed notebook's UNet (the layout of models/unet.h: blocks
of Conv-ReLU-BatchNorm twice, ConvTranspose2d(3, stride 2, padding 1, output_padding 1) upsampling, torch.cat((up,
skip), 1)), random input and targets, CrossEntropyLoss, Adam 1e-3. Prints one JSON line with the median step time
and one eval forward time."""
import argparse
import json
import statistics
import time

import torch
from torch import nn

from bench_common import UNet


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--in-channels", type=int, default=3)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = UNet(args.classes, args.in_channels, args.width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    x = torch.randn(args.batch, args.in_channels, args.size, args.size)
    y = torch.randint(0, args.classes, (args.batch, args.size, args.size))
    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        model(x)
        start = time.perf_counter()
        model(x).sum().item()
        eval_seconds = time.perf_counter() - start
    print(json.dumps({"step_seconds": statistics.median(times), "all_step_seconds": times,
                      "eval_seconds": eval_seconds, "parameters": sum(p.numel() for p in model.parameters()),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
