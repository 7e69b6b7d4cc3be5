"""The host-overhead bench suite: well-formed cases whose implementations agree."""

from __future__ import annotations

import numpy as np
import pytest

from lepton.bench.suites import SUITES
from lepton.bench.suites import host as suite


def test_registered_and_each_case_has_one_lepton_impl():
    assert SUITES["host"] == "lepton.bench.suites.host"
    cases = suite.cases("small")
    assert [c.name for c in cases] == [
        "host int8_gemm 64x64x64",
        "host linear_int8 M=1 N=256 K=256",
    ]
    for case in cases:
        assert sum(impl.is_lepton for impl in case.impls) == 1
        assert any("floor" in impl.name for impl in case.impls)


def test_impls_agree():
    for case in suite.cases("small"):
        results = [np.asarray(impl.run(), dtype=np.float64) for impl in case.impls]
        for other in results[1:]:
            np.testing.assert_array_equal(results[0], other)  # exact, or the same kernel


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="size"):
        suite.cases("huge")
