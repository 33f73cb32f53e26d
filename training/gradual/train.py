#!/usr/bin/python3
"""Train the learned gradual-transition model of scenescope (issue 8) and export it to ONNX.

Input: directories written by `node dist/benchmarks/learned-data.js` (index.json + <tag>.f32 per video).
Output: gradual.onnx (opset 13): input "features" float32 [1, C, T], output "probs" float32 [1, 5, T], the
per-frame probabilities of: no transition, inside a dissolve, inside a wipe, inside a fade, a cut's frame.

Deterministic: fixed seeds, one thread, deterministic algorithms, clips in sorted order. See README.md.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES = ["none", "dissolve", "wipe", "fade", "cut"]
IGNORE = 5  # a transition of unspecified kind: not scored


class GradualNet(nn.Module):
    """A small dilated 1D temporal convolution over per-frame relation vectors (receptive field 45 frames)."""

    def __init__(self, channels, mean, std, width=32):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1))
        self.c1 = nn.Conv1d(channels, width, 5, padding=2)
        self.c2 = nn.Conv1d(width, width, 5, padding=4, dilation=2)
        self.c3 = nn.Conv1d(width, width, 5, padding=8, dilation=4)
        self.c4 = nn.Conv1d(width, width, 3, padding=8, dilation=8)
        self.out = nn.Conv1d(width, len(CLASSES), 1)

    def logits(self, x):
        x = (x - self.mean) / self.std
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x)) + x
        x = F.relu(self.c3(x)) + x
        x = F.relu(self.c4(x)) + x
        return self.out(x)

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def load(dirs):
    clips = []
    for d in dirs:
        with open(os.path.join(d, "index.json")) as f:
            index = json.load(f)
        for c in index:
            x = np.fromfile(os.path.join(d, c["tag"] + ".f32"), dtype=np.float32).reshape(c["channels"], c["frames"])
            clips.append((c["tag"], x, np.array(c["labels"], dtype=np.int64)))
    clips.sort(key=lambda c: c[0])
    return clips


def crops(clips, length, rng):
    """One random crop of `length` frames from a random clip (clips shorter than it are padded, labels ignored)."""
    tag, x, y = clips[rng.integers(len(clips))]
    n = x.shape[1]
    if n <= length:
        xs = np.zeros((x.shape[0], length), np.float32)
        ys = np.full(length, IGNORE, np.int64)
        xs[:, :n] = x
        ys[:n] = y
        return xs, ys
    s = rng.integers(n - length + 1)
    return x[:, s : s + length], y[s : s + length]


def frame_scores(model, clips):
    """Per-frame confusion of 'inside a dissolve or wipe' on whole clips."""
    tp = fp = fn = 0
    with torch.no_grad():
        for _, x, y in clips:
            p = model(torch.from_numpy(x)[None])[0].numpy()
            pred = (p[1] + p[2]) >= 0.5
            gold = (y == 1) | (y == 2)
            tp += int((pred & gold).sum())
            fp += int((pred & ~gold & (y != IGNORE)).sum())
            fn += int((~pred & gold).sum())
    return tp, fp, fn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", nargs="+", required=True, help="learned-data output directories")
    ap.add_argument("--out", required=True, help="ONNX file to write")
    ap.add_argument("--val-every", type=int, default=10, help="every n-th clip (sorted by tag) is validation")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)

    clips = load(args.data)
    val = [c for i, c in enumerate(clips) if args.val_every > 0 and i % args.val_every == args.val_every - 1]
    train = [c for c in clips if c not in val] if val else clips
    allx = np.concatenate([c[1] for c in train], axis=1)
    mean = allx.mean(axis=1)
    std = np.maximum(allx.std(axis=1), 1e-3)
    ally = np.concatenate([c[2] for c in train])
    counts = np.array([(ally == k).sum() for k in range(len(CLASSES))], np.float64)
    print(json.dumps({"clips": len(clips), "train": len(train), "val": len(val), "frames": int(allx.shape[1]), "class_frames": counts.astype(int).tolist()}), flush=True)
    # Rare classes weigh more, but only as the square root of their rarity: the model should still prefer "none".
    weights = torch.tensor(np.sqrt(counts.sum() / np.maximum(counts, 1) / len(CLASSES)), dtype=torch.float32)
    weights = weights / weights[0]

    model = GradualNet(allx.shape[0], mean, std, args.width)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    for step in range(1, args.steps + 1):
        batch = [crops(train, args.length, rng) for _ in range(args.batch)]
        x = torch.from_numpy(np.stack([b[0] for b in batch]))
        y = torch.from_numpy(np.stack([b[1] for b in batch]))
        loss = F.cross_entropy(model.logits(x), y, weight=weights, ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps:
            model.eval()
            tp, fp, fn = frame_scores(model, val) if val else (0, 0, 0)
            model.train()
            p = tp / max(1, tp + fp)
            r = tp / max(1, tp + fn)
            print(json.dumps({"step": step, "loss": round(float(loss), 4), "val_frame_precision": round(p, 3), "val_frame_recall": round(r, 3)}), flush=True)

    model.eval()
    dummy = torch.zeros(1, allx.shape[0], 128)
    torch.onnx.export(
        model,
        dummy,
        args.out,
        input_names=["features"],
        output_names=["probs"],
        dynamic_axes={"features": {2: "frames"}, "probs": {2: "frames"}},
        opset_version=13,
        do_constant_folding=True,
    )
    print(json.dumps({"out": args.out, "bytes": os.path.getsize(args.out), "params": sum(p.numel() for p in model.parameters())}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
