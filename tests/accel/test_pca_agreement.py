"""accel's --compare agreement for PCA: components of a shared eigenvalue are not unique, so
neither they nor the output they project onto count against lepton; distinct ones do."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from lepton.accel.adapters.base import Call
from lepton.accel.adapters.dropin import PCA as PCA_ROW


def _fitted(components, variances, n=101):
    components = np.asarray(components, dtype=np.float64)
    variances = np.asarray(variances, dtype=np.float64)
    return SimpleNamespace(
        components_=components,
        explained_variance_=variances,
        singular_values_=np.sqrt(variances * (n - 1)),
        mean_=np.zeros(components.shape[1]),
        explained_variance_ratio_=variances / variances.sum(),
        noise_variance_=0.0,
        n_components_=components.shape[0],
    )


def _compare(lepton_components, variances):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    est = _fitted(lepton_components, variances)
    twin = _fitted(np.eye(3)[:2], variances)
    call = Call("fit_transform", {"X": x})
    return PCA_ROW.agreement(est, twin, call, x @ est.components_.T, x @ twin.components_.T)


def test_a_rotation_within_a_shared_eigenspace_is_within_tolerance():
    c, s = np.cos(0.3), np.sin(0.3)
    rotated = [[c, s, 0.0], [-s, c, 0.0]]  # the same 2-D eigenspace, other basis
    result = _compare(rotated, [2.0, 2.0])
    assert result.within_tolerance
    assert result.values["components_not_unique"] == 2.0
    assert result.values["output"] > 1e-2  # the outputs differ; they are not held against it
    assert list(result.values)[:2] == ["output", "mean_"]


def test_the_same_rotation_of_distinct_components_is_not():
    c, s = np.cos(0.3), np.sin(0.3)
    result = _compare([[c, s, 0.0], [-s, c, 0.0]], [3.0, 1.0])
    assert not result.within_tolerance
    assert result.values["components_not_unique"] == 0.0
    assert result.values["components_"] > 1e-2
