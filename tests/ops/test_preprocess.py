"""lepton.ops.preprocess (the fused apply pass) against the float64 numpy reference."""

from __future__ import annotations

import itertools
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lepton
from lepton import _core
from lepton.ops import column_stats, preprocess
from lepton.ops.preprocess import EmptyColumnWarning, make_plan
from lepton.ops.preprocess_reference import column_stats_reference, preprocess_reference

ISAS = _core.available_isas()
IMPUTES = ("mean", "zero", 2.5, None)
CLIPS = (None, 0.0, 1.5, 3.0)
SCALES = ("standard", "minmax", None)
FLOAT_OUTS = (np.float32, np.float64, np.float16)


def make_data(rng, shape, dtype, *, nan=0.05, inf=0.02, order="C"):
    x = rng.normal(3.0, 2.0, shape).astype(dtype)
    x[rng.random(shape) < nan] = np.nan
    x[rng.random(shape) < inf / 2] = np.inf
    x[rng.random(shape) < inf / 2] = -np.inf
    return np.asarray(x, order=order)


def tolerance(x, ref, stats, *, impute, clip_sigma, scale, in_dtype, out_dtype):
    """Bound on |out − ref| elementwise: rounding of the operands in the compute precision
    (float32 unless input or output is float64), expressed in output units, plus the cast."""
    compute = np.float64 if np.float64 in (np.dtype(in_dtype), np.dtype(out_dtype)) else np.float32
    eps_c, out = np.finfo(compute).eps, np.finfo(out_dtype)
    count, mean = stats["count"], np.nan_to_num(stats["mean"])
    std = np.sqrt(stats["m2"] / np.maximum(count, 1))
    xd = np.asarray(x, dtype=np.float64)
    finite_abs = np.max(np.where(np.isfinite(xd), np.abs(xd), 0.0), axis=0)
    fill_abs = abs(impute) if isinstance(impute, float) else 0.0
    operand = finite_abs + np.abs(mean) + (clip_sigma or 0.0) * std + fill_abs
    if scale == "standard":
        mul = np.where(std > 0, 1 / np.where(std > 0, std, 1), 0.0)
    elif scale == "minmax":
        lo, hi = stats["min"], stats["max"]
        if clip_sigma is not None:
            lo, hi = (
                np.maximum(lo, mean - clip_sigma * std),
                np.minimum(hi, mean + clip_sigma * std),
            )
        width = np.nan_to_num(hi - lo)
        mul = np.where(width > 0, 1 / np.where(width > 0, width, 1), 0.0)
    else:
        mul = np.ones_like(mean)
    mul = np.where(count > 0, mul, 1.0)
    return (
        8 * eps_c * operand * mul
        + 2 * out.eps * np.abs(np.nan_to_num(ref))
        + out.smallest_subnormal
    )


def assert_matches_reference(
    x, out, *, stats=None, impute="mean", clip_sigma=None, scale="standard", out_dtype=np.float32
):
    ref_stats = column_stats_reference(x) if stats is None else stats
    ref = preprocess_reference(x, ref_stats, impute=impute, clip_sigma=clip_sigma, scale=scale)
    assert out.dtype == np.dtype(out_dtype)
    assert out.shape == x.shape
    got = out.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg="NaN positions differ")
    # ±Inf only where the exact result is past the output type's range (float16: ±65504).
    limit = np.finfo(out.dtype).max if np.issubdtype(out.dtype, np.floating) else np.inf
    overflow = np.abs(ref) > limit
    assert np.isfinite(got[~np.isnan(got) & ~overflow]).all(), "the output holds ±Inf"
    assert (np.sign(got[overflow]) == np.sign(ref[overflow])).all(), "overflow to the wrong sign"
    got = np.where(overflow, ref, got)
    tol = tolerance(
        x,
        ref,
        ref_stats,
        impute=impute,
        clip_sigma=clip_sigma,
        scale=scale,
        in_dtype=x.dtype,
        out_dtype=out_dtype,
    )
    err = np.where(np.isnan(ref), 0.0, np.abs(got - ref))
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert (err <= tol).all(), f"at {worst}: got {got[worst]}, expected {ref[worst]} ± {tol[worst]}"


