"""Per-column steps composed into one fused pass equal the steps applied one after another."""

from __future__ import annotations

import numpy as np
import pytest

from lepton.inference.feature_pass import ColumnSteps


def _apply(steps, x):
    """The float64 oracle: each step in order, NaN staying NaN until an imputer fills it."""
    y = x.astype(np.float64).copy()
    for kind, p, q in steps:
        if kind == "affine":
            y = y * p + q
        elif kind == "clip":
            y = np.clip(y, p, q)
        else:
            y = np.where(np.isnan(y), p, y)
    return y


def _composed(steps, d):
    cs = ColumnSteps(d)
    for kind, p, q in steps:
        if kind == "affine":
            cs.affine(p, q, "step")
        elif kind == "clip":
            cs.clip(p, q, "step")
        else:
            cs.impute(p, "step")
    return cs


def _random_steps(rng, d, n):
    steps = []
    for _ in range(n):
        kind = rng.choice(["affine", "clip", "impute"])
        if kind == "affine":
            a = rng.uniform(0.2, 3, d) * rng.choice([-1, 1], d)
            steps.append(("affine", a, rng.normal(0, 2, d)))
        elif kind == "clip":
            lo = rng.normal(-1, 2, d)
            steps.append(("clip", lo, lo + rng.uniform(0.5, 4, d)))
        else:
            steps.append(("impute", rng.normal(0, 1, d), None))
    return steps


@pytest.mark.parametrize("seed", range(12))
def test_random_chains_of_steps_compose_exactly(seed):
    rng = np.random.default_rng(seed)
    d = 9
    x = rng.normal(0, 3, (200, d))
    x[rng.random(x.shape) < 0.1] = np.nan
    steps = _random_steps(rng, d, int(rng.integers(1, 7)))
    try:
        cs = _composed(steps, d)
    except TypeError as exc:  # an imputer whose value an earlier clip would have moved
        assert "outside the clip bounds" in str(exc)  # noqa: PT017
        return
    front = cs.front_pass()
    want = _apply(steps, x)
    got = front(x) + cs.residual()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_disjoint_clips_make_a_constant_column():
    cs = ColumnSteps(1)
    cs.clip(0.0, 1.0, "a")
    cs.affine(2.0, 10.0, "b")  # values now in [10, 12]
    cs.clip(-5.0, 3.0, "c")  # all of them above 3
    x = np.array([[-4.0], [0.5], [9.0], [np.nan]])
    got = cs.front_pass()(x) + cs.residual()
    np.testing.assert_array_equal(got[:3], 3.0)


def test_identity_steps_need_no_pass():
    cs = ColumnSteps(3)
    assert cs.front_pass() is None
    cs.affine(1.0, 0.0, "scaler without mean or std")
    assert cs.front_pass() is None


def test_dropped_columns_are_zero_whatever_they_hold():
    cs = ColumnSteps(3)
    cs.impute([1.0, 0.0, 2.0], "imputer")
    cs.drop(np.array([True, False, True]))
    assert cs.width == 2
    cs.affine([2.0, 3.0], [0.0, 1.0], "scaler")  # acts on raw columns 0 and 2
    x = np.array([[1.0, np.nan, 1.0], [np.nan, 5.0, np.nan]])
    np.testing.assert_array_equal(cs.front_pass()(x), [[2.0, 0.0, 4.0], [2.0, 0.0, 7.0]])


def test_infinities_are_clipped_or_carried():
    cs = ColumnSteps(2)
    cs.affine([2.0, -1.0], 0.0, "s")
    cs.clip(-3.0, 3.0, "c")
    x = np.array([[np.inf, np.inf], [-np.inf, -np.inf]])
    np.testing.assert_array_equal(cs.front_pass()(x), [[3.0, -3.0], [-3.0, 3.0]])
    carried = ColumnSteps(1)
    carried.affine(2.0, 1.0, "s")
    assert np.isinf(carried.front_pass()(np.array([[np.inf]]))).all()


def test_a_fill_outside_earlier_clip_bounds_is_refused():
    cs = ColumnSteps(1)
    cs.clip(0.0, 1.0, "clipper")
    with pytest.raises(TypeError, match=r"imputer: its fill value 5 .* put the imputer before"):
        cs.impute(5.0, "imputer")


def test_shape_mismatch_names_the_step():
    cs = ColumnSteps(3)
    with pytest.raises(ValueError, match="scaler: scale has shape"):
        cs.affine(np.ones(2), 0.0, "scaler")
