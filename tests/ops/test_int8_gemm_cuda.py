"""CUDA int8_gemm against the exact int64 / float64 numpy oracles (needs a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
from _cuda_libs import LIBRARIES, library, poison_allocator, synchronize, to_device, to_host
from _gemm_oracles import (
    assert_requant_edges_covered,
    epilogue_f64,
    epilogue_tolerance,
    gemm_int64,
    requant_edge_operands,
    requantize,
)

from lepton import _core, ops

pytestmark = pytest.mark.gpu

ROWS = (1, 7, 64, 333)
COLS = (8, 40, 1000, 4096)
BF16_U = 2.0**-8  # bfloat16 unit roundoff (8 significand bits)


def _configs(engine=None):
    # A LEPTON_CUDA_CONFIGS=minimal build refuses the rest (tests/ops/test_gemm_cuda_configs.py).
    table = ops.config_table("int8_gemm_cuda")
    return [c for c in table if c["built"] and engine in (None, c["engine"])]


def _hopper() -> bool:
    return tuple(_core.cuda_device_info(0)["capability"]) == (9, 0)


def _refusal(cfg, n, k, out_dtype="int32"):
    """The ValueError pattern config ``cfg`` must raise for this call, or None if it runs."""
    if cfg["engine"] == "mma_s8":
        if cfg["split_k"] > -(-k // cfg["tile_k"]):
            return f"config {cfg['id']} .*split-K"
        return None
    if not _hopper():
        return f"config {cfg['id']} .*runs on Hopper \\(sm_90\\) only"
    if out_dtype == "int8":
        return f"config {cfg['id']} .*no int8 output"
    align = 16 // np.dtype(out_dtype if out_dtype != "bfloat16" else "float16").itemsize
    if n % align:
        return f"config {cfg['id']} .*N={n} must be a multiple of {align}"
    return None


def _int8(rng, shape):
    return rng.integers(-128, 128, shape, dtype=np.int8)  # -128 included: the extreme products


def _lib():
    for name in LIBRARIES:
        try:
            return name if library(name) else None
        except pytest.skip.Exception:
            continue
    pytest.skip("needs torch (CUDA) or cupy")


@pytest.mark.parametrize("m", ROWS)
@pytest.mark.parametrize("n", COLS)
@pytest.mark.parametrize("k", COLS)
def test_every_config_exact(m, n, k):
    lib = _lib()
    rng = np.random.default_rng([m, n, k])
    a, b = _int8(rng, (m, k)), _int8(rng, (n, k))
    want = gemm_int64(a, b)
    da, db = to_device(a, lib), to_device(b, lib)
    for cfg in _configs():
        refusal = _refusal(cfg, n, k)
        if refusal is not None:
            with pytest.raises(ValueError, match=refusal):
                ops.int8_gemm(da, db, config=cfg["id"])
            continue
        poison_allocator(lib, m * n * 4)
        got = to_host(ops.int8_gemm(da, db, config=cfg["id"]))
        assert got.dtype == np.int32, cfg["name"]
        np.testing.assert_array_equal(got, want, err_msg=cfg["name"])


def test_default_config_exact_at_tile_multiples():
    lib = _lib()
    rng = np.random.default_rng(1)
    for m, n, k in ((128, 256, 512), (256, 128, 64), (1024, 1024, 1024), (3, 5, 7)):
        a, b = _int8(rng, (m, k)), _int8(rng, (n, k))
        got = to_host(ops.int8_gemm(to_device(a, lib), to_device(b, lib)))
        np.testing.assert_array_equal(got, gemm_int64(a, b))


def test_wgmma_grid_of_few_tiles():
    """Problems of fewer tiles than SMs, odd counts included: the persistent grid must still be
    whole clusters (the 2×1 cluster kernel got an empty or odd grid; test_wgmma_grid_model)."""
    if not _hopper() or not _configs("wgmma_s8"):
        pytest.skip("needs an sm_90 GPU and a build with the wgmma kernels")
    lib = _lib()
    rng = np.random.default_rng(15)
    for m, n, k in ((1, 16, 16), (100, 768, 64), (129, 256, 128), (300, 1280, 32)):
        a, b = _int8(rng, (m, k)), _int8(rng, (n, k))
        want = gemm_int64(a, b)
        da, db = to_device(a, lib), to_device(b, lib)
        for cfg in _configs("wgmma_s8"):
            got = to_host(ops.int8_gemm(da, db, config=cfg["id"]))
            np.testing.assert_array_equal(got, want, err_msg=f"{cfg['name']} {(m, n, k)}")


def test_max_k_exact():
    lib = _lib()
    k = ops.MAX_K
    a = np.full((3, k), -128, np.int8)
    b = np.full((5, k), -128, np.int8)
    got = to_host(ops.int8_gemm(to_device(a, lib), to_device(b, lib)))
    assert (got == 128 * 128 * k).all()  # 2³⁰: the largest sum, still exact


def _assert_epilogue(got, acc, a_scale, b_scale, bias, activation, out_dtype):
    _, want = epilogue_f64(acc, a_scale, b_scale, bias, activation)
    f16 = "float16" if out_dtype == "float16" else "float32"
    tol = epilogue_tolerance(acc, a_scale, b_scale, bias, activation, f16)
    if out_dtype == "bfloat16":
        tol = tol + BF16_U * np.abs(want) + 1e-38
    got = got.astype(np.float64)
    assert np.isfinite(got).all()
    bad = np.abs(got - want) > tol
    assert not bad.any(), (
        f"{bad.sum()} of {bad.size} beyond tolerance; first {np.argwhere(bad)[:3].tolist()}"
    )


EPILOGUES = [
    # (a_scale, b_scale, bias)
    (True, True, True),
    (True, False, False),
    (False, True, False),
    (False, False, True),
    (False, False, False),  # activation only
]


@pytest.mark.parametrize("activation", [None, "relu", "gelu", "sigmoid"])
@pytest.mark.parametrize("out_dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("parts", EPILOGUES)
def test_epilogue(activation, out_dtype, parts):
    lib = "torch" if out_dtype == "bfloat16" else _lib()  # cupy has no bfloat16
    library(lib)
    rng = np.random.default_rng(7)
    m, n, k = 77, 130, 200
    if parts[0] or parts[1]:
        a, b = _int8(rng, (m, k)), _int8(rng, (n, k))
    else:  # unscaled: small operands keep acc within float16 range and activations unsaturated
        a, b = (rng.integers(-4, 5, s, dtype=np.int8) for s in ((m, k), (n, k)))
    acc = gemm_int64(a, b)
    a_scale = rng.uniform(1e-4, 2e-3, m).astype(np.float32) if parts[0] else None
    b_scale = rng.uniform(1e-3, 1e-2, n).astype(np.float32) if parts[1] else None
    bias = rng.standard_normal(n).astype(np.float32) if parts[2] else None

    def dev(v):
        return None if v is None else to_device(v, lib)

    for cfg in (None, 7, 8, 13):  # the GEMM's own epilogue and the split-K reduce kernel's
        got = ops.int8_gemm(
            dev(a), dev(b), a_scale=dev(a_scale), b_scale=dev(b_scale), bias=dev(bias),
            activation=activation, out_dtype=out_dtype, config=cfg,
        )  # fmt: skip
        _assert_epilogue(to_host(got), acc, a_scale, b_scale, bias, activation, out_dtype)


@pytest.mark.parametrize("activation", [None, "relu", "gelu", "sigmoid"])
@pytest.mark.parametrize("out_dtype", ["float32", "float16", "bfloat16"])
def test_wgmma_epilogue(activation, out_dtype):
    """The sm_90a kernels' EVT epilogue, on a tail in M and an N their TMA store accepts."""
    if not _hopper() or not _configs("wgmma_s8"):
        pytest.skip("needs an sm_90 GPU and a build with the wgmma kernels")
    lib = "torch" if out_dtype == "bfloat16" else _lib()
    library(lib)
    rng = np.random.default_rng(8)
    m, n, k = 77, 136, 200  # K is zero-padded to 208 by the op
    a, b = _int8(rng, (m, k)), _int8(rng, (n, k))
    acc = gemm_int64(a, b)
    a_scale = rng.uniform(1e-4, 2e-3, m).astype(np.float32)
    b_scale = rng.uniform(1e-3, 1e-2, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    for parts in EPILOGUES:
        vs = [v if on else None for v, on in zip((a_scale, b_scale, bias), parts, strict=True)]
        if not (parts[0] or parts[1]):  # unscaled: keep acc within float16 range
            a, b = (rng.integers(-4, 5, s, dtype=np.int8) for s in ((m, k), (n, k)))
            acc = gemm_int64(a, b)
        for cfg in _configs("wgmma_s8"):
            got = ops.int8_gemm(
                to_device(a, lib), to_device(b, lib),
                **{name: None if v is None else to_device(v, lib)
                   for name, v in zip(("a_scale", "b_scale", "bias"), vs, strict=True)},
                activation=activation, out_dtype=out_dtype, config=cfg["id"],
            )  # fmt: skip
            _assert_epilogue(to_host(got), acc, *vs, activation, out_dtype)


# CPU twin: test_int8_gemm_requant.py::test_edge_operands_reach_every_requantization_path runs
# the same operands and checks the same precondition on every CPU config.
@pytest.mark.parametrize("activation", [None, "relu", "gelu", "sigmoid"])
def test_int8_output_is_the_requantized_float_output(activation):
    lib = _lib()
    a, b, host, out_scale = requant_edge_operands(9)
    n, k = b.shape
    args = [to_device(v, lib) for v in (a, b, host["a_scale"], host["b_scale"], host["bias"])]
    for cfg in [None] + [c["id"] for c in _configs("mma_s8")]:
        if cfg is not None and _refusal(ops.config_table("int8_gemm_cuda")[cfg], n, k):
            continue
        kw = {"a_scale": args[2], "b_scale": args[3], "bias": args[4], "activation": activation}
        y = to_host(ops.int8_gemm(args[0], args[1], out_dtype="float32", config=cfg, **kw))
        q = to_host(ops.int8_gemm(args[0], args[1], out_dtype="int8", out_scale=out_scale,
                                  config=cfg, **kw))  # fmt: skip
        assert q.dtype == np.int8
        assert_requant_edges_covered(y, activation, out_scale)
        np.testing.assert_array_equal(q, requantize(y, out_scale), err_msg=str(cfg))
        np.testing.assert_array_equal(q[np.isnan(y)], 0, err_msg=str(cfg))
    for cfg in _configs("wgmma_s8"):
        with pytest.raises(ValueError, match=_refusal(cfg, n, k, "int8")):
            ops.int8_gemm(args[0], args[1], out_dtype="int8", out_scale=out_scale, config=cfg["id"])


def test_linear_int8_int8_output():
    lib = _lib()
    rng = np.random.default_rng(10)
    w_q, w_scale = ops.quantize(rng.standard_normal((96, 130)).astype(np.float32))
    bias = rng.standard_normal(96).astype(np.float32)
    packed = ops.pack_weights(to_device(w_q, lib), to_device(w_scale, lib), to_device(bias, lib))
    x = to_device(rng.standard_normal((37, 130)).astype(np.float32), lib)
    y = to_host(ops.linear_int8(x, packed, activation="relu"))
    q = to_host(ops.linear_int8(x, packed, activation="relu", out_dtype="int8", out_scale=0.02))
    np.testing.assert_array_equal(q, requantize(y, 0.02))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_output_is_the_input_library(lib):
    mod = library(lib)
    rng = np.random.default_rng(3)
    a, b = _int8(rng, (9, 48)), _int8(rng, (11, 48))
    got = ops.int8_gemm(to_device(a, lib), to_device(b, lib))
    assert isinstance(got, mod.Tensor if lib == "torch" else mod.ndarray)
    np.testing.assert_array_equal(to_host(got), gemm_int64(a, b))


def test_torch_and_cupy_agree():
    library("torch")
    library("cupy")
    rng = np.random.default_rng(4)
    a, b = _int8(rng, (65, 100)), _int8(rng, (33, 100))
    s = rng.uniform(0.5, 1.5, 33).astype(np.float32)
    t = ops.int8_gemm(to_device(a, "torch"), to_device(b, "torch"), b_scale=to_device(s, "torch"))
    c = ops.int8_gemm(to_device(a, "cupy"), to_device(b, "cupy"), b_scale=to_device(s, "cupy"))
    np.testing.assert_array_equal(to_host(t), to_host(c))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_noncontiguous_and_misaligned(lib):
    library(lib)
    rng = np.random.default_rng(5)
    big_a, big_b = _int8(rng, (40, 130)), _int8(rng, (130, 50))
    da, db = to_device(big_a, lib), to_device(big_b, lib)
    wide = _int8(rng, (40, 128))
    dw = to_device(wide, lib)
    cases = [
        (dw[::2, :64], dw[1::3, 16:80], wide[::2, :64], wide[1::3, 16:80]),  # aligned views
        (da[::2, :96], db.T[:, :96], big_a[::2, :96], big_b.T[:, :96]),  # row step, transposed
        (da[:, 1:97], db.T[3:, 1:97], big_a[:, 1:97], big_b.T[3:, 1:97]),  # misaligned pointer
        (da[:, ::3], db.T[:, ::3], big_a[:, ::3], big_b.T[:, ::3]),  # inner stride 3
        (da[1:, :33], db.T[:7, :33], big_a[1:, :33], big_b.T[:7, :33]),  # K % 16 != 0
    ]
    for xa, xb, ha, hb in cases:
        got = to_host(ops.int8_gemm(xa, xb))
        np.testing.assert_array_equal(got, gemm_int64(ha, hb))
    np.testing.assert_array_equal(to_host(da), big_a)  # inputs untouched


def test_torch_stream_ordering():
    torch = library("torch")
    rng = np.random.default_rng(6)
    b = _int8(rng, (256, 1024))
    db = to_device(b, "torch")
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        # a is produced on `side` by slow work; int8_gemm must run after it on `side`.
        x = torch.randn(2048, 2048, device="cuda:0")
        for _ in range(20):
            x = torch.tanh(x @ x * 1e-3)
        a_host = _int8(rng, (512, 1024))
        a = torch.from_numpy(a_host).to("cuda:0") + (x[:512, :1024] * 0).to(torch.int8)
        got = ops.int8_gemm(a, db)
    side.synchronize()
    np.testing.assert_array_equal(to_host(got), gemm_int64(a_host, b))


def test_cupy_stream_ordering():
    cupy = library("cupy")
    rng = np.random.default_rng(8)
    a_host, b_host = _int8(rng, (512, 1024)), _int8(rng, (256, 1024))
    db = cupy.asarray(b_host)
    side = cupy.cuda.Stream(non_blocking=True)
    with side:
        x = cupy.random.standard_normal((2048, 2048), dtype=cupy.float32)
        for _ in range(20):
            x = cupy.tanh(x @ x * 1e-3)
        a = cupy.asarray(a_host) + (x[:512, :1024] * 0).astype(cupy.int8)
        got = ops.int8_gemm(a, db)
    side.synchronize()
    np.testing.assert_array_equal(to_host(got), gemm_int64(a_host, b_host))


class _ForeignStreamArray:
    """A CAI v3 producer naming its own stream (not the library's current one)."""

    def __init__(self, tensor, stream_ptr):
        self._tensor = tensor
        cai = dict(tensor.__cuda_array_interface__)
        cai["version"] = 3
        cai["stream"] = stream_ptr
        self.__cuda_array_interface__ = cai


def test_cai_v3_producer_stream_is_waited_for():
    torch = library("torch")
    rng = np.random.default_rng(9)
    a_host, b_host = _int8(rng, (512, 1024)), _int8(rng, (256, 1024))
    producer = torch.cuda.Stream()
    with torch.cuda.stream(producer):
        x = torch.randn(2048, 2048, device="cuda:0")
        for _ in range(20):
            x = torch.tanh(x @ x * 1e-3)
        a = torch.from_numpy(a_host).to("cuda:0") + (x[:512, :1024] * 0).to(torch.int8)
    wrapped = _ForeignStreamArray(a, producer.cuda_stream)
    got = ops.int8_gemm(wrapped, _ForeignStreamArray(to_device(b_host, "torch"), 1))
    synchronize("torch")
    np.testing.assert_array_equal(to_host(got), gemm_int64(a_host, b_host))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_errors_on_device(lib):
    library(lib)
    a = to_device(np.ones((4, 64), np.int8), lib)
    b = to_device(np.ones((8, 64), np.int8), lib)
    with pytest.raises(TypeError, match="b: got a numpy array on the host"):
        ops.int8_gemm(a, np.ones((8, 64), np.int8))
    with pytest.raises(TypeError, match="a: expected dtype int8"):
        ops.int8_gemm(to_device(np.ones((4, 64), np.float32), lib), b)
    with pytest.raises(ValueError, match=r"b: expected shape \(N, 64\)"):
        ops.int8_gemm(a, to_device(np.ones((8, 32), np.int8), lib))
    # CPU twins on fake device arrays: test_cuda_arrays.py (the messages above and the unknown
    # id), test_gemm_cuda_configs.py (the split-K refusal).
    with pytest.raises(ValueError, match=r"config 8 .*split-K 4 needs K > 192"):
        ops.int8_gemm(a, b, config=8)
    with pytest.raises(ValueError, match="config: unknown int8_gemm_cuda config id 99"):
        ops.int8_gemm(a, b, config=99)


class _DLPackOnly:
    """Exposes only the DLPack protocol (no __cuda_array_interface__)."""

    def __init__(self, tensor):
        self._tensor = tensor

    def __dlpack__(self, **kwargs):
        return self._tensor.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._tensor.__dlpack_device__()


def test_dlpack_only_inputs():
    library("torch")
    rng = np.random.default_rng(10)
    a, b = _int8(rng, (19, 80)), _int8(rng, (23, 80))
    got = ops.int8_gemm(_DLPackOnly(to_device(a, "torch")), _DLPackOnly(to_device(b, "torch")))
    np.testing.assert_array_equal(to_host(got), gemm_int64(a, b))


def test_pointer_device_of_a_cai_object():
    from lepton import _core
    from lepton import _cuda_arrays as ca

    torch = library("torch")
    t = torch.zeros(4, device="cuda:0")
    assert _core.cuda_pointer_device(t.data_ptr()) == 0
    wrapped = _ForeignStreamArray(t, None)
    assert ca.describe(wrapped, "x").device == 0
