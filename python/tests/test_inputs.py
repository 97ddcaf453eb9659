"""Every bad input is one `input` error whose message names the file and says what is wrong;
and the accepted forms of models, weights, data and losses load as documented."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import fixture
from helpers import data, load, rel
from losscape_torch.errors import InputError
from losscape_torch.session import Session


def input_error(**kw):
    with pytest.raises(InputError) as e:
        load(**kw)
    msg = e.value.message
    assert "\n" not in msg
    return msg


@pytest.mark.smoke
def test_model_file_without_that_name():
    msg = input_error(model="Nope")
    assert msg.startswith(fixture("nets.py") + ": has no 'Nope'") and "MLP" in msg and "CNN" in msg


def test_factory_raising_and_not_a_module_and_bad_args():
    assert "raising_factory raised ValueError: width must be even" in input_error(model="raising_factory")
    assert "returned a int, not a torch.nn.Module" in input_error(model="not_a_module")
    assert "is a int, not a class or function" in input_error(model="NOT_CALLABLE")
    msg = input_error(model={"kind": "module"} and "MLP", file="syntax_error.py")
    assert msg.startswith(fixture("syntax_error.py") + ": syntax error at line 1")
    assert "no such file" in input_error(file="missing.py")
    s = Session(lambda: False)
    x, y = data()
    with pytest.raises(InputError) as e:
        s.load({"model": {"kind": "module", "file": fixture("nets.py"), "name": "MLP", "args": {"depth": 3}},
                "data": {"kind": "frames", "xShape": [12, 6], "yShape": [12]}}, [x, y])
    assert "MLP(**{'depth': 3}) failed building the model: TypeError" in e.value.message


def test_model_that_cannot_take_the_inputs():
    x, y = data(shape=(5,))
    msg = input_error(x=x, y=y)
    assert msg.startswith(fixture("nets.py") + ": the model raised RuntimeError") and "[4, 5]" in msg


def _save(tmp_path, name, obj):
    p = str(tmp_path / name)
    torch.save(obj, p)
    return p


@pytest.mark.smoke
def test_weight_file_forms_all_load_the_same_parameters(tmp_path):
    torch.manual_seed(5)
    from nets import MLP

    m = MLP()
    sd = m.state_dict()
    want = torch.cat([p.detach().reshape(-1) for p in m.parameters()]).double().numpy()
    forms = {
        "plain.pt": sd,
        "ckpt_state_dict.pt": {"state_dict": sd, "step": 7},
        "ckpt_model.pth": {"model": sd, "epoch": 3},
        "ckpt_msd.pt": {"model_state_dict": sd, "optimizer": {"lr": 0.1}},
        "ckpt_net.pt": {"net": sd},
        "dataparallel.pt": {"module." + k: v for k, v in sd.items()},
    }
    for name, obj in forms.items():
        _, _, theta = load(weights=_save(tmp_path, name, obj))
        assert rel(theta, want) < 1e-15, name


def _write_safetensors(path, tensors):
    """The format's documented layout, written by hand: u64 LE header size, JSON header, bytes."""
    import json
    import struct

    header, blobs, off = {}, [], 0
    for k, v in tensors.items():
        b = v.detach().contiguous().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_safetensors_weights(tmp_path):
    from nets import MLP

    m = MLP()
    want = torch.cat([q.detach().reshape(-1) for q in m.parameters()]).double().numpy()
    p = str(tmp_path / "w.safetensors")
    _write_safetensors(p, m.state_dict())
    _, _, theta = load(weights=p)
    assert rel(theta, want) < 1e-15
    try:
        import safetensors.torch as st
    except ImportError:
        return  # the 2.13 venv has the package: there a file it writes is read too
    p2 = str(tmp_path / "w2.safetensors")
    st.save_file({k: v.contiguous() for k, v in m.state_dict().items()}, p2)
    _, _, theta2 = load(weights=p2)
    assert rel(theta2, want) < 1e-15


def test_weights_that_do_not_match_the_architecture(tmp_path):
    from nets import MLP

    sd = MLP().state_dict()
    missing = {k: v for k, v in sd.items() if not k.startswith("fc2")}
    msg = input_error(weights=_save(tmp_path, "missing.pt", missing))
    assert "missing.pt: does not match the model's architecture: missing keys fc2.weight, fc2.bias" in msg
    extra = dict(sd, **{"fc3.weight": torch.zeros(2, 2)})
    assert "unexpected keys fc3.weight" in input_error(weights=_save(tmp_path, "extra.pt", extra))
    wide = MLP(width=9).state_dict()
    msg = input_error(weights=_save(tmp_path, "wide.pt", wide))
    assert "shape mismatch: fc1.weight is [9, 6] in the file, [8, 6] in the model" in msg
    assert "is a dict without a state_dict" in input_error(weights=_save(tmp_path, "cfg.pt", {"lr": 0.1}))
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"not a checkpoint")
    assert input_error(weights=str(bad)).startswith(str(bad) + ": cannot be read by torch.load")


