"""The fused apply kernel as the elementwise steps scikit-learn's transformers take:
``y = (fill(x) − center) · mul`` per column, NaN → fill (NaN to keep it), ±inf left as it is."""

from __future__ import annotations

import numpy as np

from lepton.accel.adapters.base import Unsupported, check_no_inf, check_output_no_inf
from lepton.ops.preprocess import PreprocessPlan, apply_plan

# A float32 input runs the kernel in float32 with the centre rounded to float32; scikit-learn
# subtracts its float64 centre. The rounding moves every output of a column by
# |center − float32(center)| · mul; past this (in output units, ~8 float32 ulps of 1) the call
# is left to scikit-learn.
FLOAT32_CENTRE_ERROR = 2.0**-20


def centre_rounding_error(dtype: np.dtype, center: np.ndarray, mul: np.ndarray) -> float:
    """The largest output shift the float32 rounding of ``center`` causes (0 for float64)."""
    if dtype != np.float32:
        return 0.0
    rounded = center.astype(np.float32).astype(np.float64)
    return float(np.max(np.abs(center - rounded) * np.abs(mul), initial=0.0))


def apply_affine(
    arr: np.ndarray,
    *,
    fill: np.ndarray,
    center: np.ndarray,
    mul: np.ndarray,
    in_place: bool,
    inf_checked: bool = False,
    est: object = None,
) -> np.ndarray:
    """One read, one write (into ``arr`` itself when ``in_place``); the output keeps arr's
    dtype and memory order.

    Unless ``inf_checked`` (the statistics already showed X finite, or it was checked), ±inf in
    X is looked for as scikit-learn would refuse it: in X before writing into it in place, in
    the output otherwise (±inf passes through the kernel unchanged, and an output without NaN
    is checked in one pass).
    """
    d = arr.shape[1]
    center = np.ascontiguousarray(center, dtype=np.float64)
    mul = np.ascontiguousarray(mul, dtype=np.float64)
    err = centre_rounding_error(arr.dtype, center, mul)
    if err > FLOAT32_CENTRE_ERROR:
        msg = (
            f"float32 data far from its centre (the float32 centre moves outputs by up to "
            f"{err:.2g}): scikit-learn's float64 arithmetic keeps those digits"
        )
        raise Unsupported(msg)
    plan = PreprocessPlan(
        n_columns=d,
        out_dtype=None,
        fill=np.ascontiguousarray(fill, dtype=np.float64),
        lo=np.full(d, -np.inf),
        hi=np.full(d, np.inf),
        center=center,
        mul=mul,
        divisor=np.where(mul != 0, 1.0 / np.where(mul != 0, mul, 1.0), 1.0),
        replace_inf=False,
        quant_scale=None,
    )
    if in_place and not inf_checked:
        check_no_inf(arr, est)
    out = apply_plan(arr, plan, out=arr if in_place else None)
    if not (in_place or inf_checked):
        check_output_no_inf(out)
    return out
