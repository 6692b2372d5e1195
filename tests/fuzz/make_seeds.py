#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/NAME/seed-*): small valid files of every kind each
reader accepts, from which libFuzzer mutates. Run once; the files are committed. Needs Pillow only for the JPEGs
(e.g. the reference venv: /opt/torchenv/bin/python tests/fuzz/make_seeds.py)."""
import gzip
import io
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def pixels(w, h, c):
    return bytes(((i * 7919) >> 3) & 255 for i in range(w * h * c))


def png(w, h, c, depth=8):
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    row = w * c * depth // 8
    px = pixels(row, h, 1)
    raw = b"".join(b"\x00" + px[y * row:(y + 1) * row] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bmp(w, h):
    row = (w * 3 + 3) // 4 * 4
    body = b"".join(pixels(w, 1, 3) + b"\x00" * (row - 3 * w) for _ in range(h))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(body), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(body), 2835, 2835, 0, 0)
    return header + info + body


def jpeg(w, h, mode):
    from PIL import Image
    image = Image.frombytes(mode, (w, h), pixels(w, h, len(mode)))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=60)
    return buf.getvalue()


def idx(shape, payload, magic_type=0x08):
    header = struct.pack(">BBBB", 0, 0, magic_type, len(shape)) + b"".join(struct.pack(">I", d) for d in shape)
    return header + payload


def safetensors(tensors, metadata=None):
    header, body = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(data)]}
        body += data
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def main():
    for c in (1, 2, 3, 4):
        out("image", "png%d" % c, png(7, 5, c))
    out("image", "png16", png(3, 2, 3, depth=16))
    out("image", "bmp", bmp(5, 3))
    out("image", "jpeg_gray", jpeg(9, 7, "L"))
    out("image", "jpeg_rgb", jpeg(17, 9, "RGB"))

    out("idx", "images", idx((3, 4, 4), pixels(4, 4, 3)))
    out("idx", "labels", idx((5,), bytes([1, 0, 4, 9, 2])))
    out("idx", "images_gz", gzip.compress(idx((2, 3, 3), pixels(3, 3, 2)), mtime=0))
    out("idx", "empty", idx((0,), b""))

    f32 = struct.pack("<6f", 1, -2, 0.5, 0, 3, float("inf"))
    out("safetensors", "plain", safetensors({"w": ("F32", [2, 3], f32), "n": ("I64", [2], struct.pack("<2q", 1, 2))}))
    out("safetensors", "empty", safetensors({}))
    config = json.dumps({"name": "lenet", "in_channels": 1, "num_classes": 10})
    out("safetensors", "checkpoint",
        safetensors({"model.fc.4.bias": ("F32", [1], struct.pack("<f", 0.25))},
                    {"format": "engine-checkpoint", "format_version": "1", "epoch": "1", "step": "4",
                     "model": "lenet", "model_config": config}))
    out("safetensors", "f64_u8", safetensors({"a": ("F64", [1], struct.pack("<d", 2.0)), "b": ("U8", [3], b"abc")}))

    configs = [
        {"name": "unet", "width": 16, "num_classes": 2, "in_channels": 1},
        {"name": "lenet"},
        {"name": "vgg11_bn", "classifier_width": 256, "pool_size": 1, "dropout": 0.25},
        {"name": "fcn32s", "head_width": 64, "num_classes": 8},
    ]
    for k, config in enumerate(configs):
        out("model_config", "config%d" % k, json.dumps(config).encode())


if __name__ == "__main__":
    main()
