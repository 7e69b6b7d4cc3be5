"""Static activation scales from a calibration sample, kept only where they measure better.

Dynamic scales (one per row, computed by ``linear_int8`` as it loads the row) adapt to every
input; a static scale (one per layer, the largest |activation| seen in the sample) saves that
reduction but is coarser and saturates on inputs larger than the sample's. Which one is better
is a measurement, not a belief: both run on the sample and static is kept only if it is at
least as accurate against the float layers *and* faster. Static scales apply to host (numpy)
inputs, where they were measured.

On CUDA the static scales serve another purpose: handing int8 from one layer's epilogue to the
next (``chain.int8_chain_forward``), which saves a quantize kernel and the float32 round trip
per layer there. Its speed-up on a GPU is by construction (fewer kernels, fewer bytes) and
cannot be timed on host calibration data, so only its accuracy decides: the chain (run on the
host, the same ops the GPU runs) is used for CUDA inputs when its error on the sample is at
most ``CHAIN_ERROR_FACTOR`` times the dynamic path's — flash-attention's rule of judging a
low-precision path by its error relative to a reference path's, not by a fixed tolerance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton.inference.layers import Layer, float_forward
from lepton.inference.quantized import INT8_MAX, QuantizedLayer

CHAIN_ERROR_FACTOR = 2.0


@dataclass(frozen=True)
class CalibrationReport:
    mode: str  # "static" or "dynamic": what predict uses
    rows: int
    mean_abs_error_dynamic: float
    mean_abs_error_static: float
    seconds_dynamic: float  # best of a few runs over the sample
    seconds_static: float
    scales: tuple[float, ...]  # the static scale of each layer's input
    # CUDA inputs: "static" hands int8 between layers (int8_chain_forward), else "dynamic"
    cuda_mode: str = "dynamic"
    mean_abs_error_chain: float | None = None  # that chain's error on the sample (host run)

    def __str__(self) -> str:
        text = (
            f"activation scales: {self.mode} (on {self.rows} calibration rows: mean |error| "
            f"dynamic {self.mean_abs_error_dynamic:.3g} vs static "
            f"{self.mean_abs_error_static:.3g}; "
            f"time dynamic {self.seconds_dynamic * 1e3:.3g} ms vs static "
            f"{self.seconds_static * 1e3:.3g} ms)"
        )
        if self.mean_abs_error_chain is not None:
            text += (
                f"; CUDA inputs: {self.cuda_mode} (int8 between layers: mean |error| "
                f"{self.mean_abs_error_chain:.3g}, kept up to {CHAIN_ERROR_FACTOR:g}x dynamic)"
            )
        return text


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
    run_chain: Callable[[np.ndarray, list[float]], np.ndarray] | None = None,
) -> CalibrationReport:
    """Set static scales on ``quantized`` and measure both modes on ``x``.

    ``run(x, static)`` is the int8 forward pass up to the head's scores; ``run_chain(x,
    scales)`` the int8-handoff pass with these scales (None: not offered, e.g. one layer).
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
    err_chain, cuda_mode = None, "dynamic"
    if run_chain is not None:
        err_chain = float(np.abs(run_chain(x, scales) - reference).mean())
        if err_chain <= CHAIN_ERROR_FACTOR * err_dynamic:
            cuda_mode = "static"
    return CalibrationReport(
        mode, x.shape[0], err_dynamic, err_static, t_dynamic, t_static, tuple(scales),
        cuda_mode, err_chain,
    )  # fmt: skip