def test_weights_only_refuses_pickled_objects(tmp_path):
    from nets import MLP

    p = _save(tmp_path, "module.pt", {"model": MLP(), "note": object.__new__(MLP)})
    assert "weights_only=True" in input_error(weights=p) or "cannot be read" in input_error(weights=p)


def test_torchscript_model(tmp_path):
    from nets import CNN

    torch.manual_seed(2)
    m = CNN()
    p = str(tmp_path / "scripted.pt")
    torch.jit.script(m).save(p)
    x, y = data(n=6, shape=(1, 6, 6))
    s = Session(lambda: False)
    res, frames = s.load({"model": {"kind": "torchscript", "file": p},
                          "data": {"kind": "frames", "xShape": list(x.shape), "yShape": list(y.shape)},
                          "dtype": "float64", "device": "cpu"}, [x, y.astype(np.float32)])
    ref, _, _ = load("CNN", x, y)
    ref.set_params({}, [frames[0]])
    assert [g["name"] for g in res["groups"]] == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]
    assert res["groups"][0]["filters"] == 2
    v = np.random.default_rng(0).normal(size=res["dim"])
    assert rel(s.matmat({"operator": "hessian"}, [v])[1][0], ref.matmat({"operator": "hessian"}, [v])[1][0]) < 1e-10
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"xx")
    s2 = Session(lambda: False)
    with pytest.raises(InputError) as e:
        s2.load({"model": {"kind": "torchscript", "file": str(bad)}, "data": {"kind": "frames", "xShape": [6, 1, 6, 6], "yShape": [6]}}, [x, y])
    assert e.value.message.startswith(str(bad) + ": is not a TorchScript file")


def test_parameters_are_requires_grad_named_parameters_in_order():
    _, res, _ = load(model="frozen_first_layer")
    assert [g["name"] for g in res["groups"]] == ["fc1.bias", "fc2.weight", "fc2.bias"]
    assert [g["offset"] for g in res["groups"]] == [0, 8, 32] and res["dim"] == 35


def test_eval_mode_unless_train_mode():
    x, y = data(n=12)
    s, res, _ = load(model="BNNet", x=x, y=y)
    assert res["trainMode"] is False and not s.obj.model.training
    l1 = s.loss({}, [])[1][0][0]
    assert l1 == s.loss({}, [])[1][0][0]  # deterministic: running statistics, no dropout
    t, res_t, _ = load(model="BNNet", x=x, y=y, trainMode=True)
    assert res_t["trainMode"] is True and t.obj.model.training


def test_load_checkpoint_copies_buffers(tmp_path):
    from nets import BNNet

    m = BNNet()
    m.bn.running_mean.fill_(0.5)
    p = _save(tmp_path, "ckpt_0042.pt", {"state_dict": m.state_dict()})
    s, _, _ = load(model="BNNet")
    res, frames = s.load_checkpoint({"file": p}, [])
    assert res["step"] == 42
    assert torch.allclose(s.obj.model.bn.running_mean, torch.full((5,), 0.5, dtype=torch.float64))
    want = torch.cat([q.detach().reshape(-1) for q in m.parameters()]).double().numpy()
    assert rel(frames[0], want) < 1e-15
    res2, th = s.read_weights({"file": _save(tmp_path, "other.pt", {"model": m.state_dict(), "global_step": 9})}, [])
    assert res2["step"] == 9 and rel(th[0], want) < 1e-15


@pytest.mark.smoke
def test_builtin_losses_match_pytorch_definitions():
    x, y = data(n=10)
    s, _, _ = load("MLP", x, y)
    out = s.obj.outputs()
    yt = torch.from_numpy(y)
    l = s.loss({}, [])[1][0][0]
    assert abs(l - float(F.cross_entropy(out, yt.long()))) < 1e-12
    reg = np.random.default_rng(2).normal(size=(10, 3))
    rt = torch.from_numpy(reg.astype(np.float32).astype(np.float64))  # y travels as float32
    for name, ref in [("mse", F.mse_loss), ("mae", F.l1_loss), ("huber", lambda a, b: F.huber_loss(a, b, delta=1.0))]:
        s2, _, _ = load("MLP", x, reg, loss={"kind": "builtin", "name": name})
        s2.set_params({}, [s.obj.get_flat().numpy()])
        assert abs(s2.loss({}, [])[1][0][0] - float(ref(out, rt))) < 1e-12, name
    bits = (reg > 0).astype(np.float64)
    s3, _, _ = load("MLP", x, bits, loss={"kind": "builtin", "name": "binary_crossentropy"})
    s3.set_params({}, [s.obj.get_flat().numpy()])
    assert abs(s3.loss({}, [])[1][0][0] - float(F.binary_cross_entropy_with_logits(out, torch.from_numpy(bits)))) < 1e-12
    # A model ending in an nn.Softmax module: its pre-softmax values are the logits (the TF.js
    # engine's Keras rule), and the result says so.
    sm, res, _ = load("SoftmaxMLP", x, y)
    assert res["loss"]["fromLogits"] is True and res["loss"]["reading"] == "pre-activation" and res["loss"]["warnings"]
    sm.set_params({}, [s.obj.get_flat().numpy()])
    assert abs(sm.loss({}, [])[1][0][0] - l) < 1e-12
    # Probabilities from a functional softmax with fromLogits false: the clipped log-probabilities.
    fs, res, _ = load("FunctionalSoftmax", x, y, loss={"kind": "builtin", "name": "categorical_crossentropy", "fromLogits": False})
    assert res["loss"]["fromLogits"] is False and res["loss"]["reading"] == "outputs"
    fs.set_params({}, [s.obj.get_flat().numpy()])
    p = fs.obj.outputs()
    assert abs(fs.loss({}, [])[1][0][0] - float(F.nll_loss(torch.log(p.clamp(1e-7, 1 - 1e-7)), yt.long()))) < 1e-12


