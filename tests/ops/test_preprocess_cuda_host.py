"""The CUDA preprocessing without a GPU: its config table, work plans, vector widths, a model of
its kernels' index arithmetic and reductions, and every error raised before a launch (fake
``__cuda_array_interface__`` objects with no memory behind them)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _preprocess_cuda_model import apply_writes, column_stats

from lepton import Preprocessor, _core, ops
from lepton.ops import _preprocess_cuda as pc
from lepton.ops.preprocess import apply_plan, make_plan
from lepton.ops.preprocess_reference import column_stats_reference
from test_cuda_arrays import FakeCuda

pytestmark = pytest.mark.skipif(
    not getattr(_core, "cuda_compiled", False), reason="CUDA build only"
)

TABLE = _core.preprocess_cuda_configs() if getattr(_core, "cuda_compiled", False) else []
IDS = [c["id"] for c in TABLE]
KNOBS = ("threads", "unroll", "chunk_kib", "ctas_per_sm", "sm_div", "apply_order", "accumulate")
PTR = 0x7F0000000000  # 256-byte aligned, like every cupy/torch allocation
ITEMSIZE = {"float16": 2, "float32": 4, "float64": 8}
H100_SMS = 132


def fnv1a64(text: str) -> int:
    h = 1469598103934665603
    for byte in text.encode():
        h = ((h ^ byte) * 1099511628211) % 2**64
    return h


# --- the table ----------------------------------------------------------------------------------


def test_table_shape_ids_and_names():
    assert 6 <= len(TABLE) <= 10
    assert list(range(len(TABLE))) == IDS
    assert len({c["name"] for c in TABLE}) == len(TABLE)
    assert len({tuple(c[k] for k in KNOBS) for c in TABLE}) == len(TABLE)
    for c in TABLE:
        assert c["threads"] in (128, 256, 512)
        assert c["unroll"] in (4, 8)  # the compiled variants
        assert c["chunk_kib"] > 0
        assert c["ctas_per_sm"] >= 0
        assert c["sm_div"] >= 1
        assert c["accumulate"] in ("f64", "f32x2")
        assert c["accumulate"] == "f64" or c["unroll"] == 4  # stats_cuda.cu: kF32x2Unroll
        for key in ("id", "name", *KNOBS):
            assert f"{key}={c[key]}" in c["printable"]
    assert ops.config_table("preprocess_cuda") == TABLE


def test_hash_is_fnv1a_of_the_printable_table():
    text = "".join(c["printable"] + "\n" for c in TABLE)
    digest = ops.config_table_hash("preprocess_cuda")
    assert re.fullmatch("[0-9a-f]{16}", digest)
    assert digest == f"{fnv1a64(text):016x}"


def test_unknown_config_is_a_value_error():
    with pytest.raises(ValueError, match="unknown preprocess_cuda config id 99"):
        _core.prep_cuda_plan(99, 10, 3, 4, 0, 1, H100_SMS)
    with pytest.raises(ValueError, match="unknown preprocess_cuda config id 99"):
        _core.prep_cuda_resolve_config(99, 10, 3, 4, 0)


def test_heuristic_gives_small_arrays_small_items():
    small = _core.prep_cuda_heuristic(1000, 64, 4, H100_SMS)
    large = _core.prep_cuda_heuristic(4 << 20, 64, 4, H100_SMS)
    assert TABLE[small]["chunk_kib"] < TABLE[large]["chunk_kib"]
    assert large == 0
    assert TABLE[small]["accumulate"] == TABLE[large]["accumulate"] == "f64"


@pytest.mark.parametrize("itemsize", [2, 4, 8])
def test_heuristic_sums_in_float32_pairs_where_fp64_is_slow(itemsize):
    """Slow FP64 (GeForce, L4): float16/float32 input gets the f32x2 twin of the same item size;
    float64 input keeps float64 sums (f32x2 would change nothing for it)."""
    for rows in (1000, 4 << 20):
        fast = _core.prep_cuda_heuristic(rows, 64, itemsize, H100_SMS)
        slow = _core.prep_cuda_heuristic(rows, 64, itemsize, H100_SMS, slow_fp64=True)
        want = "f32x2" if itemsize <= 4 else "f64"
        assert TABLE[slow]["accumulate"] == want
        same = ("threads", "unroll", "chunk_kib", "ctas_per_sm", "sm_div", "apply_order")
        assert all(TABLE[slow][k] == TABLE[fast][k] for k in same)


@pytest.mark.parametrize("cfg", IDS)
@pytest.mark.parametrize(
    ("rows", "cols", "layout", "vec"),
    [(1, 1, 0, 1), (7, 3, 0, 1), (100_003, 257, 0, 1), (1000, 64, 0, 4), (4 << 20, 64, 0, 4),
     (3, 2048, 0, 2), (1000, 1, 1, 4), (100_003, 3, 1, 8), (7, 1, 1, 1)],
)  # fmt: skip
def test_plans_cover_the_array(cfg, rows, cols, layout, vec):
    p = _core.prep_cuda_plan(cfg, rows, cols, 4, layout, vec, H100_SMS)
    c = TABLE[cfg]
    assert p["threads"] == c["threads"]
    assert p["unroll"] == c["unroll"]
    assert p["chunks"] * p["rows_per_chunk"] >= rows > (p["chunks"] - 1) * p["rows_per_chunk"]
    assert p["items"] == p["chunks"] * p["tiles"]
    assert 1 <= p["grid"] <= p["items"]
    if c["ctas_per_sm"]:
        assert p["grid"] <= c["ctas_per_sm"] * (H100_SMS // c["sm_div"])
    if layout == 0:
        assert p["tiles"] * p["tile_vecs"] * vec >= cols
        assert (p["tiles"] - 1) * p["tile_vecs"] * vec < cols
        assert p["groups"] >= 1
        assert p["groups"] * p["tile_vecs"] <= p["threads"]
    else:
        assert p["tiles"] == cols
        assert p["tile_vecs"] == 1
        assert p["groups"] == p["threads"]
        assert p["rows_per_chunk"] % (p["threads"] * vec) == 0  # chunks start vector-aligned


# --- vector widths ------------------------------------------------------------------------------


def test_vector_width_needs_alignment_everywhere():
    vw = _core.prep_cuda_vector_width
    assert vw(PTR, 1, 0, 10, 64, 64) == 4  # float32 row-major: 16 bytes
    assert vw(PTR, 0, 0, 10, 64, 64) == 4  # float16 row-major: 8 bytes (register budget)
    assert vw(PTR, 0, 1, 64, 10, 64) == 8  # float16 column-major: 16 bytes
    assert vw(PTR, 2, 0, 10, 64, 64) == 2
    assert vw(PTR + 4, 1, 0, 10, 64, 64) == 1  # misaligned start
    assert vw(PTR, 1, 0, 10, 63, 63) == 1  # cols not a multiple of the vector
    assert vw(PTR, 1, 0, 10, 64, 66) == 1  # rows not 16 bytes apart
    assert vw(PTR, 1, 0, 1, 64, 66) == 4  # ... which does not matter for one row
    assert vw(PTR, 1, 1, 7, 3, 7) == 1  # column-major: columns 28 bytes apart
    assert vw(PTR, 1, 1, 7, 1, 7) == 4  # one column: the tail vector is loaded per element
    # the output must allow the same vectors (int8: 4-byte stores; float64: 32 bytes)
    assert vw(PTR, 1, 0, 10, 64, 64, PTR + 2, 3, 64) == 1
    assert vw(PTR, 1, 0, 10, 64, 64, PTR + 4, 3, 64) == 4
    assert vw(PTR, 1, 0, 10, 64, 64, PTR + 16, 1, 64) == 1


# --- the model of the kernels ---------------------------------------------------------------


def _data(rows: int, cols: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0, 3.0, (rows, cols))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.02] = np.inf
    x[rng.random(x.shape) < 0.02] = -np.inf
    if cols > 1:
        x[:, 0] = np.nan  # a column without finite values
    if cols > 2:
        x[:, 1] = 2.5  # a constant column
    return x


def _small_chunks(p: dict, rows: int, rows_per_chunk: int) -> dict:
    """The plan with shorter chunks (keeping the kernel's alignment invariant) to exercise the
    slot merge on small data."""
    q = dict(p)
    q["rows_per_chunk"] = rows_per_chunk
    q["chunks"] = -(-rows // rows_per_chunk)
    q["items"] = q["chunks"] * q["tiles"]
    return q


@pytest.mark.parametrize(
    ("rows", "cols", "layout", "vec", "cfg", "chunk_rows"),
    [(1, 1, 0, 1, 0, None), (7, 3, 0, 1, 4, None), (33, 8, 0, 4, 1, None),
     (300, 5, 0, 1, 0, 64), (200, 4, 0, 2, 2, 48), (700, 2, 1, 4, 1, 512),
     (1000, 1, 1, 1, 4, None), (37, 3, 1, 2, 0, None)],
)  # fmt: skip
def test_stats_model_visits_each_element_once_and_matches_the_reference(
    rows, cols, layout, vec, cfg, chunk_rows
):
    x = _data(rows, cols, rows + cols)
    p = _core.prep_cuda_plan(cfg, rows, cols, 8, layout, vec, H100_SMS)
    if chunk_rows is not None:
        p = _small_chunks(p, rows, chunk_rows)
        assert p["chunks"] > 1
    got, visits = column_stats(x, p)
    assert (visits == 1).all()
    ref = column_stats_reference(x)
    np.testing.assert_array_equal(got[0], ref["count"])
    ok = ref["count"] > 0
    for row, key in ((1, "mean"), (2, "m2")):
        np.testing.assert_allclose(got[row][ok], ref[key][ok], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[3][ok], ref["min"][ok])
    np.testing.assert_array_equal(got[4][ok], ref["max"][ok])
    assert (got[3][~ok] == np.inf).all()
    assert (got[4][~ok] == -np.inf).all()


def _f32x2_data(rows: int, cols: int, seed: int) -> np.ndarray:
    """float32-representable values: large offsets, NaN/Inf, an empty and a constant column,
    and columns whose |x − shift| leaves the float32-pair range (≥ 2⁵⁶, tiny spreads)."""
    x = _data(rows, cols, seed) * 7.0 + 1e4
    rng = np.random.default_rng(seed)
    if cols > 3:
        x[:, 3] = rng.choice([-3e20, 2e20, 1.0], rows)  # |x − k| ≥ 2⁵⁶: float64 sums
    if cols > 4:
        x[:, 4] = 1e-20 * rng.standard_normal(rows)  # |x − k| < 2⁻⁵¹: float64 sums
    return x.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize(
    ("rows", "cols", "layout", "vec", "cfg", "chunk_rows"),
    [(1, 1, 0, 1, 8, None), (7, 5, 0, 1, 9, None), (300, 6, 0, 1, 8, 64),
     (200, 8, 0, 2, 8, 48), (700, 5, 1, 4, 9, 512), (37, 5, 1, 2, 8, None)],
)  # fmt: skip
def test_f32x2_model_matches_the_reference_to_float64_round_off(
    rows, cols, layout, vec, cfg, chunk_rows
):
    """The float32-pair accumulator keeps the statistics' documented CPU agreement (counts,
    min, max exact; mean and M2 to ~1e-12), including values outside the pair range."""
    assert TABLE[cfg]["accumulate"] == "f32x2"
    x = _f32x2_data(rows, cols, rows * cols)
    p = _core.prep_cuda_plan(cfg, rows, cols, 4, layout, vec, H100_SMS)
    if chunk_rows is not None:
        p = _small_chunks(p, rows, chunk_rows)
    got, visits = column_stats(x, p, "f32x2")
    assert (visits == 1).all()
    ref = column_stats_reference(x)
    np.testing.assert_array_equal(got[0], ref["count"])
    ok = ref["count"] > 0
    std = np.sqrt(ref["m2"][ok] / ref["count"][ok])
    assert (np.abs(got[1][ok] - ref["mean"][ok]) <= 1e-12 * (np.abs(ref["mean"][ok]) + std)).all()
    assert (np.abs(got[2][ok] - ref["m2"][ok]) <= 1e-11 * ref["m2"][ok] + 1e-300).all()
    np.testing.assert_array_equal(got[3][ok], ref["min"][ok])
    np.testing.assert_array_equal(got[4][ok], ref["max"][ok])


def test_f32x2_pairs_are_needed_and_enough():
    """On a fold block whose plain float32 shifted sums lose ~3e-7 of M2, the pair accumulator
    keeps float64's result to round-off (≤ 1e-12; ~6e-14 here)."""
    from _preprocess_cuda_model import Acc, AccF32x2

    rng = np.random.default_rng(2)
    vals = rng.uniform(1, 3e4, 256).astype(np.float32).astype(np.float64)
    pair, wide = AccF32x2(), Acc()
    for v in vals:
        pair.add(v)
        wide.add(v)
    pair.fold()
    wide.fold()
    assert abs(pair.m2 - wide.m2) <= 1e-12 * wide.m2
    k = np.float32(vals[0])
    d = np.float32(vals) - k
    s1, s2 = np.float32(0), np.float32(0)
    for v in d:  # the same shifted sums in plain float32
        s1, s2 = s1 + v, s2 + v * v
    plain = float(s2) - float(s1) ** 2 / vals.size
    assert abs(plain - wide.m2) > 1e-8 * wide.m2


