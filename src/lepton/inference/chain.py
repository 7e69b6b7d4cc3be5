"""The int8 forward passes: per-row dynamic scales, or int8 handed from layer to layer.

``dynamic_forward``: every layer is one ``linear_int8`` call — its float input quantized per
row as it is loaded, float32 out. Two kernels per layer on CUDA (quantize, GEMM) and a float32
activation written and read back between layers.

``int8_chain_forward``: with static scales (``calibration.layer_input_scales``), each layer's
epilogue requantizes its output straight to int8 with the next layer's scale (``out_dtype=
"int8", out_scale=s``: ``clip(round_half_even(y / s), ±127)``), and the next layer is a plain
``int8_gemm`` with ``a_scale = s``. One kernel per layer after the first, a quarter of the
bytes between layers. The first layer still quantizes its float input per row (there is no
previous epilogue to do it), and the last writes float32 scores. A layer whose activation has
no epilogue (tanh) hands over float32 and the next layer quantizes dynamically again.

On Hopper the two differ in kernels too: int8 output exists only on the mma.sync configs (the
wgmma kernels have no int8 epilogue), while float32 output lets the heuristic take a wgmma
config for large batches (M > 64). At small M both run mma.sync; at M = 4096 the hand-off trades
wgmma for fewer bytes and kernels — the GPU inference bench times both models side by side.

Both are plain compositions of public ops, for numpy and cupy alike: the CPU runs the same
chain the GPU does, which is how calibration measures the chain's error on the host and how
the tests check it without a device.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from lepton import ops
from lepton.inference.layers import apply_activation
from lepton.inference.quantized import QuantizedLayer


def dynamic_forward(layers: Sequence[QuantizedLayer], x: Any, xp: ModuleType, device: str) -> Any:
    h = x
    for layer in layers:
        h = layer.forward(h, xp, device)
    return h


def handoff_scales(layers: Sequence[QuantizedLayer], scales: Sequence[float]) -> list[float | None]:
    """Per layer, the int8 scale its output is handed on with (None: float32 output).

    Layer i hands int8 to layer i + 1 when its activation is fused (the epilogue can apply it
    before requantizing) and layer i + 1 has a static scale.
    """
    out: list[float | None] = []
    for i, layer in enumerate(layers):
        last = i == len(layers) - 1
        fused = layer.activation == layer.fused
        out.append(None if last or not fused else float(scales[i + 1]))
    return out


def int8_chain_forward(
    layers: Sequence[QuantizedLayer],
    x: Any,
    xp: ModuleType,
    device: str,
    handoff: Sequence[float | None],
) -> Any:
    """``handoff`` from :func:`handoff_scales`; returns the last layer's float32 scores."""
    h: Any = x  # float input of the next layer, or None while int8 is handed on
    q: Any = None  # int8 input of the next layer
    q_scale = 1.0
    for layer, out_scale in zip(layers, handoff, strict=True):
        kwargs: dict[str, Any] = {}
        if out_scale is not None:
            kwargs = {"out_dtype": "int8", "out_scale": out_scale}
        if q is None:
            out = ops.linear_int8(h, layer.packed_for(xp, device), activation=layer.fused, **kwargs)
        else:
            w_q, w_scale, bias = layer.weights_on(xp, device)
            a_scale = xp.full(q.shape[0], q_scale, dtype=np.float32)
            out = ops.int8_gemm(
                q, w_q, a_scale=a_scale, b_scale=w_scale, bias=bias, activation=layer.fused,
                out_dtype=kwargs.get("out_dtype", "float32"), out_scale=out_scale,
            )  # fmt: skip
        if out_scale is None:
            h, q = out, None
            if layer.activation != layer.fused:  # tanh: one pass after the GEMM
                h = apply_activation(h, layer.activation, xp)
        else:
            h, q, q_scale = None, out, out_scale
    return h
