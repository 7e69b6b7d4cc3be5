"""ops.gram on CUDA arrays against the CPU kernel and the float64 oracle (GPU only), and the
checks that run before any launch (fake __cuda_array_interface__ objects, no GPU needed)."""

from __future__ import annotations

from types import SimpleNamespace

import _gram_cuda_model as model
import numpy as np
import pytest
from _cuda_libs import LIBRARIES, library, poison_allocator, to_device, to_host

from lepton import _core, ops
from lepton.ops import _pca_cuda
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
def test_engine_checks_without_a_device():
    from lepton.ops import _pca_cuda

    with pytest.raises(ValueError, match="engine: tf32x3 takes float32 input"):
        _core.gram_cuda_check_engine(1, 1)
    with pytest.raises(ValueError, match="engine: unknown Gram engine code 7"):
        _core.gram_cuda_check_engine(7, 0)
    _core.gram_cuda_check_engine(1, 0)
    _core.gram_cuda_check_engine(0, 1)
    with pytest.raises(ValueError, match="engine: tf32x3 takes float32 input"):
        _pca_cuda.gram_engine("tf32x3", "float64", 0)
    with pytest.raises(ValueError, match="engine: expected one of"):
        _pca_cuda.gram_engine("tensor", "float32", 0)
    with pytest.raises(ValueError, match="engine: tf32x3 takes float32 input"):
        _pca_cuda.gram(FakeCuda((4, 3), "<f8"), engine="tf32x3")  # before any allocation


@needs_cuda_build
def test_auto_engine_by_dtype_and_capability(monkeypatch):
    from lepton.ops import _pca_cuda

    monkeypatch.setitem(_pca_cuda._CAPABILITY, 0, 9)
    assert _pca_cuda.gram_engine("auto", "float32", 0) == "tf32x3"
    assert _pca_cuda.gram_engine("auto", "float64", 0) == "simt"
    monkeypatch.setitem(_pca_cuda._CAPABILITY, 0, 7)  # Volta/Turing: no TF32 MMA
    assert _pca_cuda.gram_engine("auto", "float32", 0) == "simt"
    assert _pca_cuda.gram_engine("simt", "float32", 0) == "simt"


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


def _check(stats, x, dtype, engine="simt"):
    ref = gram_reference(x)
    mean, g = to_host(stats.mean), to_host(stats.gram)
    assert stats.n == x.shape[0]
    assert mean.dtype == np.float64
    assert g.dtype == np.float64
    np.testing.assert_allclose(mean, ref.mean, rtol=1e-12, atol=1e-10)
    assert np.array_equal(g, g.T)
    if engine == "tf32x3":  # the stated per-entry bound (csrc/cuda/pca/NOTES.md)
        assert (np.abs(g - ref.gram) <= model.tf32x3_error_bound(x) + 1e-300).all()
        return
    # float32: the centred values are rounded once (~6e-8) and products summed in float32 over
    # ≤ 128 rows; the CPU kernel in float64 sums is the baseline (no worse than 10× its error)
    cpu = ops.gram(x)
    base = max(np.abs(cpu.gram - ref.gram).max(), 1e-14 * np.abs(ref.gram).max())
    tol = 1e-5 if dtype == np.float32 else 10 * base / max(np.abs(ref.gram).max(), 1e-300)
    assert np.abs(g - ref.gram).max() <= tol * max(np.abs(ref.gram).max(), 1e-300)


ENGINES = [(np.float32, "simt"), (np.float32, "tf32x3"), (np.float64, "simt")]


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(("dtype", "engine"), ENGINES)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("n", "d"), [(1, 1), (2, 3), (7, 64), (1000, 257), (100_003, 3),
                                      (1000, 1), (3000, 2048), (33, 255), (255, 33)])  # fmt: skip
