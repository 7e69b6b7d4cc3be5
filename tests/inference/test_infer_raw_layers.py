"""Raw [(W, b, activation), ...] layer lists: the int8 path stays within the derived bound."""

from __future__ import annotations

import numpy as np
import pytest

from lepton import Lepton

ACTIVATIONS = [None, "relu", "gelu", "sigmoid", "tanh"]


def _layers(rng, widths, activations, bias=True):
    return [
        (
            rng.standard_normal((n_out, n_in)).astype(np.float32) / np.sqrt(n_in),
            rng.standard_normal(n_out).astype(np.float32) if bias else None,
            act,
        )
        for n_in, n_out, act in zip(widths[:-1], widths[1:], activations, strict=True)
    ]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("widths", [(1, 3), (7, 33, 1), (33, 255, 3), (64, 128, 128, 10)])
def test_within_bound_on_odd_sizes(error_bound, activation, widths):
    rng = np.random.default_rng(len(widths) * 100 + sum(widths))
    layers = _layers(rng, widths, [activation] * (len(widths) - 1))
    x = rng.standard_normal((37, widths[0])).astype(np.float32) * 3
    want, bound = error_bound(layers, x)
    got = Lepton(layers).predict(x)
    assert got.dtype == np.float32
    assert got.shape == (37, widths[-1])
    assert np.all(np.abs(got - want) <= bound)


def test_mixed_activations_no_bias_and_a_single_row(error_bound):
    rng = np.random.default_rng(1)
    layers = _layers(rng, (20, 40, 30, 20, 5), ["gelu", "tanh", "sigmoid", None], bias=False)
    for rows in (1, 1000):
        x = rng.standard_normal((rows, 20)).astype(np.float32)
        want, bound = error_bound(layers, x)
        assert np.all(np.abs(Lepton(layers).predict(x) - want) <= bound)


def test_activation_spellings(error_bound):
    rng = np.random.default_rng(2)
    ((w, b, _),) = _layers(rng, (8, 4), [None])
    x = rng.standard_normal((5, 8)).astype(np.float32)
    for spelling, canonical in (("identity", None), ("logistic", "sigmoid"), ("ReLU", "relu")):
        want, bound = error_bound([(w, b, canonical)], x)
        assert np.all(np.abs(Lepton([(w, b, spelling)]).predict(x) - want) <= bound)


def test_a_dead_output_channel_gives_its_bias():
    w = np.ones((3, 4), np.float32)
    w[1] = 0.0  # all-zero weight row: its scale is 0
    b = np.array([0.0, 0.5, 0.0], np.float32)
    out = Lepton([(w, b, None)]).predict(np.ones((2, 4), np.float32))
    np.testing.assert_allclose(out[:, 1], 0.5)
    np.testing.assert_allclose(out[:, 0], 4.0, rtol=1e-2)


def test_all_zero_rows_give_the_bias():
    rng = np.random.default_rng(3)
    layers = _layers(rng, (6, 4), ["relu"])
    out = Lepton(layers).predict(np.zeros((3, 6), np.float32))
    np.testing.assert_allclose(out, np.maximum(layers[0][1], 0)[None, :].repeat(3, 0), atol=1e-6)


def test_compare_reports_agreement_for_raw_layers():
    rng = np.random.default_rng(4)
    layers = _layers(rng, (16, 32, 4), ["relu", None])
    x = rng.standard_normal((200, 16)).astype(np.float32)
    report = Lepton(layers).compare(x, rounds=1, min_window_s=0.0)
    assert report.output == "predict"
    assert report.label_agreement is not None
    assert report.label_agreement > 0.9
    assert 0 < report.mean_abs_error <= report.max_abs_error < 0.1