@pytest.mark.parametrize("backward", [True, False])
@pytest.mark.parametrize(
    ("rows", "cols", "layout", "vec", "cfg", "chunk_rows"),
    [(1, 1, 0, 1, 0, None), (7, 3, 0, 1, 4, None), (301, 8, 0, 4, 1, 40),
     (1000, 1, 1, 4, 4, None), (1100, 2, 1, 8, 1, 1024), (5, 257, 0, 1, 2, None)],
)  # fmt: skip
def test_apply_model_writes_each_element_once(rows, cols, layout, vec, cfg, chunk_rows, backward):
    p = _core.prep_cuda_plan(cfg, rows, cols, 4, layout, vec, H100_SMS)
    if chunk_rows is not None:
        p = _small_chunks(p, rows, chunk_rows)
    assert (apply_writes((rows, cols), p, backward) == 1).all()


# --- layouts chosen on the host ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "strides", "expected"),
    [((5, 3), (12, 4), (0, 3)), ((5, 3), (4, 20), (1, 5)), ((5, 1), (4, 4), (1, 5)),
     ((5, 1), (8, 4), (0, 2)), ((1, 3), (12, 4), (0, 3)), ((1, 3), (4, 8), (1, 2)),
     ((5, 3), (24, 4), (0, 6)), ((5, 3), (4, 40), (1, 10)), ((5, 3), (12, 8), None),
     ((5, 3), (0, 4), None), ((5, 3), (-12, 4), None), ((5, 3), (6, 2), None)],
)  # fmt: skip
def test_matrix_layout(shape, strides, expected):
    d = pc.ca.describe(FakeCuda(shape, "<f4", strides=strides), "x")
    assert pc.matrix_layout(d) == expected


