"""torch nn.Sequential models (skipped when torch is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from lepton import Lepton  # noqa: E402


def _raw(model):
    """(W, b, activation) triples equivalent to a Linear/activation Sequential."""
    names = {nn.ReLU: "relu", nn.GELU: "gelu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    layers = []
    for module in model:
        if isinstance(module, nn.Linear):
            b = None if module.bias is None else module.bias.detach().double().numpy()
            layers.append([module.weight.detach().double().numpy(), b, None])
        elif type(module) in names:
            layers[-1][2] = names[type(module)]
    return layers


def test_sequential_within_the_bound(error_bound):
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 48), nn.GELU(), nn.Dropout(0.5),
        nn.Linear(48, 32), nn.Tanh(), nn.Linear(32, 16), nn.Sigmoid(), nn.Linear(16, 3, bias=False),
    )  # fmt: skip
    x = np.random.default_rng(0).standard_normal((100, 30)).astype(np.float32)
    lep = Lepton(model)
    got = lep.predict(x)
    want, bound = error_bound(_raw(model), x)
    np.testing.assert_allclose(want, model.eval()(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    assert np.all(np.abs(got - want) <= bound)


def test_torch_tensor_in_torch_tensor_out():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(5, 8)
    out = Lepton(model).predict(x)
    assert isinstance(out, torch.Tensor)
    assert out.shape == (5, 2)
    np.testing.assert_allclose(out.numpy(), model(x).detach().numpy(), atol=0.05)


def test_nested_sequential_and_identity():
    model = nn.Sequential(nn.Sequential(nn.Linear(6, 6), nn.ReLU()), nn.Identity(), nn.Linear(6, 2))
    lep = Lepton(model)
    assert [q.activation for q in lep.layers_] == ["relu", None]


def test_compare_uses_the_torch_model():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    x = np.random.default_rng(2).standard_normal((64, 10)).astype(np.float32)
    report = Lepton(model).compare(x, rounds=1, min_window_s=0)
    assert report.model == "torch Sequential"
    assert report.max_abs_error < 0.1
    assert model.training  # compare put the model back in the mode it found it in


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (nn.Linear(3, 3), "torch Linear is not supported; pass an nn.Sequential"),
        (nn.Sequential(nn.Linear(3, 3), nn.Conv1d(1, 1, 1)), r"model\[1\]: layer Conv1d"),
        (nn.Sequential(nn.ReLU(), nn.Linear(3, 3)), r"model\[0\]: ReLU must follow a Linear"),
        (nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.ReLU()), r"model\[2\]: ReLU must follow"),
        (nn.Sequential(nn.Linear(3, 3), nn.GELU(approximate="tanh")), "approximate='tanh'"),
        (nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)), "expects 5 inputs but layer 0 gives 4"),
    ],
)
def test_unsupported_torch_models(model, match):
    with pytest.raises((TypeError, ValueError), match=match):
        Lepton(model)


def test_sequential_without_linear():
    with pytest.raises(ValueError, match="no Linear layer"):
        Lepton(nn.Sequential(nn.Identity()))
