"""The CUDA fused preprocessing against the CPU op (needs a GPU; cupy and/or torch).

With the same statistics the apply kernel must reproduce the CPU output bit for bit (same
coefficients, same arithmetic in the same precision); statistics computed on the GPU agree with
the CPU's to float64 round-off, and are bit-identical run to run.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _cuda_libs import LIBRARIES, library, poison_allocator, synchronize, to_device, to_host

from lepton import _core, ops
from lepton import _cuda_arrays as ca
from lepton.ops import EmptyColumnWarning
from lepton.ops.preprocess import apply_plan, make_plan
from lepton.ops.preprocess_layout import output_order

pytestmark = pytest.mark.gpu

CONFIG_IDS = [c["id"] for c in _core.preprocess_cuda_configs()] if hasattr(
    _core, "preprocess_cuda_configs") else []  # fmt: skip
STAT_FIELDS = ("count", "mean", "m2", "min", "max")
OPTIONS = [
    {"impute": "mean", "clip_sigma": 3.0, "scale": "standard"},
    {"impute": "zero", "clip_sigma": None, "scale": "minmax"},
    {"impute": None, "clip_sigma": 2.0, "scale": None},
    {"impute": 1.5, "clip_sigma": 0.5, "scale": "standard"},
]


def make_x(n: int, d: int, dtype: str, seed: int = 0) -> np.ndarray:
    """Shifted, scaled normals with NaN, ±Inf, an all-NaN, a constant and a subnormal-spread
    column where the width allows."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 4.0, d) + rng.uniform(-50, 50, d)
    x[rng.random((n, d)) < 0.05] = np.nan
    x[rng.random((n, d)) < 0.01] = np.inf
    x[rng.random((n, d)) < 0.01] = -np.inf
    if d > 1:
        x[:, 1] = np.nan
    if d > 2:
        x[:, 2] = 7.25
    if d > 3:
        x[:, 3] = np.where(rng.random(n) < 0.5, 0.0, 1e-45)  # spread far below 1/FLT_MAX
    return x.astype(dtype)


def on_device(x: np.ndarray, lib: str, order: str = "C"):
    if order == "F":
        return to_device(np.ascontiguousarray(x.T), lib).T
    return to_device(x, lib)


def host_ref(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) if x.dtype == np.float16 else x


def assert_stats_close(got, want):
    """Counts, min and max exact; mean and M2 to float64 round-off (another grouping)."""
    assert got.n_rows == want.n_rows
    for field in ("count", "min", "max"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    np.testing.assert_array_equal(np.isnan(got.mean), np.isnan(want.mean))
    scale = np.nan_to_num(np.abs(want.mean)) + np.nan_to_num(want.std)
    assert (np.nan_to_num(np.abs(got.mean - want.mean)) <= 1e-12 * scale).all()
    assert (np.abs(got.m2 - want.m2) <= 1e-10 * want.m2).all()


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyColumnWarning)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("n", [1, 7, 1000, 100_003])
@pytest.mark.parametrize("d", [1, 3, 64, 257])
def test_column_stats_match_the_cpu(lib, n, d):
    x = make_x(n, d, "float32", seed=n + d)
    got = ops.column_stats(on_device(x, lib))
    assert_stats_close(got, ops.column_stats(x))


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("n", "d"), [(7, 3), (1000, 64), (100_003, 5), (1001, 257)])
def test_stats_every_dtype_and_order(lib, dtype, order, n, d):
    x = make_x(n, d, dtype, seed=3)
    dev = on_device(x, lib, order)
    got = ops.column_stats(dev)
    assert_stats_close(got, ops.column_stats(host_ref(x)))
    again = ops.column_stats(dev)  # deterministic: bit-identical run to run
    for field in STAT_FIELDS:
        np.testing.assert_array_equal(getattr(again, field), getattr(got, field))


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float16, np.float64, np.int8, None])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: f"{o['impute']}-{o['scale']}")
@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 3), (1000, 64), (1003, 257), (100_003, 5)])
def test_apply_is_bit_identical_to_the_cpu(lib, dtype, order, out_dtype, options, n, d):
    if out_dtype is np.int8 and options["impute"] is None:
        pytest.skip("int8 output needs an impute option")
    x = make_x(n, d, dtype, seed=n * d)
    xh = host_ref(x)
    stats = ops.column_stats(xh)
    plan = _quiet(make_plan, stats, out_dtype=out_dtype, **options)
    want = apply_plan(xh, plan)
    dev = on_device(x, lib, order)
    poison_allocator(lib, 4 * x.size + (1 << 16))
    got = apply_plan(dev, plan)
    synchronize(lib)
    host = to_host(got)
    if out_dtype is None and dtype == "float16":
        assert host.dtype == np.float16  # the input's dtype; compare to the float32 path cast
        want = want.astype(np.float16)
    np.testing.assert_array_equal(host, want)
    # the device array's own layout (a host copy need not keep it: cupy's get() is C order)
    assert _device_order(got) == _device_order(dev) == order or min(n, d) == 1