def _views() -> dict[str, np.ndarray]:
    """Every layout family of the rule in lepton.ops.preprocess_layout, as numpy views."""
    rng = np.random.default_rng(3)
    c = rng.standard_normal((40, 9)).astype(np.float32)
    c[rng.random(c.shape) < 0.1] = np.nan
    f = np.asfortranarray(c)
    return {
        "C": c, "F": f, "C rows 3:30": c[3:30], "C every 2nd row": c[::2],
        "C columns :5": c[:, :5], "F rows 3:30": f[3:30], "F columns 1:7": f[:, 1:7],
        "F every 2nd column": f[:, ::2], "C every 2nd column": c[:, ::2],
        "F every 2nd row": f[::2], "reversed rows": c[::-1], "one column of C": c[:, 4:5],
        "one row of F": f[7:8], "transposed C": c[:9].T,
    }  # fmt: skip


def test_output_order_is_one_rule_for_both_devices():
    """The CPU op's output order, the CUDA op's decision (from the same metadata) and
    preprocess_layout.output_order agree on every layout family, and the CPU values do not
    depend on the copy the op makes."""
    from lepton.ops.preprocess_layout import output_order

    stats = ops.column_stats(_views()["C"])
    want_f = {"F", "F rows 3:30", "F columns 1:7", "F every 2nd column", "one row of F",
              "transposed C"}  # fmt: skip
    for name, view in _views().items():
        s = stats if view.shape[1] == 9 else ops.column_stats(np.ascontiguousarray(view))
        order = output_order(view.shape, view.strides, view.itemsize)
        assert order == ("F" if name in want_f else "C"), name
        out = _quiet_preprocess(view, s)
        assert out.flags.f_contiguous if order == "F" else out.flags.c_contiguous, name
        np.testing.assert_array_equal(out, _quiet_preprocess(np.ascontiguousarray(view), s))
        fake = FakeCuda(view.shape, "<f4", strides=view.strides)
        layout = pc.matrix_layout(pc.ca.describe(fake, "x"))
        if layout is not None:  # read in place: the output is allocated in out_order
            assert pc.out_order(pc.Matrix(fake)) == order, name
        else:  # copied to C order by the input's library first
            assert order == "C", name


