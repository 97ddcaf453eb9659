"""Float64 reference eigenvalues of the Hessian of a TF.js Dense model's mean loss, built without
Losscape: the weights read from model.json's shards into a torch float64 MLP, exact
Hessian-vector products by double back-propagation (torch.autograd), and scipy's eigsh (ARPACK,
implicitly restarted Lanczos) on a LinearOperator with tol 1e-12.

Cross-entropy is taken from the logits (the pre-softmax values), as Keras does for a softmax
model; ReLU's second derivative is 0 (the almost-everywhere Hessian, as Losscape's products).

usage: python hessian_eigsh.py MODEL_JSON DATA_NPZ INDICES_NPZ K (INDICES_NPZ holds an int32 array "indices")  →  JSON {"top": [...], "products": n}
"""
import json
import os
import sys

import numpy as np
import scipy.sparse.linalg as sla
import torch

torch.set_default_dtype(torch.float64)
ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z, None: lambda z: z}


def load_dense_model(model_json):
    with open(model_json) as f:
        m = json.load(f)
    layers = m["modelTopology"]["config"]["layers"] if "config" in m["modelTopology"] else m["modelTopology"]["model_config"]["config"]["layers"]
    blobs = []
    for group in m["weightsManifest"]:
        data = b"".join(open(os.path.join(os.path.dirname(model_json), p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            assert w["dtype"] == "float32", w
            n = int(np.prod(w["shape"]))
            blobs.append(np.frombuffer(data, dtype="<f4", count=n, offset=off).reshape(w["shape"]).astype(np.float64))
            off += 4 * n
    dense = [l for l in layers if l["class_name"] == "Dense"]
    assert len(dense) * 2 == len(blobs), "only Dense models with biases"
    acts = [l["config"].get("activation") for l in dense]
    return [torch.tensor(b) for b in blobs], acts


def main():
    model_json, data_npz, indices_npy, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    params, acts = load_dense_model(model_json)
    d = np.load(data_npz)
    idx = np.load(indices_npy)["indices"]
    x = torch.tensor(d["x"][idx].reshape(len(idx), -1).astype(np.float64))
    y = torch.tensor(d["y"][idx].astype(np.int64))
    assert acts[-1] == "softmax"
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    theta = torch.cat([p.reshape(-1) for p in params]).requires_grad_(True)

    def loss_of(t):
        h = x
        parts = torch.split(t, sizes)
        for i in range(len(acts)):
            W, b = parts[2 * i].reshape(shapes[2 * i]), parts[2 * i + 1]
            z = h @ W + b
            h = z if i == len(acts) - 1 else ACT[acts[i]](z)
        return torch.nn.functional.cross_entropy(h, y)

    g = torch.autograd.grad(loss_of(theta), theta, create_graph=True)[0]
    count = [0]

    def hv(v):
        count[0] += 1
        vt = torch.tensor(np.asarray(v).reshape(-1))
        return torch.autograd.grad(g, theta, grad_outputs=vt, retain_graph=True)[0].detach().numpy()

    n = theta.numel()
    op = sla.LinearOperator((n, n), matvec=hv, dtype=np.float64)
    vals = sla.eigsh(op, k=k, which="LA", tol=1e-12, return_eigenvectors=False, v0=np.ones(n) / np.sqrt(n))
    print(json.dumps({"top": sorted(vals.tolist(), reverse=True), "products": count[0], "samples": int(len(idx)), "parameters": int(n)}))


if __name__ == "__main__":
    main()
