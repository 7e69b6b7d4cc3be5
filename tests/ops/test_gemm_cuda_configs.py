"""The int8_gemm_cuda table in full and reduced (LEPTON_CUDA_CONFIGS=minimal) builds, without a
GPU: which entries are built, the error for the others, and the heuristic's choices."""

from __future__ import annotations

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


def _table():
    return ops.config_table("int8_gemm_cuda")


def _unbuilt():
    return [c for c in _table() if not c["built"]]


def test_every_entry_says_whether_it_is_built():
    table = _table()
    assert all(isinstance(c["built"], bool) for c in table)
    assert _core.cuda_configs_build in ("all", "minimal")
    built_kernels = {c["kernel"] for c in table if c["built"]}
    if _core.cuda_configs_build == "all":
        assert not _unbuilt()
    else:
        # A general tile and a small one, with their split-K and CTA-cap variants.
        assert {"t128x128s4", "t64x64s4"} <= built_kernels
        assert _unbuilt()
    for c in table:  # a config is built exactly when its kernel is
        assert c["built"] == (c["kernel"] in built_kernels)
    assert _gemm_cuda.built_config_ids() == {c["id"] for c in table if c["built"]}


def test_built_flags_leave_the_hash_alone():
    # The table is a declaration: the hash covers ids and names, not what this build compiled.
    assert len(_table()) == 15
    assert ops.config_table_hash("int8_gemm_cuda") == str(_core.gemm_cuda_config_hash())


@pytest.mark.skipif(
    getattr(_core, "cuda_configs_build", "all") != "minimal", reason="minimal CUDA build only"
)
def test_unbuilt_configs_are_refused_before_any_launch():
    for c in _unbuilt():
        pattern = f"config: int8_gemm_cuda config {c['id']} .*{LEFT_OUT}"
        # At the binding: checked before the device is queried (there is none here).
        with pytest.raises(ValueError, match=pattern):
            _core.gemm_cuda_resolve_config(c["id"], 64, 64, 64, 0)
        # Through the op, on fake device arrays that a launch would crash on.
        with pytest.raises(ValueError, match=pattern):
            ops.int8_gemm(FakeCuda((4, 32)), FakeCuda((8, 32)), config=c["id"])
        # The launch entry point itself refuses (a caller skipping resolve_config).
        with pytest.raises(ValueError, match=pattern):
            _core.int8_gemm_cuda(
                0x7F0000000000, 32, 0x7F0000000000, 32, 4, 8, 32, 0x7F0000000000, 0,
                0, 0, 0, 0, 0, 0, c["id"], 0, 0,
            )  # fmt: skip


@pytest.mark.parametrize(("sms", "smem"), DEVICES)
def test_heuristic_picks_only_built_usable_configs(sms, smem):
    table = _table()
    for m, n, k in SHAPES:
        c = table[_core.gemm_cuda_heuristic(m, n, k, sms, smem)]
        assert c["built"], (m, n, k, c["name"])
        assert c["smem_bytes"] <= smem, (m, n, k, c["name"])
        assert c["split_k"] <= -(-k // c["tile_k"]), (m, n, k, c["name"])


def test_heuristic_keeps_its_full_build_choices():
    picks = {
        (8192, 8192, 8192): "t128x256s3",  # fills the machine twice over, wide N
        (32, 4096, 4096): "t64x128s4",  # small M
        (256, 256, 4096): "t128x128s4",  # few tiles, long K: split-K
    }
    for (m, n, k), kernel in picks.items():
        c = _table()[_core.gemm_cuda_heuristic(m, n, k, 132, H100_SMEM)]
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