def _quiet_preprocess(x, stats):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ops.EmptyColumnWarning)
        return ops.preprocess(x, stats, clip_sigma=2.0)


# --- errors before any launch -------------------------------------------------------------------


def _stats(cols: int):
    return ops.column_stats(np.arange(2.0 * cols).reshape(2, cols))


def test_wrong_dtype_and_rank():
    with pytest.raises(
        TypeError, match="x: expected dtype float16 or float32 or float64, got int8"
    ):
        ops.column_stats(FakeCuda((4, 3), "|i1"))
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        ops.column_stats(FakeCuda((4, 3, 2), "<f4"))
    with pytest.raises(ValueError, match="x: expected a non-empty array"):
        ops.preprocess(FakeCuda((0, 3), "<f4"), _stats(3), config=0)


def test_host_and_device_mixed():
    x = FakeCuda((4, 3), "<f4")
    with pytest.raises(TypeError, match="out: got a numpy array on the host while x is on cuda:0"):
        ops.preprocess(x, _stats(3), out=np.empty((4, 3), np.float32), config=0)
    with pytest.raises(TypeError, match="x: got a numpy array on the host while out is on cuda:0"):
        ops.preprocess(np.ones((4, 3), np.float32), out=FakeCuda((4, 3), "<f4"))
    plan = make_plan(_stats(3))
    with pytest.raises(TypeError, match="out: got a numpy array on the host"):
        apply_plan(x, plan, out=np.empty((4, 3), np.float32))


