"""Small launches of every CUDA kernel family, run under compute-sanitizer by scripts/sanitize.sh.

Not collected by pytest (no test_ prefix). Each family appends its small case to CASES; case names
given on the command line run only those. The
int8 GEMM cases use odd shapes (tails in M, N and K, K padded by the op) so that every predicated
load and store is exercised; each tile kernel runs once, plus split-K (reduce kernel) and a
capped persistent grid. Results are checked too, so a race that corrupts them fails here.
"""

import numpy as np

from lepton import _core, ops


def _lib():
    # cupy first: under compute-sanitizer its start-up is lighter than torch's (fewer libraries
    # and kernels loaded), which keeps both tools' runs inside the sanitize phase's time limit.
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return "cupy"
    except ImportError:
        pass
    import torch  # neither usable: fail loudly, sanitizing nothing is no pass

    assert torch.cuda.is_available(), "neither cupy nor torch sees a GPU"
    return "torch"


LIB = _lib()


def to_device(x):
    if LIB == "torch":
        import torch

        return torch.from_numpy(np.ascontiguousarray(x)).to("cuda:0")
    import cupy

    return cupy.asarray(x)


def to_host(x):
    return x.cpu().numpy() if LIB == "torch" else x.get()


def probe() -> None:
    assert _core.cuda_probe(0, 1000) == 0.0


def int8_gemm_every_kernel() -> None:
    rng = np.random.default_rng(0)
    m, n, k = 70, 72, 200  # K % 16 != 0 is padded by the op; M, N cut through tiles
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    want = a.astype(np.int64) @ b.astype(np.int64).T
    da, db = to_device(a), to_device(b)
    seen = set()
    for cfg in ops.config_table("int8_gemm_cuda"):
        key = (cfg["kernel"], cfg["split_k"] > 1, cfg["cta_cap_div"] > 0)
        if key in seen or not cfg["built"]:
            continue
        seen.add(key)
        got = to_host(ops.int8_gemm(da, db, config=cfg["id"]))
        assert (got == want).all(), cfg["name"]


