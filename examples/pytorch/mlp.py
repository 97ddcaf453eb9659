"""The examples/mnist demo MLP (784-32-10) in PyTorch, with its trained TF.js weights: the same
model in both engines. TF.js stores Dense kernels [in, out]; nn.Linear holds [out, in].

    losscape hessian --model examples/pytorch/mlp.py:MnistMLP --weights examples/pytorch/generated/mlp.pt ...
"""
import json
import os

import numpy as np
import torch
from torch import nn


class MnistMLP(nn.Module):
    """Outputs logits; the TF.js model's final softmax is CrossEntropyLoss's log-softmax here."""

    def __init__(self, hidden=32, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.reshape(x.shape[0], -1))))


def state_dict_from_tfjs(model_json):
    """fc1/fc2 weights from a TF.js layers model.json (two Dense layers, float32 shards)."""
    with open(model_json) as f:
        spec = json.load(f)
    folder = os.path.dirname(model_json)
    tensors = {}
    for group in spec["weightsManifest"]:
        blob = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            tensors[w["name"]] = np.frombuffer(blob, dtype="<f4", count=n, offset=off).reshape(w["shape"])
            off += 4 * n
    kernels = [k for k in tensors if k.endswith("/kernel")]
    biases = [k for k in tensors if k.endswith("/bias")]
    if len(kernels) != 2 or len(biases) != 2:
        raise ValueError(f"{model_json}: expected two Dense layers, found kernels {kernels}")
    sd = {}
    for i, (k, b) in enumerate(zip(kernels, biases), start=1):
        sd[f"fc{i}.weight"] = torch.from_numpy(tensors[k].T.copy())
        sd[f"fc{i}.bias"] = torch.from_numpy(tensors[b].copy())
    return sd
