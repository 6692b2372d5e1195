"""PyTorch side of `bench_train lenet`: one epoch of LeNet on Fashion-MNIST, batch 32, Adam 1e-3, the same recipe as
train_classifier (uint8 images batched by index, scaled and normalised per batch; loss.item() every step). Prints one
JSON line: {"epoch_seconds": ..., "test_accuracy": ...}."""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn

from bench_common import LeNet

MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def find(directory, stem):
    gz = os.path.join(directory, stem + ".gz")
    return gz if os.path.exists(gz) else os.path.join(directory, stem)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x = torch.from_numpy(read_idx(find(args.data, "train-images-idx3-ubyte")).copy())
    train_y = torch.from_numpy(read_idx(find(args.data, "train-labels-idx1-ubyte")).astype(np.int64))
    test_x = torch.from_numpy(read_idx(find(args.data, "t10k-images-idx3-ubyte")).copy())
    test_y = torch.from_numpy(read_idx(find(args.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    if args.limit > 0:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]

    def prepare(images):
        return (images.float().unsqueeze(1) / 255.0 - MEAN) / STD

    model = LeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    n = train_x.shape[0]
    epoch_seconds = []
    accuracy = 0.0
    for _ in range(args.epochs):
        order = torch.randperm(n)
        model.train()
        start = time.perf_counter()
        for first in range(0, n, 32):
            index = order[first:first + 32]
            optimizer.zero_grad()
            loss = criterion(model(prepare(train_x[index])), train_y[index])
            loss.backward()
            optimizer.step()
            loss.item()
        epoch_seconds.append(time.perf_counter() - start)
        model.eval()
        with torch.no_grad():
            correct = sum((model(prepare(test_x[i:i + 1000])).argmax(1) == test_y[i:i + 1000]).sum().item()
                          for i in range(0, test_x.shape[0], 1000))
        accuracy = correct / test_x.shape[0]
    print(json.dumps({"epoch_seconds": epoch_seconds[-1], "all_epoch_seconds": epoch_seconds,
                      "test_accuracy": accuracy, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
