"""The tuner on the real CPU fused preprocessing (its config table comes from the core)."""

import numpy as np
import pytest

from lepton import cli, ops
from lepton.ops._tuned import lookup as tuned_config
from lepton.tune import tune


def test_time_tuning_of_preprocess_stores_a_config_from_the_table():
    shape = (1000, 7)  # odd, and small: every config runs in well under a millisecond
    result = tune("preprocess", shape, "time", budget_s=30, min_window_s=0.02, seed=0)
    ids = {int(c["id"]) for c in ops.config_table("preprocess")}
    assert result.winner.id in ids
    assert result.table_size == len(ids)
    assert {r.id for r in result.rows} == ids
    assert result.winner.seconds <= result.max_slowdown * result.fastest.seconds
    assert result.dtype == "float32"
    assert tuned_config("preprocess", shape, "float32") == result.winner.id
    # the stored winner is what config=None runs: same result as asking for it by id
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    np.testing.assert_array_equal(ops.preprocess(x), ops.preprocess(x, config=result.winner.id))


def test_preprocess_on_cuda_tunes_the_cuda_table():
    from lepton import _core
    from lepton.tune import registry

    entry = registry.get("preprocess")
    if not getattr(_core, "cuda_compiled", False):
        with pytest.raises(ValueError, match="preprocess_cuda has no configuration table"):
            entry.configs("cuda:0")
        return
    assert entry.configs("cuda:0") == ops.config_table("preprocess_cuda")
    assert entry.table_hash("cuda:0") == ops.config_table_hash("preprocess_cuda")
    assert entry.table_hash("cpu") == ops.config_table_hash("preprocess")


@pytest.mark.gpu
def test_time_tuning_of_preprocess_on_cuda():
    pytest.importorskip("cupy")
    shape = (100_003, 7)
    result = tune("preprocess", shape, "time", device="cuda:0", budget_s=30, min_window_s=0.02)
    assert {r.id for r in result.rows} == {c["id"] for c in ops.config_table("preprocess_cuda")}
    assert tuned_config("preprocess", shape, "float32", "cuda:0") == result.winner.id


def test_cli_tunes_preprocess_by_rows_and_columns(capsys):
    argv = ["tune", "preprocess", "--m", "300", "--n", "5", "--objective", "time", "--budget", "5"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "preprocess" in out
    assert "GB/J" in out
    assert "preprocess|float32|" in out.replace("\n", "")