def test_gram_matches_cpu(lib, dtype, engine, order, n, d):
    x = _data(n, d, dtype, seed=n + d)
    poison_allocator(lib, 64 << 20)
    dx = to_device(x, lib)
    if order == "F":
        dx = dx.T.contiguous().T if lib == "torch" else library("cupy").asfortranarray(dx)
    _check(_pca_cuda.gram(dx, engine=engine), x, dtype, engine)


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 3), (33, 65), (300, 70), (1000, 33), (5, 255)])
def test_tf32x3_kernel_matches_its_model(lib, order, n, d):
    """Kernel vs the numpy model: bit-equal operands and index maps, so they differ only by
    the tensor core's FP32 accumulation inside a 64-row flush block (≤ 24·2⁻²³ of the block's
    Σ|products|, bounded here by the whole Σᵣ|cᵣᵢ cᵣⱼ|)."""
    x = _data(n, d, np.float32, seed=3 * n + d, offset=40.0)
    dx = to_device(x, lib)
    if order == "F":
        dx = dx.T.contiguous().T if lib == "torch" else library("cupy").asfortranarray(dx)
    sms = int(_core.cuda_device_info(0)["sm_count"])
    mean, g = model.centred_gram_tf32x3(x, col_major=order == "F", sm_count=sms)
    stats = _pca_cuda.gram(dx, engine="tf32x3")
    np.testing.assert_array_equal(to_host(stats.mean), mean)  # same sums, same order
    c = np.abs(x.astype(np.float64) - mean)
    assert (np.abs(to_host(stats.gram) - g) <= 24 * 2.0**-23 * (c.T @ c) + 1e-300).all()


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("engine", ["simt", "tf32x3"])
def test_gram_strided_rows_and_columns(lib, engine):
    big = _data(500, 300, np.float32, seed=1)
    dx = to_device(big, lib)

    def check(view, host):
        _check(_pca_cuda.gram(view, engine=engine), host, np.float32, engine)

    check(dx[::2, 10:110], big[::2, 10:110])  # padded rows
    fx = dx.T.contiguous().T if lib == "torch" else library("cupy").asfortranarray(dx)
    check(fx[10:400, 5:70], big[10:400, 5:70])  # padded columns
    check(dx[:, ::3], big[:, ::3])  # neither stride 1: copied


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("engine", ["simt", "tf32x3"])
def test_gram_large_mean_float32(lib, engine):
    rng = np.random.default_rng(7)
    x = (1e4 + rng.standard_normal((20_000, 33))).astype(np.float32)
    stats = _pca_cuda.gram(to_device(x, lib), engine=engine)
    ref = gram_reference(x)
    assert np.abs(to_host(stats.gram) - ref.gram).max() <= 1e-5 * np.abs(ref.gram).max()


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("engine", ["simt", "tf32x3"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gram_non_finite_is_a_value_error(lib, engine, bad):
    x = _data(300, 70, np.float32, seed=3)
    x[123, 65] = bad
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        _pca_cuda.gram(to_device(x, lib), engine=engine)


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
def test_float32_runs_on_the_tensor_cores_by_default(lib):
    """ops.gram on float32 is the tf32x3 engine on a TF32-capable GPU (bit-equal results)."""
    if _core.cuda_device_info(0)["capability"][0] < 8:
        pytest.skip("no TF32 tensor cores")
    dx = to_device(_data(3000, 130, np.float32, seed=8), lib)
    a = to_host(ops.gram(dx).gram)
    assert np.array_equal(a, to_host(_pca_cuda.gram(dx, engine="tf32x3").gram))


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("engine", ["simt", "tf32x3"])
def test_gram_is_deterministic_and_merges(lib, engine):
    x = _data(5000, 130, np.float32, seed=4)
    dx = to_device(x, lib)
    a, b = _pca_cuda.gram(dx, engine=engine), _pca_cuda.gram(dx, engine=engine)
    assert np.array_equal(to_host(a.gram), to_host(b.gram))
    parts = (_pca_cuda.gram(dx[:1234], engine=engine), _pca_cuda.gram(dx[1234:], engine=engine))
    merged = ops.merge_gram(*parts)
    ref = gram_reference(x)
    assert np.abs(to_host(merged.gram) - ref.gram).max() <= 1e-5 * np.abs(ref.gram).max()
