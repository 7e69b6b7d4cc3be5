"""The int8_gemm_cuda table in full and reduced (LEPTON_CUDA_CONFIGS=minimal) builds, without a
GPU: which entries are built, the error for the others, and the heuristic's choices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lepton import _core, ops
from lepton.ops import _gemm_cuda
from test_cuda_arrays import FakeCuda  # tests/ is on sys.path (its conftest.py)

pytestmark = pytest.mark.skipif(
    not getattr(_core, "cuda_compiled", False), reason="CUDA build only"
)

LEFT_OUT = r"left out by LEPTON_CUDA_CONFIGS=minimal \(rebuild with LEPTON_CUDA_CONFIGS=all\)"
H100_SMEM = 227 * 1024  # cudaDevAttrMaxSharedMemoryPerBlockOptin on sm_90
# (sm_count, shared memory per block): H100, A100, L4-sized, a tiny part, a 48 KiB-only part.
DEVICES = ((132, H100_SMEM), (108, 163 * 1024), (58, 99 * 1024), (2, 99 * 1024), (16, 48 * 1024))
SHAPES = [(m, n, k) for m in (1, 7, 64, 65, 333, 8192) for n in (8, 1000, 4096) for k in (16, 4096)]


def _wgmma_left_out() -> str:
    """Why this build has no wgmma kernel a config names (what the error must say)."""
    return {
        "built": LEFT_OUT,
        "no-cutlass": r"was left out: no CUTLASS headers at build time",
        "no-sm90a": r"was left out: LEPTON_CUDA_ARCHITECTURES has no 90a",
    }[_core.cuda_wgmma_build]


def _table():
    return ops.config_table("int8_gemm_cuda")


KERNELS_DEF = Path(__file__).parents[2] / "csrc" / "cuda" / "gemm" / "kernels.def"


def _kernel_rows() -> dict[str, tuple[str, bool]]:
    """name: (engine, MINIMAL) of each kernel row of csrc/cuda/gemm/kernels.def, parsed as
    sources.cmake parses it."""
    rows = {}
    for line in KERNELS_DEF.read_text().splitlines():
        found = re.fullmatch(r"LEPTON_(MMA_TILE|WGMMA_KERNEL)\((\w+),.*, *([01])\)", line)
        if found:
            engine = "mma_s8" if found[1] == "MMA_TILE" else "wgmma_s8"
            rows[found[2]] = (engine, found[3] == "1")
    return rows


def test_every_declared_kernel_is_in_the_table_and_named_as_declared():
    rows = _kernel_rows()
    assert len(rows) == 11  # 7 mma tiles, 4 wgmma kernels
    assert {c["kernel"]: c["engine"] for c in _table()} == {n: e for n, (e, _) in rows.items()}
    assert any(minimal for e, minimal in rows.values() if e == "wgmma_s8")


def _unbuilt():
    return [c for c in _table() if not c["built"]]


def test_every_entry_says_whether_it_is_built():
    table = _table()
    assert all(isinstance(c["built"], bool) for c in table)
    assert _core.cuda_configs_build in ("all", "minimal")
    built_kernels = {c["kernel"] for c in table if c["built"]}
    wgmma_built = _core.cuda_wgmma_build == "built"
    assert _core.cuda_wgmma_build in ("built", "no-cutlass", "no-sm90a")
    if _core.cuda_configs_build == "all":
        assert all(c["built"] == (c["engine"] == "mma_s8" or wgmma_built) for c in table)
    else:
        # The rows marked MINIMAL in kernels.def (a general tile and a small one, with their
        # split-K and CTA-cap variants; on sm_90a with CUTLASS one wgmma kernel with its caps).
        rows = _kernel_rows().items()
        minimal = {n for n, (e, m) in rows if m and (e == "mma_s8" or wgmma_built)}
        assert built_kernels == minimal
        assert {"t128x128s4", "t64x64s4"} <= built_kernels  # the heuristic's fallbacks
        assert _unbuilt()
    for c in table:  # a config is built exactly when its kernel is
        assert c["built"] == (c["kernel"] in built_kernels)
    assert _gemm_cuda.built_config_ids() == {c["id"] for c in table if c["built"]}


def test_built_flags_leave_the_hash_alone():
    # The table is a declaration: the hash covers ids and names, not what this build compiled.
    assert len(_table()) == 24
    assert ops.config_table_hash("int8_gemm_cuda") == str(_core.gemm_cuda_config_hash())


@pytest.mark.skipif(
    getattr(_core, "cuda_configs_build", "all") != "minimal", reason="minimal CUDA build only"
)
def test_unbuilt_configs_are_refused_before_any_launch():
    for c in _unbuilt():
        why = LEFT_OUT if c["engine"] == "mma_s8" else _wgmma_left_out()
        pattern = f"config: int8_gemm_cuda config {c['id']} .*{why}"
        # At the binding: checked before the device is queried (there is none here).
        with pytest.raises(ValueError, match=pattern):
            _core.gemm_cuda_resolve_config(c["id"], 64, 64, 64, 0, 0)
        # Through the op, on fake device arrays that a launch would crash on.
        with pytest.raises(ValueError, match=pattern):
            ops.int8_gemm(FakeCuda((4, 32)), FakeCuda((8, 32)), config=c["id"])
        # The launch entry point itself refuses (a caller skipping resolve_config).
        with pytest.raises(ValueError, match=pattern):
            _core.int8_gemm_cuda(
                0x7F0000000000, 32, 0x7F0000000000, 32, 4, 8, 32, 0x7F0000000000, 0,
                0, 0, 0, 0, 1.0, 0, 0, c["id"], 0, 0,
            )  # fmt: skip


def test_a_split_k_the_k_cannot_feed_is_refused_without_a_device():
    # The CPU twin of test_int8_gemm_cuda.py::test_errors_on_device's split-K case: the core
    # checks the shape before it queries a device, so the message is the same without a GPU.
    pattern = r"config: int8_gemm_cuda config 8 .*split-K 4 needs K > 192 .*got K=64"
    with pytest.raises(ValueError, match=pattern):
        _core.gemm_cuda_resolve_config(8, 4, 8, 64, 0, 0)
    with pytest.raises(ValueError, match=pattern):
        ops.int8_gemm(FakeCuda((4, 64)), FakeCuda((8, 64)), config=8)


OUT_CODES = _gemm_cuda.OUT_CODES


@pytest.mark.parametrize(("sms", "smem"), DEVICES)
@pytest.mark.parametrize("capability", [80, 89, 90])
@pytest.mark.parametrize("out_dtype", list(OUT_CODES))
def test_heuristic_picks_only_built_usable_configs(sms, smem, capability, out_dtype):
    table = _table()
    align = 16 // {"int32": 4, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}[out_dtype]
    for m, n, k in SHAPES:
        code = OUT_CODES[out_dtype]
        c = table[_core.gemm_cuda_heuristic(m, n, k, sms, smem, code, capability)]
        where = (m, n, k, out_dtype, capability, c["name"])
        assert c["built"], where
        if c["engine"] == "mma_s8":
            assert c["smem_bytes"] <= smem, where
            assert c["split_k"] <= -(-k // c["tile_k"]), where
        else:  # sm_90a kernels: Hopper only, no int8 output, 16-byte output rows
            assert capability == 90, where
            assert out_dtype != "int8", where
            assert n % align == 0, where


@pytest.mark.skipif(getattr(_core, "cuda_wgmma_build", "") != "built", reason="no wgmma build")
def test_heuristic_prefers_wgmma_on_hopper():
    for shape in ((8192, 8192, 8192), (4096, 4096, 4096), (333, 1000, 40)):
        for out_dtype in ("int32", "float16", "bfloat16", "float32"):
            c = _table()[
                _core.gemm_cuda_heuristic(*shape, 132, H100_SMEM, OUT_CODES[out_dtype], 90)
            ]
            assert c["engine"] == "wgmma_s8", (shape, out_dtype, c["name"])
    # ...and never where it cannot run: another GPU, int8 output, an unaligned N.
    for capability, out_dtype, n in (
        (80, "float16", 1024),
        (90, "int8", 1024),
        (90, "float16", 1001),
    ):
        c = _table()[
            _core.gemm_cuda_heuristic(
                1024, n, 1024, 132, H100_SMEM, OUT_CODES[out_dtype], capability
            )
        ]
        assert c["engine"] == "mma_s8", (capability, out_dtype, n, c["name"])


def test_config_dicts_describe_both_engines():
    for c in _table():
        assert c["engine"] in ("mma_s8", "wgmma_s8")
        assert c["name"].startswith(c["engine"])
        if c["engine"] == "wgmma_s8":
            assert (c["split_k"], c["tile_k"], c["smem_bytes"]) == (1, 128, None)
            assert c["schedule"] in ("cooperative", "pingpong")
            assert len(c["cluster"]) == 2


def test_unknown_out_dtype_code_is_refused():
    with pytest.raises(ValueError, match="out_dtype: unknown code 9"):
        _core.gemm_cuda_heuristic(64, 64, 64, 132, H100_SMEM, 9, 90)


def test_heuristic_keeps_its_full_build_choices():
    picks = {
        (8192, 8192, 8192): "t128x256s3",  # fills the machine twice over, wide N
        (32, 4096, 4096): "t64x128s4",  # small M
        (256, 256, 4096): "t128x128s4",  # few tiles, long K: split-K
    }
    for (m, n, k), kernel in picks.items():
        c = _table()[_core.gemm_cuda_heuristic(m, n, k, 132, H100_SMEM, 0, 80)]
        if c["kernel"] != kernel:  # a minimal build takes the nearest kernel it holds
            assert not next(e for e in _table() if e["kernel"] == kernel)["built"]
            assert c["kernel"] in ("t128x128s4", "t64x64s4")
    assert _table()[_core.gemm_cuda_heuristic(256, 256, 4096, 132, H100_SMEM)]["split_k"] > 1


def test_heuristic_bad_device_facts():
    with pytest.raises(ValueError, match="heuristic: expected positive M, N, K and sm_count"):
        _core.gemm_cuda_heuristic(4, 8, 32, 0, H100_SMEM)


def test_tuned_config_for_an_unbuilt_kernel_falls_back_to_the_heuristic(monkeypatch):
    asked = []
    monkeypatch.setattr(_core, "gemm_cuda_resolve_config", lambda cfg, *a: asked.append(cfg) or 0)
    monkeypatch.setattr(_gemm_cuda, "built_config_ids", lambda: frozenset({1, 6}))
    for cached, sent in ((2, -1), (1, 1), (None, -1), (6, 6)):
        monkeypatch.setattr(_gemm_cuda, "tuned_config", lambda *a, c=cached: c)
        asked.clear()
        _gemm_cuda.resolve_config(None, 64, 64, 64, 0)
        assert asked == [sent], cached
    # An explicit request is passed on as is: the core says why it cannot run.
    asked.clear()
    _gemm_cuda.resolve_config(2, 64, 64, 64, 0)
    assert asked == [2]


def test_tuned_config_is_read_under_the_tuners_op_name(monkeypatch):
    looked_up = []
    monkeypatch.setattr(_gemm_cuda, "tuned_config", lambda *a: looked_up.append(a) or None)
    monkeypatch.setattr(_core, "gemm_cuda_resolve_config", lambda cfg, *a: 0)
    _gemm_cuda.resolve_config(None, 64, 32, 16, 1)
    assert looked_up == [("int8_gemm", (64, 32, 16), "int8", "cuda:1")]
    from lepton.tune import registry

    assert "int8_gemm" in registry.names(with_aliases=True)


def test_tuned_config_that_cannot_serve_this_output_falls_back(monkeypatch):
    # Tuned on int32 output; an sm_90a winner cannot write int8: the heuristic serves instead.
    asked = []

    def resolve(cfg, m, n, k, code, device):
        asked.append(cfg)
        if cfg == 17 and code == _gemm_cuda.OUT_CODES["int8"]:
            raise ValueError("config: int8_gemm_cuda config 17 ... has no int8 output")
        return 1 if cfg < 0 else cfg

    monkeypatch.setattr(_core, "gemm_cuda_resolve_config", resolve)
    monkeypatch.setattr(_gemm_cuda, "built_config_ids", lambda: frozenset({1, 17}))
    monkeypatch.setattr(_gemm_cuda, "tuned_config", lambda *a: 17)
    assert _gemm_cuda.resolve_config(None, 64, 64, 64, 0, "int32") == 17
    asked.clear()
    assert _gemm_cuda.resolve_config(None, 64, 64, 64, 0, "int8") == 1
    assert asked == [17, -1]
