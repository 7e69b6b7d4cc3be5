"""CUDA array plumbing without a GPU: fake ``__cuda_array_interface__`` objects (no memory
behind them) exercise the metadata reader and every check that must raise before a launch."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from lepton import _core, ops
from lepton import _cuda_arrays as ca

needs_cuda_build = pytest.mark.skipif(
    not getattr(_core, "cuda_compiled", False), reason="CUDA build only"
)


class FakeCuda:
    """Looks like a cupy array to lepton's checks; dereferencing it would crash, and nothing
    in these tests gets that far."""

    def __init__(self, shape, typestr="|i1", *, device=0, ptr=0x7F0000000000, strides=None,
                 version=3, stream=None, readonly=False):  # fmt: skip
        self.__cuda_array_interface__ = {
            "shape": tuple(shape),
            "typestr": typestr,
            "data": (ptr, readonly),
            "strides": strides,
            "version": version,
        }
        if version >= 3:
            self.__cuda_array_interface__["stream"] = stream
        self.device = SimpleNamespace(id=device)


def test_describe_reads_the_interface():
    d = ca.describe(FakeCuda((3, 5), "<f4", device=1, stream=7, readonly=True), "x")
    assert (d.ptr, d.shape, d.strides, d.dtype, d.itemsize) == (0x7F0000000000, (3, 5), (20, 4),
                                                                 "float32", 4)  # fmt: skip
    assert (d.device, d.readonly, d.stream, d.library) == (1, True, 7, "cai")
    assert d.is_c_contiguous()


def test_describe_strided_and_v2():
    d = ca.describe(FakeCuda((4, 8), strides=(32, 2), version=2, stream=5), "x")
    assert d.strides == (32, 2)
    assert d.stream is None  # version 2 has no stream key
    assert not d.is_c_contiguous()


def test_describe_rejects_old_version_and_host_objects():
    with pytest.raises(TypeError, match="x: __cuda_array_interface__ version 1"):
        ca.describe(FakeCuda((2, 2), version=1), "x")
    with pytest.raises(TypeError, match="x: expected a CUDA array"):
        ca.describe(np.zeros(3), "x")


def test_int8_gemm_host_device_mix_names_the_host_argument():
    a, b = FakeCuda((4, 32)), np.zeros((8, 32), np.int8)
    with pytest.raises(TypeError, match="b: got a numpy array on the host while a is on cuda:0"):
        ops.int8_gemm(a, b)
    with pytest.raises(TypeError, match="a: got a numpy array on the host while b is on cuda:0"):
        ops.int8_gemm(np.zeros((4, 32), np.int8), FakeCuda((8, 32)))
    scale = np.ones(4, np.float32)
    with pytest.raises(TypeError, match="a_scale: got a numpy array on the host"):
        ops.int8_gemm(FakeCuda((4, 32)), FakeCuda((8, 32)), a_scale=scale)


def test_int8_gemm_two_devices():
    with pytest.raises(ValueError, match="b: on cuda:1 while a is on cuda:0"):
        ops.int8_gemm(FakeCuda((4, 32)), FakeCuda((8, 32), device=1))


@needs_cuda_build
def test_int8_gemm_wrong_dtype():
    with pytest.raises(TypeError, match="a: expected dtype int8, got float32"):
        ops.int8_gemm(FakeCuda((4, 32), "<f4"), FakeCuda((8, 32)))


@needs_cuda_build
def test_int8_gemm_shape_mismatch():
    with pytest.raises(ValueError, match=r"b: expected shape \(N, 32\)"):
        ops.int8_gemm(FakeCuda((4, 32)), FakeCuda((8, 48)))


@needs_cuda_build
def test_int8_gemm_wrong_ndim_and_empty():
    with pytest.raises(ValueError, match="a: expected a 2-D array"):
        ops.int8_gemm(FakeCuda((32,)), FakeCuda((8, 32)))
    with pytest.raises(ValueError, match="a: expected a non-empty array"):
        ops.int8_gemm(FakeCuda((0, 32)), FakeCuda((8, 32)))


@needs_cuda_build
def test_int8_gemm_k_too_long():
    k = ops.MAX_K + 16
    with pytest.raises(ValueError, match=r"a: K=.* exceeds MAX_K"):
        ops.int8_gemm(FakeCuda((4, k)), FakeCuda((8, k)))


@needs_cuda_build
def test_int8_gemm_scale_length():
    with pytest.raises(ValueError, match="b_scale: expected length 8, got 5"):
        ops.int8_gemm(FakeCuda((4, 32)), FakeCuda((8, 32)), b_scale=FakeCuda((5,), "<f4"))


@needs_cuda_build
def test_int8_gemm_bad_activation_and_out_dtype():
    a, b = FakeCuda((4, 32)), FakeCuda((8, 32))
    with pytest.raises(ValueError, match="activation: expected one of"):
        ops.int8_gemm(a, b, activation="tanh")
    with pytest.raises(ValueError, match="out_dtype: expected one of"):
        ops.int8_gemm(a, b, out_dtype="float64")
    with pytest.raises(ValueError, match="out_dtype: int32 output is the exact accumulator"):
        ops.int8_gemm(a, b, activation="relu", out_dtype="int32")


@needs_cuda_build
def test_int8_gemm_bad_config():
    a, b = FakeCuda((4, 32)), FakeCuda((8, 32))
    with pytest.raises(TypeError, match="config: expected an int8_gemm_cuda config id"):
        ops.int8_gemm(a, b, config="fast")
    with pytest.raises(ValueError, match="config: unknown int8_gemm_cuda config id -1"):
        ops.int8_gemm(a, b, config=-1)
    with pytest.raises(ValueError, match="config: unknown int8_gemm_cuda config id 999"):
        ops.int8_gemm(a, b, config=999)


def test_cuda_array_without_cuda_build(monkeypatch):
    monkeypatch.setattr(_core, "cuda_compiled", False, raising=False)
    with pytest.raises(TypeError, match="a: got a CUDA array, but this lepton build has no CUDA"):
        ops.int8_gemm(FakeCuda((4, 32)), FakeCuda((8, 32)))
    with pytest.raises(TypeError, match="x: got a CUDA array, but this lepton build"):
        ops.quantize(FakeCuda((4, 32), "<f4"))


@needs_cuda_build
def test_quantize_wrong_dtype_and_0d():
    with pytest.raises(TypeError, match="x: expected dtype float16, float32 or float64"):
        ops.quantize(FakeCuda((4, 32)))
    with pytest.raises(ValueError, match="x: expected an array with at least one dimension"):
        ops.quantize(FakeCuda((), "<f4"))


def test_dequantize_host_q_device_scale():
    with pytest.raises(TypeError, match="q: got a numpy array on the host while scale is on"):
        ops.dequantize(np.zeros((4, 8), np.int8), FakeCuda((4,), "<f4"))


def test_linear_int8_host_weights_device_x():
    packed = ops.pack_weights(np.ones((8, 32), np.int8))
    with pytest.raises(TypeError, match="w: the weights were packed on the host but x is a CUDA"):
        ops.linear_int8(FakeCuda((4, 32), "<f4"), packed)


def test_linear_int8_cpu_out_dtype():
    packed = ops.pack_weights(np.ones((8, 32), np.int8))
    with pytest.raises(ValueError, match="out_dtype: the CPU linear_int8 writes float32 only"):
        ops.linear_int8(np.ones((2, 32), np.float32), packed, out_dtype="float16")


@needs_cuda_build
def test_config_table_int8_gemm_cuda():
    table = ops.config_table("int8_gemm_cuda")
    assert len(table) >= 12
    assert [c["id"] for c in table] == list(range(len(table)))
    assert len({c["name"] for c in table}) == len(table)
    for c in table:
        assert c["split_k"] in (1, 2, 4)
        if c["engine"] == "mma_s8":
            assert c["smem_bytes"] == c["stages"] * (c["tile_m"] + c["tile_n"]) * c["tile_k"]
    assert {c["split_k"] for c in table} == {1, 2, 4}
    assert {c["cta_cap_div"] for c in table} >= {0, 2, 4}
    assert ops.config_table_hash("int8_gemm_cuda") == ops.config_table_hash("int8_gemm_cuda")
    assert ops.config_table_hash("int8_gemm_cuda") != ops.config_table_hash("int8_gemm")


# --- which library and device: lepton._dispatch --------------------------------------------------


class _MaybeOnDevice:
    """An array type whose instances are on the host or the device (the interface attribute
    exists only for device ones): is_cuda must ask each instance, never cache by type."""

    def __init__(self, on_device):
        if on_device:
            self.__cuda_array_interface__ = FakeCuda((2, 2)).__cuda_array_interface__

    def __array__(self, dtype=None, copy=None):
        return np.zeros((2, 2), np.float32)


def test_is_cuda_asks_each_instance_of_a_mixed_type():
    from lepton._dispatch import is_cuda, placement

    assert is_cuda(_MaybeOnDevice(True))
    assert not is_cuda(_MaybeOnDevice(False))
    assert is_cuda(_MaybeOnDevice(True))
    assert not is_cuda(None)
    assert not is_cuda(np.zeros(3))
    assert not is_cuda(np.ma.masked_array([1.0]))  # numpy subclasses are host arrays
    assert placement(_MaybeOnDevice(False)).device == "cpu"
    assert placement(FakeCuda((1,), device=2)).device == "cuda:2"


def test_torch_cpu_tensors_are_host_arrays():
    torch = pytest.importorskip("torch")
    from lepton._dispatch import is_cuda, placement

    t = torch.zeros(3)
    assert not is_cuda(t)
    assert placement(t) == placement(t)
    assert placement(t).library == "torch"
    assert placement(t).device == "cpu"


def test_inference_arrays_names_are_the_dispatch_ones():
    from lepton import _dispatch
    from lepton.inference import arrays

    for name in ("Backend", "namespace", "to_backend", "to_host"):
        assert getattr(arrays, name) is getattr(_dispatch, name)
    assert ca.is_cuda is _dispatch.is_cuda


def test_describe_reads_the_interface_once():
    reads = []

    class Counting(FakeCuda):
        def __getattribute__(self, name):
            if name == "__cuda_array_interface__":
                reads.append(name)
            return super().__getattribute__(name)

    x = Counting((3, 4), "<f2")
    reads.clear()  # the constructor reads it too
    d = ca.describe(x, "x")
    assert (d.dtype, d.itemsize, d.shape, d.strides) == ("float16", 2, (3, 4), (8, 2))
    assert len(reads) == 1


def test_describe_all_takes_described_arrays_as_they_are():
    d = ca.describe(FakeCuda((4, 32)), "w")
    out = ca.describe_all({"x": FakeCuda((2, 32), "<f4"), "w": d})
    assert out["w"] is d
    with pytest.raises(TypeError, match="x: got a numpy array on the host while w is on cuda:0"):
        ca.describe_all({"x": np.zeros((2, 32), np.float32), "w": d})
    with pytest.raises(ValueError, match="w: on cuda:0 while x is on cuda:1"):
        ca.describe_all({"x": FakeCuda((2, 32), "<f4", device=1), "w": d})


def test_new_describes_what_it_allocates(monkeypatch):
    import fake_cupy

    lib, _ = fake_cupy.install(monkeypatch)
    like = ca.describe(lib.wrap(np.zeros((2, 2), np.int8)), "x")
    for shape, dtype in (((5, 7), "int32"), ((3,), "float32"), ((2, 3, 4), "float16")):
        d = ca.new(like, shape, dtype)
        again = ca.describe(d.obj, "again")
        assert (d.ptr, d.shape, d.strides, d.dtype, d.itemsize, d.device) == (
            again.ptr, again.shape, again.strides, again.dtype, again.itemsize, again.device
        )  # fmt: skip
        assert d.library == "cupy"
