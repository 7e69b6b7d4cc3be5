"""The tuner on the real CPU int8 GEMM, once the core exposes its configuration table."""

import pytest

from lepton import ops
from lepton._configs import ops_with_configs
from lepton.ops._tuned import lookup as tuned_config
from lepton.tune import tune

pytestmark = pytest.mark.skipif(
    "int8_gemm" not in ops_with_configs(), reason="no int8_gemm config table in this build"
)


def test_time_tuning_of_the_cpu_gemm_stores_a_config_from_the_table():
    shape = (33, 64, 128)  # odd M: every config must cope or say it cannot
    result = tune("gemm", shape, "time", budget_s=30, min_window_s=0.02, seed=0)
    ids = {int(c["id"]) for c in ops.config_table("int8_gemm")}
    assert result.winner.id in ids
    assert result.table_size == len(ids)
    assert {r.id for r in result.rows} <= ids
    assert result.winner.seconds <= result.max_slowdown * result.fastest.seconds
    assert tuned_config("int8_gemm", shape, "int8") == result.winner.id
