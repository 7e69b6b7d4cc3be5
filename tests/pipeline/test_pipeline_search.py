"""Candidate selection, with candidates whose accuracy, seconds and joules are known."""

from __future__ import annotations

import pytest

from lepton.pipeline import Candidate, grid, select


def _c(accuracy, seconds, joules, lr=0.1):
    return Candidate(lr, 1e-3, 4, accuracy, seconds, joules)


METERED = [
    _c(0.95, 1.0, 100.0),  # most accurate, expensive
    _c(0.93, 0.5, 20.0),  # best accuracy per joule above 0.92
    _c(0.90, 0.1, 5.0),  # best per joule overall, below the minimum
    _c(0.93, 0.4, 25.0),
]


def test_accuracy_takes_the_most_accurate():
    assert select(METERED, "accuracy", 0.0) == (0, "accuracy", "")


def test_accuracy_per_joule_respects_the_minimum():
    assert select(METERED, "accuracy_per_joule", 0.92) == (1, "accuracy_per_joule", "")
    assert select(METERED, "accuracy_per_joule", 0.0) == (2, "accuracy_per_joule", "")


def test_accuracy_per_second():
    # 0.93/0.4 beats 0.93/0.5: time decides where joules would not be asked for.
    assert select(METERED, "accuracy_per_second", 0.92) == (3, "accuracy_per_second", "")


def test_no_meter_falls_back_to_accuracy_per_second_and_says_so():
    unmetered = [_c(c.accuracy, c.seconds, None) for c in METERED]
    best, used, note = select(unmetered, "accuracy_per_joule", 0.92)
    assert (best, used) == (3, "accuracy_per_second")
    assert "no energy meter" in note


def test_one_missing_reading_is_enough_to_fall_back():
    mixed = [*METERED[:3], _c(0.93, 0.4, None)]
    assert select(mixed, "accuracy_per_joule", 0.92)[1] == "accuracy_per_second"


def test_no_candidate_reaches_the_minimum():
    best, used, note = select(METERED, "accuracy_per_joule", 0.99)
    assert (best, used) == (0, "accuracy")
    assert "min_accuracy 0.990" in note


def test_ties_go_to_the_cheaper_candidate():
    tied = [_c(0.9, 1.0, 30.0), _c(0.9, 1.0, 10.0), _c(0.9, 0.5, 20.0)]
    assert select(tied, "accuracy", 0.0)[0] == 1
    unmetered = [_c(0.9, 1.0, None), _c(0.9, 0.5, None)]
    assert select(unmetered, "accuracy", 0.0)[0] == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="selection: expected one of"):
        select(METERED, "speed", 0.0)
    with pytest.raises(ValueError, match="min_accuracy"):
        select(METERED, "accuracy", 1.5)
    with pytest.raises(ValueError, match="no candidate"):
        select([], "accuracy", 0.0)


def test_grid_is_every_combination_with_the_pca_size_outermost():
    combos = grid([0.1, 0.2], [1e-3], [4, 8])
    assert combos == [(0.1, 1e-3, 4), (0.2, 1e-3, 4), (0.1, 1e-3, 8), (0.2, 1e-3, 8)]
    with pytest.raises(ValueError, match="l2s: expected at least one value"):
        grid([0.1], [], [4])