def test_two_devices():
    with pytest.raises(ValueError, match="out: on cuda:1 while x is on cuda:0"):
        ops.preprocess(FakeCuda((4, 3), "<f4"), _stats(3), out=FakeCuda((4, 3), "<f4", device=1))


@pytest.mark.parametrize(
    ("out", "error", "match"),
    [(FakeCuda((4, 3), "<f8"), TypeError, "out: expected dtype float32"),
     (FakeCuda((3, 4), "<f4"), ValueError, r"out: expected shape \(4, 3\)"),
     (FakeCuda((4, 3), "<f4", strides=(4, 16)), ValueError, "out: expected a C-contiguous"),
     (FakeCuda((4, 3), "<f4", readonly=True), ValueError, "out: array is read-only"),
     (FakeCuda((4, 3), "<f4", ptr=PTR + 16), ValueError, "out: overlaps x")],
)  # fmt: skip
def test_bad_out(out, error, match):
    with pytest.raises(error, match=match):
        ops.preprocess(FakeCuda((4, 3), "<f4"), _stats(3), out=out, config=0)


def test_bad_config_and_stats():
    x = FakeCuda((4, 3), "<f4")
    with pytest.raises(TypeError, match="config: expected a preprocess_cuda config id"):
        ops.preprocess(x, _stats(3), config="fast")
    with pytest.raises(ValueError, match="config: unknown preprocess_cuda config id -2"):
        ops.preprocess(x, _stats(3), config=-2)
    with pytest.raises(ValueError, match="unknown preprocess_cuda config id 99"):
        ops.preprocess(x, _stats(3), config=99)
    with pytest.raises(ValueError, match="stats: has 4 columns, expected 3"):
        ops.preprocess(x, _stats(4), config=0)
    with pytest.raises(ValueError, match="impute: expected one of"):
        ops.preprocess(x, _stats(3), impute="median", config=0)


def test_preprocessor_checks_device_features():
    pre = Preprocessor().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="X has 3 features, but Preprocessor is expecting 4"):
        pre.transform(FakeCuda((5, 3), "<f4"))
    with pytest.raises(TypeError, match="X: expected dtype float16 or float32 or float64"):
        pre.transform(FakeCuda((5, 4), "<i4"))
