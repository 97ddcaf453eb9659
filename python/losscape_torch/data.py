"""The samples: frames from the Node engine's loaders (the same .npz/.npy/CSV files and
messages as the TF.js engine), or `data.py:NAME` returning (x, y) or a map-style Dataset."""

import inspect

import numpy as np

from .errors import InputError, describe
from .user_code import call_user, lookup


def from_frames(torch, params, frames):
    xs, ys = params.get("xShape"), params.get("yShape")
    if len(frames) < 2 or xs is None or ys is None:
        raise InputError(None, "load: data of kind 'frames' needs xShape, yShape and two frames (x, y)")
    try:
        x = torch.from_numpy(np.asarray(frames[0]).reshape(xs))
        y = torch.from_numpy(np.asarray(frames[1]).reshape(ys))
    except ValueError as e:
        raise InputError(None, f"load: data frames do not match their shapes ({e})")
    if x.shape[0] != y.shape[0]:
        raise InputError(None, f"load: x has {x.shape[0]} samples, y has {y.shape[0]}")
    return x, y


def _as_tensor(torch, v, path, what):
    try:
        return v if torch.is_tensor(v) else torch.as_tensor(np.asarray(v))
    except Exception as e:
        raise InputError(path, f"{what} is not an array or tensor ({describe(e)})")


def from_module(torch, spec):
    path, name = spec.get("file"), spec.get("name")
    obj = lookup(path, name)
    value = call_user(path, name, obj, spec.get("args"), "data") if _is_factory(obj) else obj
    if isinstance(value, (tuple, list)) and len(value) == 2:
        x, y = (_as_tensor(torch, v, path, w) for v, w in zip(value, ("x", "y")))
    elif _is_dataset(value):
        n = len(value)
        if n == 0:
            raise InputError(path, f"{name} returned an empty Dataset")
        try:
            items = [value[i] for i in range(n)]
        except Exception as e:
            raise InputError(path, f"reading the Dataset {name} raised {describe(e)}")
        if not all(isinstance(it, (tuple, list)) and len(it) == 2 for it in items[:1]):
            raise InputError(path, f"the items of the Dataset {name} are not (x, y) pairs")
        try:
            x = torch.stack([_as_tensor(torch, it[0], path, "x") for it in items])
            y = torch.stack([_as_tensor(torch, it[1], path, "y").reshape(-1) if np.ndim(it[1]) else _as_tensor(torch, it[1], path, "y") for it in items])
        except Exception as e:
            raise InputError(path, f"the items of the Dataset {name} cannot be stacked ({describe(e)})")
    else:
        raise InputError(path, f"{name} returned a {type(value).__name__}; expected (x, y) tensors or a map-style Dataset")
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
        raise InputError(path, f"{name}: x {list(x.shape)} and y {list(y.shape)} must have the same number of samples")
    return x, y


def _is_factory(obj):
    return inspect.isclass(obj) or inspect.isfunction(obj) or (callable(obj) and not _is_dataset(obj))


def _is_dataset(v):
    return hasattr(v, "__getitem__") and hasattr(v, "__len__") and not isinstance(v, (tuple, list, dict, str, bytes)) and not hasattr(v, "shape")


def subset(x, y, samples):
    if not samples:
        return x, y
    if samples.get("indices") is not None:
        idx = list(samples["indices"])
        n = x.shape[0]
        bad = [i for i in idx if not 0 <= int(i) < n]
        if bad:
            raise InputError("--samples", f"sample index {bad[0]} is out of range (there are {n} samples)")
        return x[idx], y[idx]
    count = samples.get("count")
    if count is not None:
        return x[: int(count)], y[: int(count)]
    return x, y
