"""Models and weights: `file.py:NAME` (class or factory returning an nn.Module), TorchScript
files, and weight files (state_dict, checkpoint dicts, .safetensors) checked against the model."""

import inspect
import json
import os
import re
import struct
import sys

import numpy as np

from .errors import InputError, describe
from .user_code import call_user, lookup

CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net")
STEP_KEYS = ("step", "global_step", "epoch")
PREFIXES = ("module.", "_orig_mod.", "model.")


def build_model(torch, spec):
    kind = spec.get("kind", "module")
    path = spec.get("file")
    if kind == "torchscript":
        try:
            return torch.jit.load(path, map_location="cpu")
        except Exception as e:
            raise InputError(path, f"is not a TorchScript file torch.jit.load can read ({describe(e)})")
    if kind != "module":
        raise InputError(path, f"unknown model kind {kind!r}")
    name = spec.get("name")
    obj = lookup(path, name)
    args = spec.get("args") or {}
    if not isinstance(args, dict):
        raise InputError("--model-args", "must be a JSON object of keyword arguments")
    if isinstance(obj, torch.nn.Module):
        if args:
            raise InputError(path, f"'{name}' is already an nn.Module instance; it takes no --model-args")
        model = obj
    elif callable(obj):
        model = call_user(path, name, obj, args, "model")
    else:
        raise InputError(path, f"'{name}' is a {type(obj).__name__}, not a class or function returning an nn.Module")
    if not isinstance(model, torch.nn.Module):
        raise InputError(path, f"{name}(...) returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def _read_safetensors(torch, path):
    """The tensors of a .safetensors file, read by its documented layout (u64 LE header size,
    JSON header {name: {dtype, shape, data_offsets}}, raw bytes), so the package is optional."""
    dtypes = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
              "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > 100_000_000:
                raise ValueError("header too large")
            header = json.loads(f.read(n).decode("utf-8"))
            blob = f.read()
    except Exception as e:
        raise InputError(path, f"is not a readable .safetensors file ({describe(e)})")
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = blob[start:end]
        if info["dtype"] == "BF16":
            t = torch.frombuffer(bytearray(raw), dtype=torch.bfloat16) if raw else torch.zeros(0, dtype=torch.bfloat16)
            out[key] = t.float().reshape(info["shape"])
            continue
        dt = dtypes.get(info["dtype"])
        if dt is None:
            raise InputError(path, f"tensor {key} has unsupported dtype {info['dtype']}")
        out[key] = torch.from_numpy(np.frombuffer(raw, dtype=np.dtype(dt).newbyteorder("<")).copy().reshape(info["shape"]))
    return out


def _torch_load(torch, path):
    kwargs = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = True
    try:
        return torch.load(path, **kwargs)
    except Exception as e:
        text = str(e)
        if kwargs.get("weights_only") and "Unsupported operand" in text and torch.__version__.startswith("1."):
            # torch 1.13's first weights-only unpickler cannot read Python floats (a checkpoint's
            # {"lr": 0.1}); the worker runs in trusted workspaces only, so that torch reads it in full.
            print(f"losscape_torch: {path}: torch {torch.__version__}'s weights_only loader cannot read this "
                  "checkpoint; reading it with weights_only=False", file=sys.stderr)
            try:
                return torch.load(path, map_location="cpu", weights_only=False)
            except Exception as e2:
                raise InputError(path, f"cannot be read by torch.load ({describe(e2)})")
        if kwargs.get("weights_only") and ("Unsupported global" in text or "Unsupported class" in text or "GLOBAL" in text):
            raise InputError(path, "holds objects other than tensors and plain containers; Losscape reads weights "
                                   "with torch.load(weights_only=True) — save model.state_dict() instead")
        raise InputError(path, f"cannot be read by torch.load ({describe(e)})")


def read_weight_file(torch, path):
    """(state_dict, step or None) of a weight file."""
    if not os.path.isfile(path):
        raise InputError(path, "no such file")
    if path.endswith(".safetensors"):
        return _read_safetensors(torch, path), None
    obj = _torch_load(torch, path)
    step = None
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict) and not _is_state_dict(torch, obj):
        for key in STEP_KEYS:
            if isinstance(obj.get(key), (int, float)) and not isinstance(obj.get(key), bool):
                step = int(obj[key])
                break
        for key in CHECKPOINT_KEYS:
            inner = obj.get(key)
            if isinstance(inner, torch.nn.Module):
                inner = inner.state_dict()
            if isinstance(inner, dict) and _is_state_dict(torch, inner):
                obj = inner
                break
        else:
            raise InputError(path, "is a dict without a state_dict (looked for tensors at the top level and under "
                                   + ", ".join(CHECKPOINT_KEYS) + ")")
    if not isinstance(obj, dict):
        raise InputError(path, f"holds a {type(obj).__name__}, not a state_dict")
    return obj, step


def _is_state_dict(torch, d):
    return len(d) > 0 and all(isinstance(k, str) for k in d) and all(torch.is_tensor(v) for v in d.values())


def strip_prefixes(sd, expected):
    """Removes DataParallel/compile prefixes (`module.`, `_orig_mod.`) the model does not have."""
    keys = list(sd)
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if keys and all(k.startswith(p) for k in keys) and not any(k.startswith(p) for k in expected):
                sd = {k[len(p):]: v for k, v in sd.items()}
                keys = list(sd)
                changed = True
    return sd


def match_state_dict(torch, model, sd, path):
    """The state dict with prefixes stripped, checked key by key and shape by shape against the
    model; a mismatch is one input error listing what differs."""
    expected = model.state_dict()
    sd = strip_prefixes(sd, expected)
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    shapes = [
        f"{k} is {list(sd[k].shape)} in the file, {list(v.shape)} in the model"
        for k, v in expected.items() if k in sd and tuple(sd[k].shape) != tuple(v.shape)
    ]
    # BatchNorm's num_batches_tracked is absent from some older files; it is not a weight.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    problems = []
    if missing:
        problems.append("missing keys " + _few(missing))
    if unexpected:
        problems.append("unexpected keys " + _few(unexpected))
    if shapes:
        problems.append("shape mismatch: " + _few(shapes))
    if problems:
        raise InputError(path, "does not match the model's architecture: " + "; ".join(problems))
    return sd


def load_weights(torch, model, path):
    sd, step = read_weight_file(torch, path)
    sd = match_state_dict(torch, model, sd, path)
    try:
        model.load_state_dict(sd, strict=False)
    except Exception as e:
        raise InputError(path, f"load_state_dict failed: {describe(e)}")
    return step


def flat_from_state_dict(torch, model, names, path):
    """θ of a weight file in the model's parameter order (for --to and checkpoint series)."""
    sd, step = read_weight_file(torch, path)
    sd = match_state_dict(torch, model, sd, path)
    parts = [sd[n].detach().reshape(-1).to(torch.float64) for n in names]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64), step


def step_from_name(path):
    ints = re.findall(r"\d+", os.path.basename(path))
    return int(ints[-1]) if ints else None


def _few(items, n=6):
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")


def param_groups(named):
    groups = []
    offset = 0
    for name, p in named:
        shape = list(p.shape)
        size = int(p.numel())
        groups.append({
            "name": name,
            "layer": name.rsplit(".", 1)[0] if "." in name else name,
            "shape": shape,
            "offset": offset,
            "size": size,
            # loss-landscape's filters: one index of dim 0 (Linear [out, in], Conv [out, in, kh, kw]).
            "filters": shape[0] if len(shape) >= 2 else 0,
        })
        offset += size
    return groups, offset
