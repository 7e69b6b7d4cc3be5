"""Static activation scales from a calibration sample, kept only where they measure better.

Dynamic scales (one per row, computed by ``linear_int8`` as it loads the row) adapt to every
input; a static scale (one per layer, the largest |activation| seen in the sample) saves that
reduction but is coarser and saturates on inputs larger than the sample's. Which one is better
is a measurement, not a belief: both run on the sample and static is kept only if it is at
least as accurate against the float layers *and* faster. Static scales apply to host (numpy)
inputs, where they were measured; GPU inputs always use dynamic scales.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton.inference.layers import Layer, float_forward
from lepton.inference.quantized import INT8_MAX, QuantizedLayer


@dataclass(frozen=True)
class CalibrationReport:
    mode: str  # "static" or "dynamic": what predict uses
    rows: int
    mean_abs_error_dynamic: float
    mean_abs_error_static: float
    seconds_dynamic: float  # best of a few runs over the sample
    seconds_static: float
    scales: tuple[float, ...]  # the static scale of each layer's input

    def __str__(self) -> str:
        return (
            f"activation scales: {self.mode} (on {self.rows} calibration rows: mean |error| "
            f"dynamic {self.mean_abs_error_dynamic:.3g} vs static "
            f"{self.mean_abs_error_static:.3g}; "
            f"time dynamic {self.seconds_dynamic * 1e3:.3g} ms vs static "
            f"{self.seconds_static * 1e3:.3g} ms)"
        )


def layer_input_scales(layers: Sequence[Layer], x: np.ndarray) -> list[float]:
    """Per layer, the scale mapping the largest |input| seen in ``x`` to 127."""
    scales = []
    h = x
    for layer in layers:
        peak = float(np.abs(h).max())
        scales.append(peak / INT8_MAX if peak > 0 else 1.0)
        h = float_forward([layer], h, np)
    return scales


def _best_seconds(fn: Callable[[], Any], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def calibrate(
    layers: Sequence[Layer],
    quantized: Sequence[QuantizedLayer],
    x: np.ndarray,
    run: Callable[[np.ndarray, bool], np.ndarray],
) -> CalibrationReport:
    """Set static scales on ``quantized`` and measure both modes on ``x``.

    ``run(x, static)`` is the int8 forward pass up to the head's scores.
    """
    scales = layer_input_scales(layers, x)
    for q, s in zip(quantized, scales, strict=True):
        q.static_scale = s
    reference = float_forward(layers, x, np).astype(np.float64)
    err_dynamic = float(np.abs(run(x, False) - reference).mean())
    err_static = float(np.abs(run(x, True) - reference).mean())
    t_dynamic = _best_seconds(lambda: run(x, False))
    t_static = _best_seconds(lambda: run(x, True))
    mode = "static" if err_static <= err_dynamic and t_static < t_dynamic else "dynamic"
    return CalibrationReport(
        mode, x.shape[0], err_dynamic, err_static, t_dynamic, t_static, tuple(scales)
    )
