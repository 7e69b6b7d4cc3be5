"""One dense layer in int8: weights quantized per output channel and packed once.

Activations are quantized per row on the fly by ``linear_int8`` (dynamic scales, the default),
or with one scale per layer measured on a calibration sample (static scales).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from lepton import ops
from lepton.inference.layers import Layer, apply_activation

INT8_MAX = 127


class QuantizedLayer:
    """``linear_int8`` with this layer's packed weights and its activation fused."""

    def __init__(self, layer: Layer) -> None:
        self.activation = layer.activation
        self.fused = layer.fused_activation
        self.n_in, self.n_out = layer.n_in, layer.n_out
        self.w_q, self.w_scale = ops.quantize(layer.weight, axis=-1)
        self.bias = layer.bias
        self.static_scale: float | None = None  # set by calibration when static scales win
        self._packed: dict[str, Any] = {"cpu": ops.pack_weights(self.w_q, self.w_scale, self.bias)}
        self._device_weights: dict[str, tuple[Any, Any, Any]] = {}

    def forward(
        self,
        h: Any,
        xp: ModuleType,
        device: str,
        *,
        static: bool = False,
        column_map: tuple[Any, Any] | None = None,
    ) -> Any:
        """``column_map``: (center, mul), host dynamic path only: the rows are quantized as
        ``(h − center) · mul`` (a pipeline's scaling fused in; ``FrontPass.column_map``)."""
        if static and self.static_scale is not None:
            if column_map is not None:
                msg = "column_map: the static-scale path quantizes without a column map"
                raise ValueError(msg)
            out = self._static(h, xp, device)
        elif column_map is not None:
            center, mul = column_map
            out = ops.linear_int8(
                h, self.packed_for(xp, device), activation=self.fused, col_center=center,
                col_mul=mul,
            )  # fmt: skip
        else:
            out = ops.linear_int8(h, self.packed_for(xp, device), activation=self.fused)
        if self.activation != self.fused:  # tanh has no epilogue: one extra pass
            out = apply_activation(out, self.activation, xp)
        return out

    def packed_for(self, xp: ModuleType, device: str) -> Any:
        # The packed layout is device-specific (CPU: ISA blocking; GPU: tensor-core tiles), so a
        # GPU copy is packed once, the first time an input arrives on that device.
        packed = self._packed.get(device)
        if packed is None:
            w_q, w_scale, bias = self.weights_on(xp, device)
            packed = self._packed[device] = ops.pack_weights(w_q, w_scale, bias)
        return packed

    def weights_on(self, xp: ModuleType, device: str) -> tuple[Any, Any, Any]:
        if xp is np:
            return self.w_q, self.w_scale, self.bias
        cached = self._device_weights.get(device)
        if cached is None:
            with xp.cuda.Device(
                int(device.split(":")[1])
            ):  # the input's device, not cupy's current
                bias = None if self.bias is None else xp.asarray(self.bias)
                cached = (xp.asarray(self.w_q), xp.asarray(self.w_scale), bias)
            self._device_weights[device] = cached
        return cached

    def _static(self, h: Any, xp: ModuleType, device: str) -> Any:
        """Quantize with the calibrated per-layer scale (values beyond it saturate at ±127)."""
        scale = np.float32(self.static_scale)
        q = xp.rint(h * (np.float32(1.0) / scale))
        xp.clip(q, -INT8_MAX, INT8_MAX, out=q)
        w_q, w_scale, bias = self.weights_on(xp, device)
        a_scale = xp.full(h.shape[0], scale, dtype=np.float32)
        return ops.int8_gemm(
            q.astype(np.int8),
            w_q,
            a_scale=a_scale,
            b_scale=w_scale,
            bias=bias,
            activation=self.fused,
        )