def run(x, **options):
    """preprocess(), allowing the warning for columns that happen to have no finite values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyColumnWarning)
        return preprocess(x, **options)


@pytest.mark.parametrize(
    ("impute", "clip_sigma", "scale"), list(itertools.product(IMPUTES, CLIPS, SCALES))
)
@pytest.mark.parametrize("in_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out_dtype", FLOAT_OUTS)
def test_every_option_combination(impute, clip_sigma, scale, in_dtype, out_dtype):
    x = make_data(np.random.default_rng(0), (257, 33), in_dtype)
    x[:, 5] = 7.0  # a constant column
    options = {"impute": impute, "clip_sigma": clip_sigma, "scale": scale, "out_dtype": out_dtype}
    assert_matches_reference(x, preprocess(x, **options), **options)


@pytest.mark.parametrize("rows", [1, 3, 7, 33, 255, 1000])
@pytest.mark.parametrize("cols", [1, 3, 64, 257])
@pytest.mark.parametrize("order", ["C", "F"])
def test_odd_shapes(rows, cols, order):
    x = make_data(np.random.default_rng(rows + cols), (rows, cols), np.float32, order=order)
    options = {"impute": "mean", "clip_sigma": 2.0, "scale": "standard"}
    out = run(x, **options)
    assert out.flags.f_contiguous if order == "F" else out.flags.c_contiguous
    assert_matches_reference(x, out, **options)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("in_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out_dtype", FLOAT_OUTS)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(7, 3), (33, 64), (255, 17)])
def test_every_isa_path(isa, in_dtype, out_dtype, order, shape):
    x = make_data(np.random.default_rng(7), shape, in_dtype, order=order)
    options = {"impute": "zero", "clip_sigma": 1.0, "scale": "minmax", "out_dtype": out_dtype}
    with lepton.isa(isa):
        out = run(x, **options)
    assert_matches_reference(x, out, **options)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("in_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float64, np.float16, np.int8])
@pytest.mark.parametrize("offset", [0, 1, 3])
def test_streaming_stores_match_plain_stores(isa, in_dtype, out_dtype, offset):
    # Non-temporal stores need an aligned prologue; misaligned outputs exercise it.
    rng = np.random.default_rng(8)
    n, d = 203, 19
    x = make_data(rng, (n, d), in_dtype)
    plan = make_plan(column_stats(x), clip_sigma=2.0, out_dtype=out_dtype)
    args = (plan.fill, plan.lo, plan.hi, plan.center, plan.mul, plan.replace_inf)
    plain = np.empty((n, d), dtype=out_dtype)
    buffer = np.empty(n * d + offset, dtype=out_dtype)
    streamed = buffer[offset:].reshape(n, d)
    with lepton.isa(isa):
        _core.prep_apply(x, plain, *args, stream=0)
        _core.prep_apply(x, streamed, *args, stream=1)
    np.testing.assert_array_equal(streamed, plain)


def test_large_output_takes_the_streaming_path():
    x = make_data(np.random.default_rng(9), (70_000, 64), np.float32)  # 18 MB > stream threshold
    options = {"impute": "mean", "clip_sigma": 3.0, "scale": "standard"}
    assert_matches_reference(x, preprocess(x, **options), **options)


def test_result_does_not_depend_on_thread_count():
    x = make_data(np.random.default_rng(10), (40_000, 64), np.float32)
    before = lepton.get_num_threads()
    try:
        lepton.set_num_threads(1)
        one = preprocess(x, clip_sigma=3.0)
        lepton.set_num_threads(2)
        two = preprocess(x, clip_sigma=3.0)
    finally:
        lepton.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


# --- semantics -------------------------------------------------------------------------------


def test_inf_is_clipped_when_clipping_else_imputed_or_nan():
    x = np.array([[1.0, np.inf], [3.0, -np.inf], [np.nan, 2.0], [np.inf, 4.0]], dtype=np.float32)
    s = column_stats(x)
    lo, hi = s.mean - s.std, s.mean + s.std
    clipped = preprocess(x, impute="mean", clip_sigma=1.0, scale=None)
    np.testing.assert_allclose(clipped[[2, 3], 0], [s.mean[0], hi[0]], rtol=1e-6)
    np.testing.assert_allclose(clipped[[0, 1], 1], [hi[1], lo[1]], rtol=1e-6)
    imputed = preprocess(x, impute="zero", scale=None)
    np.testing.assert_array_equal(imputed[:, 0], [1.0, 3.0, 0.0, 0.0])
    np.testing.assert_array_equal(imputed[:, 1], [0.0, 0.0, 2.0, 4.0])
    kept = preprocess(x, impute=None, scale=None)
    np.testing.assert_array_equal(np.isnan(kept), [[0, 1], [0, 1], [1, 0], [1, 0]])
    clip_no_impute = preprocess(x, impute=None, clip_sigma=1.0, scale=None)
    assert np.isnan(clip_no_impute[2, 0])
    assert clip_no_impute[3, 0] == np.float32(hi[0])


def test_nan_stays_nan_without_impute():
    x = np.array([[np.nan, 1.0], [2.0, np.nan], [4.0, 3.0]])
    out = preprocess(x, impute=None, clip_sigma=2.0, scale="minmax", out_dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(x))


@pytest.mark.parametrize("scale", ["standard", "minmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constant_column_scales_to_exactly_zero(scale, dtype):
    x = np.full((1000, 3), 0.1, dtype=dtype)
    x[::10, 1] = np.nan
    out = preprocess(x, scale=scale, clip_sigma=3.0, out_dtype=dtype)
    np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize("impute", ["mean", "zero", -4.0, None])
def test_empty_column_is_reported_and_filled(impute):
    x = np.array([[np.nan, 1.0, np.inf], [np.nan, 2.0, np.nan], [np.nan, 4.0, -np.inf]])
    with pytest.warns(EmptyColumnWarning, match=r"2 column\(s\) have no finite values.*\[0, 2\]"):
        out = preprocess(x, impute=impute, clip_sigma=1.0, out_dtype=np.float64)
    expected = {"mean": 0.0, "zero": 0.0, -4.0: -4.0, None: np.nan}[impute]
    np.testing.assert_array_equal(out[:, [0, 2]], expected)
    assert np.isfinite(out[:, 1]).all()


def test_minmax_of_clipped_data_spans_zero_to_one():
    x = make_data(np.random.default_rng(11), (2000, 8), np.float64)
    out = preprocess(x, clip_sigma=2.0, scale="minmax", out_dtype=np.float64)
    np.testing.assert_allclose(out.min(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.max(axis=0), 1.0, atol=1e-12)


def test_impute_then_clip_clips_a_far_fill_value():
    x = np.array([[1.0], [2.0], [3.0], [np.nan]])
    s = column_stats(x)
    out = preprocess(x, impute=100.0, clip_sigma=1.0, scale=None, out_dtype=np.float64)
    assert out[3, 0] == pytest.approx(s.mean[0] + s.std[0])


def test_statistics_come_from_observed_values():
    # mean imputation does not shrink the variance used for scaling
    x = np.array([[0.0], [2.0], [np.nan], [np.nan]])
    out = preprocess(x, impute="mean", scale="standard", out_dtype=np.float64)
    np.testing.assert_allclose(out[:, 0], [-1.0, 1.0, 0.0, 0.0])


def test_stats_from_other_data():
    rng = np.random.default_rng(12)
    train, test = make_data(rng, (500, 9), np.float32), make_data(rng, (77, 9), np.float32) * 1.5
    options = {"impute": "mean", "clip_sigma": 2.5, "scale": "standard"}
    out = preprocess(test, column_stats(train), **options)
    assert_matches_reference(test, out, stats=column_stats_reference(train), **options)


def test_out_dtype_none_keeps_the_input_dtype():
    x = make_data(np.random.default_rng(13), (20, 4), np.float64)
    assert preprocess(x, out_dtype=None).dtype == np.float64
    assert preprocess(x.astype(np.float32), out_dtype=None).dtype == np.float32


def test_non_contiguous_input_is_copied():
    x = make_data(np.random.default_rng(14), (90, 30), np.float64)
    view = x[::2, 1::3]
    assert_matches_reference(view, preprocess(view, clip_sigma=1.0), clip_sigma=1.0)


def test_out_is_reused_and_may_be_x_itself():
    rng = np.random.default_rng(18)
    x = make_data(rng, (300, 12), np.float32)
    expected = preprocess(x, clip_sigma=2.0)
    buffer = np.full_like(x, 7.0)
    assert preprocess(x, clip_sigma=2.0, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, expected)
    inplace = x.copy()
    preprocess(inplace, column_stats(x), clip_sigma=2.0, out=inplace)
    np.testing.assert_array_equal(inplace, expected)
    q = np.empty(x.shape, np.int8)
    q_out, _ = preprocess(x, out_dtype=np.int8, out=q)
    assert q_out is q
    np.testing.assert_array_equal(q, preprocess(x, out_dtype=np.int8)[0])


# --- float16 and int8 casts ------------------------------------------------------------------


@pytest.mark.parametrize("isa", ISAS)
def test_float16_cast_is_round_to_nearest_even(isa):
    rng = np.random.default_rng(15)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    values = values[np.isfinite(values)]
    special = np.array(
        [
            65504,
            65519.99,
            65520,
            1e30,
            2.0**-24,
            2.0**-25,
            3 * 2.0**-26,
            2.0**-14,
            (1 + 2**-11) * 2.0**-14,
            1 + 2**-11,
            1 + 3 * 2**-11,
            0.0,
            -0.0,
        ],
        np.float32,
    )
    x = np.concatenate([values, special, -special])
    x = x[: x.size // 8 * 8].reshape(-1, 8)
    with lepton.isa(isa), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warning
        expected = x.astype(np.float16)
        out = preprocess(x, impute=None, scale=None, out_dtype=np.float16)
    np.testing.assert_array_equal(out.view(np.uint16), expected.view(np.uint16))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("in_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_int8_codes_and_scales(isa, in_dtype, order):
    x = make_data(np.random.default_rng(16), (301, 21), in_dtype, order=order)
    x[:, 4] = 1.0  # constant
    options = {"impute": "mean", "clip_sigma": 2.0, "scale": "standard"}
    with lepton.isa(isa):
        q, s = preprocess(x, out_dtype=np.int8, **options)
    assert q.dtype == np.int8
    assert s.dtype == np.float32
    assert s.shape == (21,)
    assert np.abs(q.astype(np.int32)).max() <= 127
    ref = preprocess_reference(x, impute="mean", clip_sigma=2.0, scale="standard")
    # half a code of rounding, plus float32 arithmetic in units of the code
    np.testing.assert_array_less(
        np.abs(q * s.astype(np.float64) - ref), 0.5 * s + 1e-5 * (1 + np.abs(ref))
    )
    spans = np.abs(q.astype(np.int32)).max(axis=0)
    np.testing.assert_array_equal(spans[np.arange(21) != 4], 127)  # the scale is tight
    np.testing.assert_array_equal(q[:, 4], 0)


def test_int8_saturates_outside_the_fitted_range():
    x = make_data(np.random.default_rng(17), (200, 5), np.float32, inf=0.0)
    q, _ = preprocess(x * 10, column_stats(x), out_dtype=np.int8)
    assert q.min() == -127
    assert q.max() == 127


def test_int8_rounds_half_to_even():
    x = np.array(
        [[0.5], [1.5], [2.5], [-0.5], [-1.5], [-2.5], [126.5], [127.0], [-127.0]], np.float32
    )
    q, s = preprocess(x, impute="zero", scale=None, out_dtype=np.int8)
    assert s[0] == 1.0
    np.testing.assert_array_equal(q[:, 0], [0, 2, 2, 0, -2, -2, 126, 127, -127])


# --- fuzz --------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    in_dtype=st.sampled_from([np.float32, np.float64]),
    out_dtype=st.sampled_from(FLOAT_OUTS),
    impute=st.sampled_from(IMPUTES),
    clip_sigma=st.sampled_from(CLIPS),
    scale=st.sampled_from(SCALES),
    order=st.sampled_from("CF"),
)
def test_fuzz_against_reference(data, in_dtype, out_dtype, impute, clip_sigma, scale, order):
    x = data.draw(
        hnp.arrays(
            in_dtype,
            hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
            elements=st.one_of(
                st.floats(-1e3, 1e3, width=32),
                st.sampled_from([np.nan, np.inf, -np.inf]),
            ),
        )
    )
    x = np.asarray(x, order=order)
    options = {"impute": impute, "clip_sigma": clip_sigma, "scale": scale, "out_dtype": out_dtype}
    assert_matches_reference(x, run(x, **options), **options)


# --- bad input: one test per class -------------------------------------------------------------

X = np.ones((4, 3), dtype=np.float32)


def test_rejects_integer_input():
    with pytest.raises(TypeError, match=r"x: expected dtype float32 or float64, got int64.*astype"):
        preprocess(np.ones((4, 3), dtype=np.int64))


def test_rejects_wrong_ndim():
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        preprocess(np.ones(4, dtype=np.float32))


def test_rejects_empty_input():
    with pytest.raises(ValueError, match="x: expected a non-empty array"):
        preprocess(np.ones((0, 3), dtype=np.float32))


def test_rejects_stats_of_the_wrong_width():
    with pytest.raises(ValueError, match="stats: has 2 columns, expected 3"):
        preprocess(X, column_stats(np.ones((4, 2), dtype=np.float32)))


def test_rejects_stats_of_the_wrong_type():
    with pytest.raises(TypeError, match="stats: expected a ColumnStats"):
        preprocess(X, {"mean": np.zeros(3)})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"impute": "median"}, "impute: expected one of 'mean', 'zero', None"),
        ({"scale": "robust"}, "scale: expected one of 'standard', 'minmax', None"),
        ({"out_dtype": np.int32}, "out_dtype: expected one of float32, float64, float16, int8"),
        ({"out_dtype": "not a dtype"}, "out_dtype: expected one of"),
    ],
)
def test_rejects_bad_option_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        preprocess(X, **kwargs)


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_rejects_bad_clip_sigma(value):
    with pytest.raises(ValueError, match="clip_sigma: expected a finite number >= 0"):
        preprocess(X, clip_sigma=value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clip_sigma": "3"}, "clip_sigma: expected None or a number"),
        ({"clip_sigma": True}, "clip_sigma: expected None or a number"),
        ({"impute": True}, "impute: expected 'mean', 'zero', None or a finite number"),
        ({"impute": [1.0]}, "impute: expected 'mean', 'zero', None or a finite number"),
    ],
)
def test_rejects_options_of_the_wrong_type(kwargs, match):
    with pytest.raises(TypeError, match=match):
        preprocess(X, **kwargs)


def test_rejects_non_finite_fill():
    with pytest.raises(ValueError, match="impute: a constant fill must be finite"):
        preprocess(X, impute=float("nan"))


def test_rejects_int8_without_impute():
    with pytest.raises(ValueError, match="out_dtype: int8 output needs an impute"):
        preprocess(X, impute=None, out_dtype=np.int8)


def test_rejects_out_that_is_not_an_array():
    with pytest.raises(TypeError, match="out: expected a numpy array"):
        preprocess(X, out=[[0.0] * 3] * 4)


def test_rejects_out_of_the_wrong_dtype():
    with pytest.raises(TypeError, match="out: expected dtype float16"):
        preprocess(X, out_dtype=np.float16, out=np.empty((4, 3), np.float32))


def test_rejects_out_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"out: expected shape \(4, 3\)"):
        preprocess(X, out=np.empty((3, 4), np.float32))


def test_rejects_out_of_the_wrong_order():
    with pytest.raises(ValueError, match="out: expected a C-contiguous array"):
        preprocess(X, out=np.empty((4, 3), np.float32, order="F"))
    with pytest.raises(ValueError, match="out: expected a F-contiguous array"):
        preprocess(np.asfortranarray(X), out=np.empty((4, 3), np.float32))


def test_rejects_read_only_out():
    out = np.empty((4, 3), np.float32)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="out: array is read-only"):
        preprocess(X, out=out)


def test_rejects_out_overlapping_x():
    buffer = np.ones(13, np.float32)
    x, out = buffer[:12].reshape(4, 3), buffer[1:].reshape(4, 3)
    with pytest.raises(ValueError, match="out: overlaps x"):
        preprocess(x, out=out)


def test_options_are_checked_before_the_stats_pass(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("column_stats ran before the options were validated")

    # lepton.ops.preprocess is the function; the module is reached through sys.modules
    monkeypatch.setattr(sys.modules["lepton.ops.preprocess"], "column_stats", fail)
    with pytest.raises(ValueError, match="scale"):
        preprocess(X, scale="bad")
    with pytest.raises(ValueError, match="out:"):
        preprocess(X, out=np.empty((1, 1), np.float32))


def test_binding_rechecks_shapes_and_dtypes():
    plan = make_plan(column_stats(X))
    args = (plan.fill, plan.lo, plan.hi, plan.center, plan.mul, plan.replace_inf)
    with pytest.raises(ValueError, match="out: expected the shape of x"):
        _core.prep_apply(X, np.empty((4, 2), np.float32), *args)
    with pytest.raises(ValueError, match="out: expected dtype"):
        _core.prep_apply(X, np.empty((4, 3), np.int16), *args)
    with pytest.raises(ValueError, match="out: expected the memory layout"):
        _core.prep_apply(X, np.empty((4, 3), np.float32, order="F"), *args)
    with pytest.raises(ValueError, match="fill: expected length 3"):
        _core.prep_apply(X, np.empty((4, 3), np.float32), np.zeros(2), *args[1:])
    readonly = np.empty((4, 3), np.float32)
    readonly.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _core.prep_apply(X, readonly, *args)


# --- regressions found by the fuzzer -------------------------------------------------------------


@pytest.mark.parametrize("scale", ["standard", "minmax"])
def test_subnormal_spread_is_a_constant_column(scale):
    # std ≈ 7e-46: 1/std overflows float32, so the column must come out as the constant 0, not NaN.
    x = np.array([[0.0], [1e-45]], dtype=np.float32)
    out = preprocess(x, impute="mean", scale=scale)
    np.testing.assert_array_equal(out, np.zeros((2, 1), np.float32))
    assert_matches_reference(x, out, impute="mean", scale=scale)


def test_float16_output_overflows_to_signed_inf_as_documented():
    # A fill of 2.5 in a column with std 3e-8 is ~8e7 standard deviations out: past float16's range.
    x = np.array([[0.0], [np.nan], [5.9604645e-08]], dtype=np.float32)
    out = preprocess(x, impute=2.5, scale="standard", out_dtype=np.float16)
    assert out[1, 0] == np.inf
    np.testing.assert_array_equal(out[[0, 2], 0], np.array([-1.0, 1.0], np.float16))