def int8_gemm_epilogue() -> None:
    rng = np.random.default_rng(1)
    m, n, k = 33, 41, 96
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    s_a = rng.uniform(1e-4, 1e-3, m).astype(np.float32)
    s_b = rng.uniform(1e-3, 1e-2, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    for cfg in (None, 7):  # the GEMM's own epilogue and the split-K reduce kernel's
        out = ops.int8_gemm(to_device(a), to_device(b), a_scale=to_device(s_a),
                            b_scale=to_device(s_b), bias=to_device(bias), activation="gelu",
                            out_dtype="float16", config=cfg)  # fmt: skip
        assert np.isfinite(to_host(out)).all()


def int8_gemm_wgmma_epilogue_and_int8_output() -> None:
    """Each sm_90a kernel with the full EVT epilogue (float16, N a multiple of 8), and the
    requantized int8 output of an mma.sync tile and of the split-K reduce kernel."""
    rng = np.random.default_rng(4)
    m, n, k = 70, 40, 200
    a = to_device(rng.integers(-128, 128, (m, k), dtype=np.int8))
    b = to_device(rng.integers(-128, 128, (n, k), dtype=np.int8))
    s_a = to_device(rng.uniform(1e-4, 1e-3, m).astype(np.float32))
    s_b = to_device(rng.uniform(1e-3, 1e-2, n).astype(np.float32))
    bias = to_device(rng.standard_normal(n).astype(np.float32))
    kw = {"a_scale": s_a, "b_scale": s_b, "bias": bias, "activation": "gelu"}
    hopper = tuple(_core.cuda_device_info(0)["capability"]) == (9, 0)
    for cfg in ops.config_table("int8_gemm_cuda"):
        if cfg["engine"] == "wgmma_s8" and cfg["built"] and hopper and cfg["cta_cap_div"] == 0:
            out = ops.int8_gemm(a, b, out_dtype="float16", config=cfg["id"], **kw)
            assert np.isfinite(to_host(out)).all(), cfg["name"]
    for cfg in (None, 7):
        q = to_host(ops.int8_gemm(a, b, out_dtype="int8", out_scale=0.01, config=cfg, **kw))
        assert q.dtype == np.int8


def quantize_dequantize() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((37, 301)).astype(np.float32)
    q, s = ops.quantize(to_device(x))
    q_cpu, s_cpu = ops.quantize(x)
    assert (to_host(q) == q_cpu).all()
    assert (to_host(s) == s_cpu).all()
    back = to_host(ops.dequantize(q, s))
    assert (back == ops.dequantize(q_cpu, s_cpu)).all()


def linear_int8() -> None:
    rng = np.random.default_rng(3)
    w_q, w_scale = ops.quantize(rng.standard_normal((50, 70)).astype(np.float32))
    packed = ops.pack_weights(to_device(w_q), to_device(w_scale))
    out = to_host(ops.linear_int8(to_device(rng.standard_normal((9, 70)).astype(np.float32)),
                                  packed, activation="relu"))  # fmt: skip
    assert out.shape == (9, 50)
    assert (out >= 0).all()


def pca_gram() -> None:
    """Every centred-Gram kernel: both dtypes, both float32 engines (SIMT, 3×TF32 tensor cores),
    row- and column-major (tails in rows and tiles; a diagonal and an off-diagonal tile; 19
    stages, so a flush mid-chunk and one at its end)."""
    from lepton.ops import _pca_cuda
    from lepton.ops.pca import gram_reference

    rng = np.random.default_rng(4)
    x = (rng.standard_normal((301, 70)) + 5).astype(np.float32)
    ref = gram_reference(x)
    for dtype, engine in ((np.float32, "simt"), (np.float32, "tf32x3"), (np.float64, "simt")):
        dx = to_device(x.astype(dtype))
        for arr in (dx, dx.T.contiguous().T if LIB == "torch" else dx.T.copy().T):
            stats = _pca_cuda.gram(arr, engine=engine)
            assert np.abs(to_host(stats.gram) - ref.gram).max() <= 1e-4 * np.abs(ref.gram).max()


def pca_fit() -> None:
    from lepton.estimators import PCA

    x = np.random.default_rng(5).standard_normal((200, 40)).astype(np.float32)
    for solver in ("covariance", "randomized"):
        z = PCA(4, svd_solver=solver, random_state=0).fit_transform(to_device(x))
        assert to_host(z).shape == (200, 4)


def preprocess_stats_and_apply() -> None:
    """Both preprocessing kernels: row-major vector and scalar paths, column-major with a partial
    last vector, a persistent grid (config 5) and int8 output; results against the CPU op."""
    import warnings

    rng = np.random.default_rng(4)
    x = rng.standard_normal((301, 12)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    for view, cfg in ((x, 0), (x[:, :11], 5), (np.asfortranarray(x[:, :3]), 4)):
        host = np.array(view, order="K")
        dev = to_device(host) if host.flags.c_contiguous else to_device(host.T).T
        stats = ops.column_stats(dev, config=cfg)
        want = ops.column_stats(host)
        assert (stats.count == want.count).all()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            q, _ = ops.preprocess(dev, want, clip_sigma=3.0, out_dtype=np.int8, config=cfg)
            q_cpu, _ = ops.preprocess(host, want, clip_sigma=3.0, out_dtype=np.int8)
        assert (to_host(q) == q_cpu).all()


CASES = [
    probe,
    int8_gemm_every_kernel,
    int8_gemm_epilogue,
    int8_gemm_wgmma_epilogue_and_int8_output,
    quantize_dequantize,
    linear_int8,
    pca_gram,
    pca_fit,
    preprocess_stats_and_apply,
]

if __name__ == "__main__":
    import sys

    wanted = set(sys.argv[1:])  # case names; none: every case
    unknown = wanted - {case.__name__ for case in CASES}
    assert not unknown, f"unknown cases: {sorted(unknown)}"
    for case in CASES:
        if not wanted or case.__name__ in wanted:
            case()
            print(f"ok {case.__name__}")