def test_loss_modules_function_class_and_scalar_only():
    x, y = data(n=9)
    lf = {"kind": "module", "file": fixture("losses_user.py")}
    s_ref, _, theta = load("MLP", x, y)
    l_ref = s_ref.per_sample_losses({}, [])[1][0]
    for name in ("MyCE", "scalar_only_ce"):
        s, res, _ = load("MLP", x, y, loss=dict(lf, name=name))
        s.set_params({}, [theta])
        assert rel(s.per_sample_losses({}, [])[1][0], l_ref) < 1e-12, name
        assert res["loss"]["perSample"] is (name == "MyCE")
        v = np.random.default_rng(1).normal(size=res["dim"])
        for op in ("hessian", "fisher"):
            assert rel(s.matmat({"operator": op}, [v])[1][0], s_ref.matmat({"operator": op}, [v])[1][0]) < 1e-10
    s, res, _ = load("MLP", x, y, loss=dict(lf, name="focal_loss"))
    assert res["loss"]["perSample"] is True and res["loss"]["name"] == "custom"
    s.set_params({}, [theta])
    out = s_ref.obj.outputs()
    logp = F.log_softmax(out, -1).gather(1, torch.from_numpy(y).long().reshape(-1, 1)).reshape(-1)
    assert rel(s.per_sample_losses({}, [])[1][0], (-(1 - logp.exp()) ** 2 * logp).numpy()) < 1e-12


def test_loss_modules_that_raise_or_return_the_wrong_shape():
    lf = {"kind": "module", "file": fixture("losses_user.py")}
    msg = input_error(loss=dict(lf, name="raising_loss"))
    assert msg.startswith(fixture("losses_user.py") + ": the loss raising_loss raised RuntimeError: labels must be one-hot")
    msg = input_error(loss=dict(lf, name="wrong_shape"))
    assert "the loss wrong_shape returned shape [3], expected [4] (one loss per sample) or a scalar" in msg
    assert "has no 'nope'" in input_error(loss=dict(lf, name="nope"))
    assert "unknown loss 'kl'" in input_error(loss={"kind": "builtin", "name": "kl"})


def test_data_modules_and_subsets():
    s = Session(lambda: False)
    base = {"model": {"kind": "module", "file": fixture("nets.py"), "name": "MLP"}, "dtype": "float64", "device": "cpu"}
    res, _ = s.load(dict(base, data={"kind": "module", "file": fixture("data_user.py"), "name": "make_data", "args": {"n": 11}}), [])
    assert res["sampleCount"] == 11
    res, _ = s.load(dict(base, data={"kind": "module", "file": fixture("data_user.py"), "name": "Pairs"}, samples={"count": 4}), [])
    assert res["sampleCount"] == 4
    res, _ = s.load(dict(base, data={"kind": "module", "file": fixture("data_user.py"), "name": "Pairs"}, samples={"indices": [0, 8]}), [])
    assert res["sampleCount"] == 2
    # The labels of a module's samples, which the client never saw (grokking's NTK probe needs them).
    meta, (y,) = s.targets({}, [])
    assert meta == {"shape": [2], "indices": True} and y.dtype == np.float64
    s.load(dict(base, data={"kind": "module", "file": fixture("data_user.py"), "name": "Pairs"}), [])
    _, (all_y,) = s.targets({}, [])
    assert len(all_y) == 9 and y.tolist() == [all_y[0], all_y[8]] and all_y.tolist() == [float(int(v)) for v in all_y]
    with pytest.raises(InputError) as e:
        s.load(dict(base, data={"kind": "module", "file": fixture("data_user.py"), "name": "broken"}), [])
    assert e.value.message == fixture("data_user.py") + ": broken returned a str; expected (x, y) tensors or a map-style Dataset"


def test_devices_and_dtypes():
    msg = input_error(device="tpu")
    assert msg.startswith("--device: 'tpu' is not a device")
    if not torch.cuda.is_available():
        assert "CUDA is not available" in input_error(device="cuda:0")
    assert "'float16' is not float32 or float64" in input_error(dtype="float16")
    _, res, theta = load(device="auto", dtype="float32")
    assert res["backend"]["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert theta.dtype == np.float32 and res["backend"]["torch"] == torch.__version__
