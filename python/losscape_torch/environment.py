"""What the worker runs on: versions, devices, threads (`hello`, and every result's backend)."""

import os
import platform
import sys

from . import PROTOCOL, __version__
from .errors import EnvironmentProblem, InputError

MIN_TORCH = (1, 13)


def _version_tuple(v):
    out = []
    for part in v.split("+")[0].split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def require_torch():
    """Imports torch and numpy, or raises an `environment` error naming this interpreter."""
    how = f"install it there: {sys.executable} -m pip install torch numpy"
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise EnvironmentProblem(f"numpy is not installed in {sys.executable}; {how}")
    try:
        import torch
    except ImportError as e:
        raise EnvironmentProblem(f"torch is not installed in {sys.executable} ({e}); {how}")
    if _version_tuple(torch.__version__) < MIN_TORCH:
        raise EnvironmentProblem(
            f"torch {torch.__version__} in {sys.executable} is too old (Losscape needs torch >= 1.13); "
            f"upgrade it: {sys.executable} -m pip install -U torch"
        )
    return torch


def _mps_available(torch):
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def hello():
    torch = require_torch()
    import numpy

    cuda = torch.cuda.is_available()
    return {
        "protocol": PROTOCOL,
        "worker": __version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "cuda": cuda,
        "cudaDevices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "mps": _mps_available(torch),
        "threads": torch.get_num_threads(),
        "float64": True,
    }


def set_threads(n=None):
    torch = require_torch()
    torch.set_num_threads(max(1, int(n or os.cpu_count() or 1)))


def resolve_device(spec):
    """A torch.device for --device auto|cpu|cuda|cuda:N|mps, or an input error."""
    torch = require_torch()
    spec = (spec or "auto").strip()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "mps":
        if not _mps_available(torch):
            raise InputError("--device", "mps is not available in this torch build or on this machine")
        return torch.device("mps")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError("--device", f"{spec}: CUDA is not available (torch {torch.__version__}, {sys.executable})")
        if spec == "cuda":
            return torch.device("cuda")
        try:
            index = int(spec[5:])
        except ValueError:
            raise InputError("--device", f"'{spec}' is not a device; use auto, cpu, cuda, cuda:N or mps")
        count = torch.cuda.device_count()
        if not 0 <= index < count:
            raise InputError("--device", f"{spec}: this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1})")
        return torch.device(spec)
    raise InputError("--device", f"'{spec}' is not a device; use auto, cpu, cuda, cuda:N or mps")


def device_name(device):
    torch = require_torch()
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return f"{platform.machine() or 'unknown'} CPU ({os.cpu_count()} cores)"


def backend(device, dtype):
    torch = require_torch()
    return {
        "engine": "torch",
        "torch": torch.__version__,
        "device": str(device),
        "deviceName": device_name(device),
        "dtype": dtype,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
