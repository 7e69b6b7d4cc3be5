"""A pipeline's per-column steps (impute, clip, scale) composed into one fused pass.

Scalers, imputers and clippers act on each column alone. Any chain of them is, per raw input
column ``j``, ``y = clip(fill(x), lo, hi) · a + b`` — which is exactly what the fused
preprocessing kernel computes (``ops.preprocess``: ``(clip(fill(x), lo, hi) − center) · mul``).
So however many such steps a pipeline has, they run as one read and one write of ``x``.

Why not fold them into the first int8 layer instead: ``linear_int8`` quantizes each row of its
input with one scale (its largest magnitude). Raw columns often differ by orders of magnitude
(breast cancer: 0.001 to 4000), so the large ones would set the row's step and the small ones
would round to zero; the folded weights ``W / σ`` would be as lopsided for the per-channel weight
scales. Scaled first, every column gets its share of the 8 bits. Dense steps (PCA) come after
this pass and are folded into the layers (``from_pipeline``).

Composition is exact in float64: an affine step multiplies ``a`` and shifts ``b``; a clip in
output units becomes bounds in raw units through the inverse of the (monotone) affine map; an
imputed value in output units becomes the raw value that maps onto it. A column whose map is
constant (``a = 0``, lepton's constant columns) keeps its constant ``b`` outside the kernel
(``residual``), since ``(x − center) · mul`` cannot add a constant: the dense step after the
pass adds it (into the first layer's bias).

When the steps are nothing but that affine map per column (no fill, no clip, ±Inf kept), a
host input skips the pass altogether: the first int8 layer computes ``(x − center) · mul`` row
by row inside its quantization (``linear_int8``'s ``col_center``/``col_mul``), with the same
arithmetic, so the scaled array is never written and read back (``FrontPass.column_map``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lepton.ops.preprocess import PreprocessPlan, apply_plan


class ColumnSteps:
    """Per-column steps composed so far, over the pipeline's raw input columns.

    ``cols`` maps the current columns (what the next step sees) to raw columns: an imputer
    that dropped all-missing columns shortens it. Dropped raw columns are filled with 0 and
    multiplied by 0, so nothing in them (NaN included) reaches the layers.
    """

    def __init__(self, n_columns: int) -> None:
        d = n_columns
        self.fill = np.full(d, np.nan)  # NaN: no fill, NaN stays NaN
        self.lo, self.hi = np.full(d, -np.inf), np.full(d, np.inf)
        self.a, self.b = np.ones(d), np.zeros(d)
        self.replace_inf = False  # True: ±Inf is replaced like NaN (lepton Preprocessor)
        self.cols = np.arange(d)
        self._clipped = np.zeros(d, dtype=bool)
        self.steps = 0

    @property
    def width(self) -> int:
        return int(self.cols.size)

    def _current(self, v: Any, name: str, what: str) -> np.ndarray:
        arr = np.asarray(v, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(self.width, float(arr))
        if arr.shape != (self.width,):
            msg = f"{name}: {what} has shape {arr.shape}, expected ({self.width},)"
            raise ValueError(msg)
        return arr

    def affine(self, a: Any, b: Any, name: str) -> None:
        """Then ``y ↦ y · a + b`` per current column."""
        a2 = self._current(a, name, "scale")
        b2 = self._current(b, name, "offset")
        c = self.cols
        self.a[c], self.b[c] = self.a[c] * a2, self.b[c] * a2 + b2
        self.steps += 1

    def clip(self, low: Any, high: Any, name: str) -> None:
        """Then ``y ↦ clip(y, low, high)`` per current column (bounds in current units)."""
        lo2 = self._current(low, name, "lower bound")
        hi2 = self._current(high, name, "upper bound")
        c = self.cols
        a, b = self.a[c], self.b[c]
        constant = a == 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            raw_lo = np.where(a > 0, (lo2 - b) / a, (hi2 - b) / a)
            raw_hi = np.where(a > 0, (hi2 - b) / a, (lo2 - b) / a)
            lo = np.where(constant, self.lo[c], np.maximum(self.lo[c], raw_lo))
            hi = np.where(constant, self.hi[c], np.minimum(self.hi[c], raw_hi))
            # Disjoint ranges: every value lands on one bound; the column becomes that constant.
            empty = lo > hi
            representative = np.where(np.isfinite(self.lo[c]), self.lo[c], self.hi[c])
            value = np.clip(representative * a + b, lo2, hi2)
        new_b = np.where(constant, np.clip(b, lo2, hi2), np.where(empty, value, b))
        new_a = np.where(empty, 0.0, a)
        self.lo[c], self.hi[c] = np.where(empty, self.lo[c], lo), np.where(empty, self.hi[c], hi)
        self.a[c], self.b[c] = new_a, new_b
        self._clipped[c] |= np.isfinite(lo2) | np.isfinite(hi2)
        self.steps += 1

    def impute(self, value: Any, name: str, where: np.ndarray | None = None) -> None:
        """Then NaN ↦ ``value`` per current column (values in current units); ``where``: only
        in these columns (the others keep their NaN)."""
        v = self._current(value, name, "fill value")
        c = self.cols
        open_ = np.isnan(self.fill[c])  # columns whose NaN still reach this step
        if where is not None:
            open_ &= where
        a, b = self.a[c], self.b[c]
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(a != 0, (v - b) / a, 0.0)
        # The kernel fills before it clips: the raw value must survive the clip unchanged.
        inside = (raw >= self.lo[c]) & (raw <= self.hi[c])
        representable = np.where(a != 0, inside, v == b)
        bad = open_ & ~representable
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            msg = (
                f"{name}: its fill value {float(v[j]):g} for column {j} lies outside the clip "
                "bounds of an earlier step, which the fused pass cannot express; put the "
                "imputer before the clipping step"
            )
            raise TypeError(msg)
        self.fill[c] = np.where(open_, raw, self.fill[c])
        self.steps += 1

    def replace_infinities(self, name: str) -> None:
        """±Inf counts as missing from here on (lepton's Preprocessor without clipping)."""
        c = self.cols
        if self._clipped[c].any() or not np.isnan(self.fill[c]).all():
            msg = (
                f"{name}: a Preprocessor that imputes ±Inf (no clip_sigma) after an imputer "
                "or a clipping step is not supported; put it first"
            )
            raise TypeError(msg)
        self.replace_inf = True

    def drop(self, keep: np.ndarray) -> None:
        """Keep only the current columns where ``keep`` is true (in order)."""
        gone = self.cols[~keep]
        self.fill[gone], self.a[gone], self.b[gone] = 0.0, 0.0, 0.0
        self.cols = self.cols[keep]
        self.steps += 1

    def front_pass(self) -> FrontPass | None:
        """The fused pass, or None when the steps amount to nothing (no step, or identity)."""
        identity = (
            np.isnan(self.fill).all()
            and np.isinf(self.lo).all()
            and np.isinf(self.hi).all()
            and (self.a == 1).all()
            and (self.b == 0).all()
            and not self.replace_inf
        )
        if self.steps == 0 or identity:
            return None
        a = self.a
        moving = a != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            center = np.where(moving, -self.b / a, 0.0)
        d = a.size
        plan = PreprocessPlan(
            n_columns=d,
            out_dtype=None,  # the input's float dtype: linear_int8 reads float32 and float64
            fill=np.ascontiguousarray(self.fill),
            lo=np.ascontiguousarray(self.lo),
            hi=np.ascontiguousarray(self.hi),
            center=np.ascontiguousarray(center),
            mul=np.ascontiguousarray(a),
            divisor=np.ones(d),
            replace_inf=self.replace_inf,
            quant_scale=None,
        )
        imputes = bool(np.isfinite(self.fill).any())
        affine_only = (
            np.isnan(self.fill).all()
            and (self.lo == -np.inf).all()
            and (self.hi == np.inf).all()
            and not self.replace_inf
        )
        return FrontPass(plan, imputes, bool(affine_only))

    def residual(self) -> np.ndarray:
        """Per raw column, the constant the pass cannot add (``b`` where ``a = 0``)."""
        return np.where(self.a == 0, self.b, 0.0)


@dataclass(frozen=True, eq=False)
class FrontPass:
    """The composed per-column steps: one call of the fused preprocessing kernel."""

    plan: PreprocessPlan
    imputes: bool  # NaN in the input is expected (and filled), not an error
    affine_only: bool = False  # no fill, no clip, ±Inf kept: the pass is (x − center) · mul
    _maps: dict[Any, Any] = field(default_factory=dict, repr=False)  # dtype -> column_map

    @property
    def n_columns(self) -> int:
        return self.plan.n_columns

    def column_map(self, dtype: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """``(center, mul)`` in ``dtype`` (the input's: the pass computes in it) when the pass
        is only ``(x − center) · mul`` per column, for ``linear_int8`` to apply while it
        quantizes; None when the pass does more, or a coefficient is not finite in ``dtype``
        (float32 may overflow), so the pass must run as itself."""
        key = np.dtype(dtype)
        if key not in self._maps:
            pair = None
            if self.affine_only:
                # astype rounds to nearest like the kernel's own cast of its float64 plan
                with np.errstate(over="ignore"):  # an overflow to Inf is refused below
                    center = self.plan.center.astype(key)
                    mul = self.plan.mul.astype(key)
                if np.isfinite(center).all() and np.isfinite(mul).all():
                    pair = (center, mul)
            self._maps[key] = pair
        return self._maps[key]

    def __call__(self, x: Any) -> Any:
        """``x`` (numpy, or a CUDA array of cupy/torch) through the pass, same dtype."""
        return apply_plan(x, self.plan)
