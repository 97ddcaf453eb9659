import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "fixtures"))

try:
    import torch  # noqa: F401
    import numpy  # noqa: F401
except ImportError as e:  # CI must fail, not skip, when torch is missing
    pytest.exit(f"torch/numpy are not importable in {sys.executable} ({e}); run scripts/setup-torch.sh", returncode=3)


# Small models: one thread is fastest, and the test machine is shared.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _float_defaults():
    torch.manual_seed(0)
    yield


FIXTURES = os.path.join(HERE, "fixtures")


def fixture(name):
    return os.path.join(FIXTURES, name)
