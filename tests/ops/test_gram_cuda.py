"""ops.gram on CUDA arrays against the CPU kernel and the float64 oracle (GPU only), and the
checks that run before any launch (fake __cuda_array_interface__ objects, no GPU needed)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _cuda_libs import LIBRARIES, library, poison_allocator, to_device, to_host

from lepton import _core, ops
from lepton.ops.pca import gram_reference

needs_cuda_build = pytest.mark.skipif(
    not getattr(_core, "cuda_compiled", False), reason="CUDA build only"
)


class FakeCuda:
    """Device-array metadata with no memory behind it: only checks may look at it."""

    def __init__(self, shape, typestr="<f4", strides=None):
        self.__cuda_array_interface__ = {"shape": tuple(shape), "typestr": typestr,
                                         "data": (0x7F0000000000, False), "strides": strides,
                                         "version": 3, "stream": None}  # fmt: skip
        self.device = SimpleNamespace(id=0)


@needs_cuda_build
@pytest.mark.parametrize(("typestr", "expected"), [("<i4", "int32"), ("<f2", "float16")])
def test_wrong_dtype_is_a_type_error(typestr, expected):
    with pytest.raises(TypeError, match=f"x: expected dtype float32 or float64, got {expected}"):
        ops.gram(FakeCuda((4, 3), typestr))


@needs_cuda_build
def test_wrong_ndim_is_a_value_error():
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        ops.gram(FakeCuda((4,)))


@needs_cuda_build
def test_empty_is_a_value_error():
    with pytest.raises(ValueError, match="x: expected a non-empty array"):
        ops.gram(FakeCuda((0, 3)))


@needs_cuda_build
def test_unknown_accumulation_is_a_value_error():
    with pytest.raises(ValueError, match="accumulate: expected one of"):
        ops.gram(FakeCuda((4, 3)), accumulate="float16")


def test_cpu_only_build_refuses_cuda_arrays(monkeypatch):
    monkeypatch.setattr(_core, "cuda_compiled", False, raising=False)
    with pytest.raises(TypeError, match="x: got a CUDA array, but this lepton build has no CUDA"):
        ops.gram(FakeCuda((4, 3)))


def test_merge_refuses_host_with_device_statistics():
    host = ops.GramStats(2, np.zeros(3), np.zeros((3, 3)))
    device = ops.GramStats(2, FakeCuda((3,), "<f8"), FakeCuda((3, 3), "<f8"))
    with pytest.raises(TypeError, match="b: statistics on the device while a's are on the host"):
        ops.merge_gram(host, device)


@needs_cuda_build
def test_core_checks_workspace_and_strides_without_a_launch():
    with pytest.raises(ValueError, match="x: expected unit stride along rows or columns"):
        _core.centred_gram_cuda(1, 0, 4, 3, 5, 7, 1, 1, 1, 1 << 20, 1, 0, 0)
    with pytest.raises(ValueError, match="x: expected a non-empty array"):
        _core.centred_gram_cuda(1, 0, 0, 3, 3, 1, 1, 1, 1, 1 << 20, 1, 0, 0)


# --- GPU ----------------------------------------------------------------------------------------


def _data(n, d, dtype, seed, offset=3.0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, d) + rng.uniform(-offset, offset, d)
    return x.astype(dtype)


def _check(stats, x, dtype):
    ref = gram_reference(x)
    mean, g = to_host(stats.mean), to_host(stats.gram)
    assert stats.n == x.shape[0]
    assert mean.dtype == np.float64
    assert g.dtype == np.float64
    np.testing.assert_allclose(mean, ref.mean, rtol=1e-12, atol=1e-10)
    assert np.array_equal(g, g.T)
    # float32: the centred values are rounded once (~6e-8) and products summed in float32 over
    # ≤ 128 rows; the CPU kernel in float64 sums is the baseline (no worse than 10× its error)
    cpu = ops.gram(x)
    base = max(np.abs(cpu.gram - ref.gram).max(), 1e-14 * np.abs(ref.gram).max())
    tol = 1e-5 if dtype == np.float32 else 10 * base / max(np.abs(ref.gram).max(), 1e-300)
    assert np.abs(g - ref.gram).max() <= tol * max(np.abs(ref.gram).max(), 1e-300)


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("n", "d"), [(1, 1), (2, 3), (7, 64), (1000, 257), (100_003, 3),
                                      (1000, 1), (3000, 2048)])  # fmt: skip
def test_gram_matches_cpu(lib, dtype, order, n, d):
    x = _data(n, d, dtype, seed=n + d)
    poison_allocator(lib, 64 << 20)
    dx = to_device(x, lib)
    if order == "F":
        dx = dx.T.contiguous().T if lib == "torch" else library("cupy").asfortranarray(dx)
    _check(ops.gram(dx), x, dtype)


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
def test_gram_strided_rows_and_columns(lib):
    big = _data(500, 300, np.float32, seed=1)
    dx = to_device(big, lib)
    _check(ops.gram(dx[::2, 10:110]), big[::2, 10:110], np.float32)  # padded rows
    fx = dx.T.contiguous().T if lib == "torch" else library("cupy").asfortranarray(dx)
    _check(ops.gram(fx[10:400, 5:70]), big[10:400, 5:70], np.float32)  # padded columns
    _check(ops.gram(dx[:, ::3]), big[:, ::3], np.float32)  # neither stride 1: copied


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
def test_gram_large_mean_float32(lib):
    rng = np.random.default_rng(7)
    x = (1e4 + rng.standard_normal((20_000, 33))).astype(np.float32)
    stats = ops.gram(to_device(x, lib))
    ref = gram_reference(x)
    assert np.abs(to_host(stats.gram) - ref.gram).max() <= 1e-5 * np.abs(ref.gram).max()


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gram_non_finite_is_a_value_error(lib, bad):
    x = _data(300, 70, np.float32, seed=3)
    x[123, 65] = bad
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        ops.gram(to_device(x, lib))


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
def test_gram_is_deterministic_and_merges(lib):
    x = _data(5000, 130, np.float32, seed=4)
    dx = to_device(x, lib)
    a, b = ops.gram(dx), ops.gram(dx)
    assert np.array_equal(to_host(a.gram), to_host(b.gram))
    merged = ops.merge_gram(ops.gram(dx[:1234]), ops.gram(dx[1234:]))
    ref = gram_reference(x)
    assert np.abs(to_host(merged.gram) - ref.gram).max() <= 1e-5 * np.abs(ref.gram).max()
