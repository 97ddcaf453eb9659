"""Loading `file.py:NAME` from the user's workspace: the file runs with its folder on sys.path
(so its sibling imports work), and every failure becomes one input error naming the file."""

import importlib.util
import inspect
import itertools
import os
import sys

from .errors import InputError, describe

_counter = itertools.count()
_cache = {}


def load_file(path):
    """The module object of a Python file (cached per path and modification time)."""
    if not os.path.isfile(path):
        raise InputError(path, "no such file")
    key = (os.path.abspath(path), os.path.getmtime(path))
    if key in _cache:
        return _cache[key]
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"losscape_user_{next(_counter)}_{os.path.splitext(os.path.basename(path))[0]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(path, "is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise InputError(path, f"syntax error at line {e.lineno}: {e.msg}")
    except Exception as e:
        raise InputError(path, f"importing it raised {describe(e)}")
    _cache[key] = module
    return module


def lookup(path, name):
    """The attribute NAME of the file, or an input error listing what the file does define."""
    module = load_file(path)
    if not name:
        raise InputError(path, "give the class or function as FILE.py:NAME")
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            public = sorted(
                k for k, v in vars(module).items()
                if not k.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
                and getattr(v, "__module__", None) == module.__name__
            )
            defined = f" (it defines: {', '.join(public)})" if public else ""
            raise InputError(path, f"has no '{name}'{defined}")
        obj = getattr(obj, part)
    return obj


def call_user(path, name, fn, args, what):
    """fn(**args), with anything it raises turned into an input error."""
    try:
        return fn(**(args or {}))
    except InputError:
        raise
    except TypeError as e:
        raise InputError(path, f"{name}(**{_short(args)}) failed building the {what}: {describe(e)}")
    except Exception as e:
        raise InputError(path, f"{name} raised {describe(e)} building the {what}")


def accepts_keyword(fn, keyword):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return any(
        p.name == keyword or p.kind == inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()
    )


def _short(args):
    text = repr(args or {})
    return text if len(text) < 80 else text[:77] + "..."
