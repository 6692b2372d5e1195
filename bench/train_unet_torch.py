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


def block(a, b):
    return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(b), nn.Conv2d(b, b, 3, padding=1),
                         nn.ReLU(), nn.BatchNorm2d(b))


def up(a, b):
    return nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1)


class UNet(nn.Module):
    def __init__(self, in_channels, num_classes, w):
        super().__init__()
        self.contracting_11, self.contracting_12 = block(in_channels, w), nn.MaxPool2d(2, 2)
        self.contracting_21, self.contracting_22 = block(w, 2 * w), nn.MaxPool2d(2, 2)
        self.contracting_31, self.contracting_32 = block(2 * w, 4 * w), nn.MaxPool2d(2, 2)
        self.contracting_41, self.contracting_42 = block(4 * w, 8 * w), nn.MaxPool2d(2, 2)
        self.middle = block(8 * w, 16 * w)
        self.expansive_11, self.expansive_12 = up(16 * w, 8 * w), block(16 * w, 8 * w)
        self.expansive_21, self.expansive_22 = up(8 * w, 4 * w), block(8 * w, 4 * w)
        self.expansive_31, self.expansive_32 = up(4 * w, 2 * w), block(4 * w, 2 * w)
        self.expansive_41, self.expansive_42 = up(2 * w, w), block(2 * w, w)
        self.output = nn.Conv2d(w, num_classes, 3, padding=1)

    def forward(self, x):
        c11 = self.contracting_11(x)
        c21 = self.contracting_21(self.contracting_12(c11))
        c31 = self.contracting_31(self.contracting_22(c21))
        c41 = self.contracting_41(self.contracting_32(c31))
        m = self.middle(self.contracting_42(c41))
        e = self.expansive_12(torch.cat((self.expansive_11(m), c41), 1))
        e = self.expansive_22(torch.cat((self.expansive_21(e), c31), 1))
        e = self.expansive_32(torch.cat((self.expansive_31(e), c21), 1))
        e = self.expansive_42(torch.cat((self.expansive_41(e), c11), 1))
        return self.output(e)


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
    model = UNet(args.in_channels, args.classes, args.width)
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
