"""The papers' losses (issue 11's losscape_torch/paper_losses.py) through the worker's load:
comp_sum with τ = 1 is the cross-entropy (Kumar et al.'s family at its CE member), so values
and curvature products agree with the built-in; a bad parameter is one input error."""
import numpy as np
import pytest

from helpers import data, load, rel
from losscape_torch.errors import InputError


def test_paper_losses_in_the_worker():
    x, y = data(n=10)
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


def _zloss_definition(a, b):
    """The Z-loss written here from de Brébisson & Vincent's definition, independent of paper_losses.py."""
    import torch

    def per_sample(out, y):
        d = out - out.mean(-1, keepdim=True)
        z = d / d.pow(2).mean(-1, keepdim=True).sqrt()
        zy = z.gather(1, y.long().reshape(-1, 1)).squeeze(1)
        return torch.nn.functional.softplus(a * (b - zy)) / a

    return per_sample


@pytest.mark.parametrize("model_name,shape", [("MLP", (6,)), ("CNN", (1, 6, 6))])
def test_zloss_ggn_is_float64_jt_h_j(model_name, shape):
    """The worker's GGN under zloss (issue 11: it was refused) equals Jᵀ H_ℓ J built by
    torch.autograd.functional from a functional call of the model and the loss written above."""
    import torch

    from helpers import dense_ggn, functional_loss, operator_matrix

    a, b = 1.5, 2.0
    x, y = data(n=10, shape=shape)
    s, res, theta0 = load(model_name, x, y, loss={"kind": "paper", "name": "zloss", "params": {"a": a, "b": b}}, batch=4)
    outputs, _ = functional_loss(s.obj.model, torch.from_numpy(x), torch.from_numpy(y), None)
    G = dense_ggn(outputs, _zloss_definition(a, b), torch.from_numpy(y), torch.from_numpy(np.asarray(theta0, dtype=np.float64))).numpy()
    M = operator_matrix(s, "ggn")
    assert rel(M, G) < 1e-10
    # zloss is not convex in the logits, so unlike the cross-entropy's this GGN can be indefinite;
    # the test is on the matrix itself.
    assert np.abs(G).max() > 0
