"""Static activation scales: correct where used, and chosen only where they measure better."""

from __future__ import annotations

import numpy as np

from lepton import Lepton


def _mlp(rng):
    return [
        (rng.standard_normal((64, 32)).astype(np.float32) / 6, rng.standard_normal(64), "relu"),
        (rng.standard_normal((10, 64)).astype(np.float32) / 8, None, None),
    ]


def test_static_path_is_within_its_bound_on_the_calibration_rows(error_bound):
    rng = np.random.default_rng(0)
    layers = _mlp(rng)
    x = rng.standard_normal((300, 32)).astype(np.float32)
    lep = Lepton(layers, calibration=x)
    report = lep.calibration_
    assert report is not None
    assert report.rows == 300
    assert len(report.scales) == 2
    np.testing.assert_allclose(report.scales[0], np.abs(x).max() / 127, rtol=1e-6)
    want, bound = error_bound(layers, x, static_scales=report.scales)
    got = lep._scores_on_host(np.ascontiguousarray(x), static=True)
    assert np.all(np.abs(got - want) <= bound)


def test_the_choice_follows_the_measurement():
    rng = np.random.default_rng(1)
    layers = _mlp(rng)
    # Rows of very different magnitude: one scale for all of them wastes the small rows' bits.
    x = rng.standard_normal((200, 32)).astype(np.float32) * rng.uniform(0.01, 10, (200, 1))
    lep = Lepton(layers, calibration=x)
    r = lep.calibration_
    static_wins = r.mean_abs_error_static <= r.mean_abs_error_dynamic and (
        r.seconds_static < r.seconds_dynamic
    )
    assert r.mode == ("static" if static_wins else "dynamic")
    assert r.mean_abs_error_static > r.mean_abs_error_dynamic  # per-row scales are finer here
    assert lep._static is (r.mode == "static")
    assert "dynamic" in repr(lep)
    assert "activation scales: dynamic" in str(r)


def test_without_calibration_scales_are_dynamic():
    lep = Lepton(_mlp(np.random.default_rng(2)))
    assert lep.calibration_ is None
    assert "dynamic scales" in repr(lep)