def _device_order(a) -> str:
    meta = ca.describe(a, "a")
    return output_order(meta.shape, meta.strides, meta.itemsize)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_strided_views_give_the_cpu_ops_order(lib):
    """Views of C- and F-ordered device arrays: same values and same output order as the CPU op
    on the same numpy views (lepton.ops.preprocess_layout)."""
    x = make_x(301, 40, "float32", seed=2)
    stats = ops.column_stats(x)
    dev_c = on_device(x, lib)
    dev_f = on_device(x, lib, "F")
    host_f = np.asfortranarray(x)
    cases = [(dev_c[3:200], x[3:200]), (dev_c[::2], x[::2]), (dev_f[3:200], host_f[3:200]),
             (dev_f[:, 5:31], host_f[:, 5:31]), (dev_f[:, ::3], host_f[:, ::3]),
             (dev_c[:, ::3], x[:, ::3])]  # fmt: skip
    for dev, host in cases:
        s = ops.column_stats(np.ascontiguousarray(host)) if host.shape[1] != 40 else stats
        want = _quiet(ops.preprocess, host, s, clip_sigma=3.0)
        got = _quiet(ops.preprocess, dev, s, clip_sigma=3.0)
        np.testing.assert_array_equal(to_host(got), want)
        order = output_order(host.shape, host.strides, host.itemsize)
        assert _device_order(got) == order
        assert want.flags.f_contiguous if order == "F" else want.flags.c_contiguous


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("config", CONFIG_IDS)
@pytest.mark.parametrize(("n", "d", "order"), [(1000, 64, "C"), (100_003, 3, "C"), (4097, 9, "F")])
def test_every_config(lib, config, n, d, order):
    x = make_x(n, d, "float32", seed=config)
    dev = on_device(x, lib, order)
    stats = ops.column_stats(dev, config=config)
    assert_stats_close(stats, ops.column_stats(x))
    q, scale = _quiet(ops.preprocess, dev, stats, clip_sigma=3.0, out_dtype=np.int8, config=config)
    want_q, want_scale = _quiet(ops.preprocess, x, stats, clip_sigma=3.0, out_dtype=np.int8)
    np.testing.assert_array_equal(to_host(q), want_q)
    np.testing.assert_array_equal(to_host(scale), want_scale)


F32X2_IDS = [c["id"] for c in _core.preprocess_cuda_configs() if c["accumulate"] == "f32x2"] if (
    hasattr(_core, "preprocess_cuda_configs")) else []  # fmt: skip


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("config", F32X2_IDS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_float32_pair_sums_keep_the_cpu_agreement(lib, config, dtype, order):
    """accumulate=f32x2: the statistics agree with the CPU's like the float64 sums do, also for
    columns outside the float32-pair range (|x − shift| ≥ 2⁵⁶ or < 2⁻⁵¹: float64 sums), and are
    bit-identical run to run."""
    x = make_x(20_011, 9, "float64", seed=config)
    rng = np.random.default_rng(config)
    if dtype != "float16":
        x[:, 5] = rng.choice([-3e20, 2e20, 1.0], x.shape[0])
        x[:, 6] = 1e-20 * rng.standard_normal(x.shape[0])
    x[:, 7] = 1e4 + rng.uniform(0, 1, x.shape[0])  # large mean, small spread
    x = x.astype(dtype)
    dev = on_device(x, lib, order)
    got = ops.column_stats(dev, config=config)
    assert_stats_close(got, ops.column_stats(host_ref(x)))
    again = ops.column_stats(dev, config=config)
    for field in STAT_FIELDS:
        np.testing.assert_array_equal(getattr(again, field), getattr(got, field))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_two_passes_match_the_cpu_op(lib):
    x = make_x(100_003, 64, "float32", seed=11)
    got = to_host(_quiet(ops.preprocess, on_device(x, lib), clip_sigma=3.0))
    want = _quiet(ops.preprocess, x, clip_sigma=3.0)
    # statistics differ by float64 round-off, which may move a float32 result by an ulp
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert type(_quiet(ops.preprocess, on_device(x[:5], lib))).__module__.split(".")[0] == lib


@pytest.mark.parametrize("lib", LIBRARIES)
def test_out_strided_and_in_place(lib):
    x = make_x(1000, 64, "float32", seed=5)
    stats = ops.column_stats(x)
    want = _quiet(ops.preprocess, x, stats)
    dev = on_device(x, lib)
    out = on_device(np.zeros_like(x), lib)
    assert _quiet(ops.preprocess, dev, stats, out=out) is out
    np.testing.assert_array_equal(to_host(out), want)
    # strided rows (a column slice of a wider array) and every other row: read in place
    wide = on_device(np.concatenate([x, x[:, :3]], axis=1), lib)
    np.testing.assert_array_equal(to_host(_quiet(ops.preprocess, wide[:, :64], stats)), want)
    np.testing.assert_array_equal(to_host(_quiet(ops.preprocess, dev[::2], stats)), want[::2])
    # in place, x is its own output
    inplace = on_device(x, lib)
    _quiet(ops.preprocess, inplace, stats, out=inplace)
    np.testing.assert_array_equal(to_host(inplace), want)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_runs_on_the_callers_stream(lib):
    x = make_x(100_003, 64, "float32", seed=9)
    stats = ops.column_stats(x)
    want = _quiet(ops.preprocess, x, stats)
    mod = library(lib)
    if lib == "torch":
        stream = mod.cuda.Stream()
        with mod.cuda.stream(stream):
            dev = on_device(x, lib)
            got = _quiet(ops.preprocess, dev, stats)
        stream.synchronize()
    else:
        stream = mod.cuda.Stream(non_blocking=True)
        with stream:
            dev = on_device(x, lib)
            got = _quiet(ops.preprocess, dev, stats)
        stream.synchronize()
    np.testing.assert_array_equal(to_host(got), want)
