"""Shared data, fitted models and the quantization error bound for the inference tests."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import erf
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _split(X: np.ndarray, y: np.ndarray) -> Split:
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


@pytest.fixture(scope="session")
def digits() -> Split:
    return _split(*load_digits(return_X_y=True))


@pytest.fixture(scope="session")
def breast_cancer() -> Split:
    return _split(*load_breast_cancer(return_X_y=True))


@pytest.fixture(scope="session")
def diabetes() -> Split:
    return _split(*load_diabetes(return_X_y=True))


@pytest.fixture(scope="session")
def fit() -> Callable:
    """Fit an sklearn model quietly (small max_iter: convergence is not what is tested).

    Fitted models are shared across tests (the same estimator on the same session data is
    fitted once); tests only read them.
    """
    cache: dict[tuple, object] = {}

    def fit_model(model, X, y):
        key = (repr(model), id(X), np.asarray(y).tobytes(), np.asarray(y).shape)
        if key not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                cache[key] = model.fit(X, y)
        return cache[key]

    return fit_model


# --- the worst-case error of the int8 path -----------------------------------------------------
#
# One layer, float input x (K,), weights w (N, K), bias b. The int8 path receives x̃ with
# |x̃ - x| ≤ e elementwise (e = 0 for the first layer) and computes
#     s  = max|x̃| / 127,  q = rint(x̃ / s)          so |s·q - x̃| ≤ s/2  (no saturation: |x̃/s| ≤ 127)
#     sw = max_k|w_jk| / 127, ŵ = sw·rint(w / sw)   so |ŵ - w| ≤ sw/2 and |ŵ| ≤ |w| + sw/2
#     ẑ_j = Σ_k (s·q_k)·ŵ_jk + b_j                  (int32 accumulation is exact)
# and  ẑ_j - z_j = Σ_k (s·q_k - x̃_k)·ŵ_jk + (x̃_k - x_k)·ŵ_jk + x_k·(ŵ_jk - w_jk), hence
#     |ẑ_j - z_j| ≤ s/2 · Σ_k|ŵ_jk| + Σ_k e_k·|ŵ_jk| + sw_j/2 · Σ_k|x_k|
# with s ≤ (max|x| + max e)/127. The float32 epilogue (convert, two scale multiplies, bias add)
# and float32 weights add a few ulps of Σ|x||w| + |b|: a relative slack of 2⁻¹⁸ covers them.
# The activation is Lipschitz with constant L (ReLU, tanh, identity 1; sigmoid 1/4; GELU
# max|Φ(x) + xφ(x)| < 1.13), so the next layer's input error is e' = L·bound (+ 1e-6 for the
# epilogue's float32 activation). Static scales replace s by the calibrated scale, measured on
# the float path: on the calibration rows an int8-path input can pass it by at most e, and
# saturating at ±127 moves it by that much more, so the e term counts twice.

LIPSCHITZ = {None: 1.0, "relu": 1.0, "tanh": 1.0, "sigmoid": 0.25, "gelu": 1.13}
_SLACK = 2.0**-18


def activate(z: np.ndarray, activation: str | None) -> np.ndarray:
    if activation is None:
        return z
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 0.5 * (1 + np.tanh(0.5 * z))  # overflow-free σ
    if activation == "gelu":
        return 0.5 * z * (1 + erf(z / np.sqrt(2)))
    raise ValueError(activation)


def forward_with_bound(
    layers: Sequence[tuple[np.ndarray, np.ndarray | None, str | None]],
    x: np.ndarray,
    static_scales: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 forward of raw layers and the elementwise bound on the int8 path's error."""
    h = np.asarray(x, dtype=np.float64)
    e = np.abs(h) * 2.0**-24  # the int8 path sees x rounded to float32
    for i, (w, b, act) in enumerate(layers):
        w = np.asarray(w, dtype=np.float64)
        b = np.zeros(w.shape[0]) if b is None else np.asarray(b, dtype=np.float64)
        sw = np.abs(w).max(axis=1) / 127
        w_hat_abs = np.abs(w) + sw[:, None] / 2
        if static_scales is None:
            s = (np.abs(h).max(axis=1, keepdims=True) + e.max(axis=1, keepdims=True)) / 127
            e_count = 1
        else:
            s = np.full((h.shape[0], 1), static_scales[i])
            e_count = 2
        z = h @ w.T + b
        bound = (
            s / 2 * w_hat_abs.sum(axis=1)
            + e_count * (e @ w_hat_abs.T)
            + np.abs(h).sum(axis=1, keepdims=True) * sw / 2
            + _SLACK * ((np.abs(h) + e) @ w_hat_abs.T + np.abs(b))
        )
        h = activate(z, act)
        e = LIPSCHITZ[act] * bound + 1e-6
    return h, e


@pytest.fixture(scope="session")
def error_bound() -> Callable:
    return forward_with_bound


def sklearn_layers(model) -> list[tuple[np.ndarray, np.ndarray, str | None]]:
    """(W (N, K), b, activation) of a fitted sklearn MLP or linear model, head excluded."""
    if hasattr(model, "coefs_"):
        hidden = {"identity": None, "logistic": "sigmoid"}.get(model.activation, model.activation)
        n = len(model.coefs_)
        return [
            (w.T, b, None if i == n - 1 else hidden)
            for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True))
        ]
    coef = np.atleast_2d(model.coef_)
    return [(coef, np.broadcast_to(model.intercept_, coef.shape[:1]), None)]


@pytest.fixture(scope="session")
def layers_of() -> Callable:
    return sklearn_layers


# --- a stand-in for the CUDA-graph backend (inference.graphs.GraphBackend) --------------------
#
# ``capture`` records the function without running it, as a stream capture does; a replay
# copies the input into the static buffer, runs the recorded function on it, writes the static
# output and returns a copy: the contract of ``cupy_graphs.CupyCaptured``.


class FakeCaptured:
    def __init__(self, fn, x):
        self.fn = fn
        self.static_in = np.empty_like(x)
        self.static_out = None
        self.replays = 0
        self.released = False

    def replay(self, x):
        assert not self.released
        np.copyto(self.static_in, x)
        out = self.fn(self.static_in)
        if self.static_out is None:
            self.static_out = np.empty_like(out)
        np.copyto(self.static_out, out)
        self.replays += 1
        return self.static_out.copy()

    def release(self):
        self.released = True


class FakeBackend:
    def __init__(self, fail_capture=None, corrupt=False):
        self.current_stream = 7
        self.captured: list[FakeCaptured] = []
        self.fail_capture = fail_capture
        self.corrupt = corrupt

    def stream(self, device):
        return self.current_stream + 1000 * device

    def capture(self, fn, x, device):
        if self.fail_capture is not None:
            raise self.fail_capture
        if self.corrupt:
            inner = fn

            def fn(h):
                return inner(h) + 1

        captured = FakeCaptured(fn, x)
        self.captured.append(captured)
        return captured

    def equal(self, a, b):
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


@pytest.fixture(scope="session")
def graph_fakes() -> SimpleNamespace:
    return SimpleNamespace(FakeBackend=FakeBackend, FakeCaptured=FakeCaptured)
