"""A model as a chain of dense layers: the float description that gets quantized.

Every supported model is first turned into ``[Layer(weight (N, K), bias (N,), activation)]``
in float32, the layout of torch and of ``linear_int8`` (one row of ``weight`` per output
channel). Raw ``[(W, b, activation), ...]`` lists are validated here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from lepton import _validate

# Activations the int8 GEMM applies in its epilogue; the rest run as one extra pass after it.
FUSED_ACTIVATIONS = ("relu", "gelu", "sigmoid")
ACTIVATIONS = (None, *FUSED_ACTIVATIONS, "tanh")
_ALIASES = {"identity": None, "linear": None, "none": None, "logistic": "sigmoid"}


@dataclass(frozen=True)
class Layer:
    weight: np.ndarray  # (N, K) float32, C-contiguous
    bias: np.ndarray | None  # (N,) float32
    activation: str | None  # one of ACTIVATIONS

    @property
    def n_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weight.shape[0])

    @property
    def fused_activation(self) -> str | None:
        return self.activation if self.activation in FUSED_ACTIVATIONS else None


def activation_name(value: Any, name: str) -> str | None:
    """Normalise an activation spelling (``"logistic"`` → ``"sigmoid"``, ``"identity"`` → None)."""
    if value is not None and not isinstance(value, str):
        msg = f"{name}: expected an activation name or None, got {type(value).__name__}"
        raise TypeError(msg)
    key = value.lower() if isinstance(value, str) else None
    canonical = _ALIASES.get(key, key)
    if canonical not in ACTIVATIONS:
        supported = ", ".join(repr(a) for a in (*ACTIVATIONS[1:], "identity", "logistic"))
        msg = f"{name}: unsupported activation {value!r}; supported: {supported} or None"
        raise ValueError(msg)
    return canonical


def make_layer(weight: Any, bias: Any, activation: Any, name: str) -> Layer:
    """One validated float32 layer; ``name`` prefixes every error (``layers[2]``)."""
    w = _validate.host_array(weight, f"{name} weight", ndim=2)
    if not np.issubdtype(w.dtype, np.number) or np.issubdtype(w.dtype, np.complexfloating):
        msg = f"{name} weight: expected a real numeric (N, K) array, got dtype {w.dtype}"
        raise TypeError(msg)
    w = np.ascontiguousarray(w, dtype=np.float32)
    if not np.isfinite(w).all():
        msg = f"{name} weight: contains NaN or inf"
        raise ValueError(msg)
    b = None if bias is None else _validate.vector(bias, f"{name} bias", w.shape[0])
    if b is not None and not np.isfinite(b).all():
        msg = f"{name} bias: contains NaN or inf"
        raise ValueError(msg)
    return Layer(w, b, activation_name(activation, f"{name} activation"))


def raw_layers(spec: Sequence[Any]) -> list[Layer]:
    """Validate ``[(W (N, K), b (N,) or None, activation), ...]`` and check the shapes chain."""
    if len(spec) == 0:
        msg = "model: expected at least one (W, b, activation) layer, got an empty list"
        raise ValueError(msg)
    layers = []
    for i, item in enumerate(spec):
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            msg = f"model[{i}]: expected a (W, b, activation) triple, got {type(item).__name__}"
            raise TypeError(msg)
        layers.append(make_layer(*item, name=f"model[{i}]"))
    check_chain(layers)
    return layers


def check_chain(layers: Sequence[Layer]) -> None:
    """Each layer's input width must be the previous layer's output width."""
    for i in range(1, len(layers)):
        if layers[i].n_in != layers[i - 1].n_out:
            msg = (
                f"model[{i}]: weight expects {layers[i].n_in} inputs but layer {i - 1} gives "
                f"{layers[i - 1].n_out} outputs (W must be (N_out, N_in), torch's layout)"
            )
            raise ValueError(msg)


def apply_activation(z: Any, activation: str | None, xp: ModuleType) -> Any:
    """The float activation (reference path, and the unfused tail of the int8 path), in place."""
    if activation is None:
        return z
    if activation == "relu":
        return xp.maximum(z, 0, out=z)
    if activation == "tanh":
        return xp.tanh(z, out=z)
    if activation == "sigmoid":
        return sigmoid(z, xp)
    if activation == "gelu":
        return gelu(z, xp)
    msg = f"activation: unsupported {activation!r}"
    raise ValueError(msg)


def sigmoid(z: Any, xp: ModuleType) -> Any:
    # exp(-log(1 + e^-z)) never overflows, unlike 1 / (1 + exp(-z)) for very negative z.
    return xp.exp(-xp.logaddexp(0, -z)).astype(z.dtype, copy=False)


def gelu(z: Any, xp: ModuleType) -> Any:
    """Exact GELU x·Φ(x) (torch's default, ``approximate="none"``)."""
    erf = _erf(xp)
    return (0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))).astype(z.dtype, copy=False)


def _erf(xp: ModuleType) -> Any:
    if xp is np:
        try:
            from scipy.special import erf
        except ImportError:  # scipy comes with scikit-learn; without it use math.erf per element
            return np.vectorize(math.erf, otypes=[np.float64])
        return erf
    from cupyx.scipy.special import erf

    return erf


def float_forward(layers: Sequence[Layer], x: Any, xp: ModuleType) -> Any:
    """The float32 forward pass of ``layers`` (the reference for raw layer lists)."""
    h = x
    for layer in layers:
        w = layer.weight if xp is np else xp.asarray(layer.weight)
        h = h @ w.T
        if layer.bias is not None:
            h += layer.bias if xp is np else xp.asarray(layer.bias)
        h = apply_activation(h, layer.activation, xp)
    return h
