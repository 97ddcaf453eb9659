"""Trains the demo CNN (net.py:SmallCNN) on the same MNIST digits as examples/mnist — the
8,000/2,000 split examples/mnist/prepare.ts writes to examples/mnist/generated/data.npz — and
writes into examples/pytorch/generated/:

    digits.npz            x [8000, 1, 28, 28] float32 (NCHW, as the model takes it), y, x_test, y_test
    cnn.pt                the final state_dict
    cnn_scripted.pt       the same model as TorchScript (--model cnn_scripted.pt needs no net.py)
    mlp.pt                examples/mnist's trained TF.js MLP as a state_dict for mlp.py:MnistMLP
    checkpoints/ckpt_NNNNNN.pt   {"model": state_dict, "step", "epoch"} before training and after each epoch

Reused when present (delete generated/ to retrain).  python examples/pytorch/train.py [--epochs 2]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mlp import MnistMLP, state_dict_from_tfjs  # noqa: E402
from net import SmallCNN  # noqa: E402

OUT = os.path.join(HERE, "generated")
MNIST = os.path.join(HERE, "..", "mnist", "generated", "data.npz")
SEED = 1234


def export_digits():
    if not os.path.exists(MNIST):
        sys.exit(f"train.py: {os.path.normpath(MNIST)} is missing; run `npx tsx examples/mnist/prepare.ts` first (npm run demo does)")
    d = np.load(MNIST)
    nchw = lambda a: a.reshape(-1, 1, 28, 28).astype(np.float32)  # noqa: E731
    out = {"x": nchw(d["x"]), "y": d["y"].astype(np.int32), "x_test": nchw(d["x_test"]), "y_test": d["y_test"].astype(np.int32)}
    np.savez(os.path.join(OUT, "digits.npz"), **out)
    return out


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    final = os.path.join(OUT, "cnn.pt")
    if os.path.exists(final) and os.path.exists(os.path.join(OUT, "digits.npz")):
        print(f"reusing {os.path.relpath(OUT)} (delete it to retrain)")
        return
    os.makedirs(os.path.join(OUT, "checkpoints"), exist_ok=True)
    torch.manual_seed(SEED)
    d = export_digits()
    tfjs = os.path.join(HERE, "..", "mnist", "generated", "model", "model.json")
    mlp = MnistMLP()
    mlp.load_state_dict(state_dict_from_tfjs(tfjs))
    torch.save(mlp.state_dict(), os.path.join(OUT, "mlp.pt"))
    x, y = torch.from_numpy(d["x"]), torch.from_numpy(d["y"]).long()
    xt, yt = torch.from_numpy(d["x_test"]), torch.from_numpy(d["y_test"]).long()
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    batch = 64
    steps_per_epoch = (len(x) + batch - 1) // batch

    def save(step, epoch):
        path = os.path.join(OUT, "checkpoints", f"ckpt_{step:06d}.pt")
        torch.save({"model": model.state_dict(), "step": step, "epoch": epoch}, path)

    save(0, 0)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        save(epoch * steps_per_epoch, epoch)
        print(f"epoch {epoch}/{args.epochs}: loss {total / len(x):.4f}, train acc {accuracy(model, x, y):.4f}, "
              f"test acc {accuracy(model, xt, yt):.4f} ({time.time() - t0:.1f} s)")
    torch.save(model.state_dict(), final)
    torch.jit.script(model).save(os.path.join(OUT, "cnn_scripted.pt"))
    print(f"wrote {os.path.relpath(OUT)}: cnn.pt, cnn_scripted.pt, mlp.pt, digits.npz, {args.epochs + 1} checkpoints")


if __name__ == "__main__":
    main()
