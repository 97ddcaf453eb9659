"""The papers' losses (issue 11's losscape_torch/paper_losses.py) through the worker's load:
comp_sum with τ = 1 is the cross-entropy (Kumar et al.'s family at its CE member), so values
and curvature products agree with the built-in; a bad parameter is one input error."""
import importlib.util

import numpy as np
import pytest

from helpers import data, load, rel
from losscape_torch.errors import InputError

HAS_PAPER_LOSSES = importlib.util.find_spec("losscape_torch.paper_losses") is not None


def test_paper_losses_in_the_worker():
    x, y = data(n=10)
    if not HAS_PAPER_LOSSES:
        # Without the file the worker says so in one line, rather than failing later.
        with pytest.raises(InputError) as e:
            load("MLP", x, y, loss={"kind": "paper", "name": "comp_sum", "params": {"tau": 1}})
        assert "needs losscape_torch/paper_losses.py" in e.value.message
        return
    ce, _, theta = load("MLP", x, y)
    cs, res, _ = load("MLP", x, y, loss={"kind": "paper", "name": "comp_sum", "params": {"tau": 1}})
    cs.set_params({}, [theta])
    assert res["loss"]["name"] == "comp_sum" and res["loss"]["perSample"] is True
    assert rel(cs.per_sample_losses({}, [])[1][0], ce.per_sample_losses({}, [])[1][0]) < 1e-10
    v = np.random.default_rng(0).normal(size=res["dim"])
    for op in ("hessian", "ggn", "fisher"):
        assert rel(cs.matmat({"operator": op}, [v])[1][0], ce.matmat({"operator": op}, [v])[1][0]) < 1e-9, op
    acc = cs.loss({}, [])[1]
    assert len(acc) == 2 and abs(acc[1][0] - ce.loss({}, [])[1][1][0]) < 1e-12
    with pytest.raises(InputError) as e:
        load("MLP", x, y, loss={"kind": "paper", "name": "comp_sum", "params": {"tau": 3}})
    assert e.value.message.startswith("--loss-param: ") and "tau" in e.value.message
