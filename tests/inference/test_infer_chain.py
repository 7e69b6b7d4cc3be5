"""Int8 handed from layer to layer (the CUDA forward with static scales), checked on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

from lepton import Lepton, ops
from lepton.inference.arrays import Backend
from lepton.inference.calibration import CHAIN_ERROR_FACTOR
from lepton.inference.chain import handoff_scales, int8_chain_forward
from lepton.inference.graphs import GraphCache
from lepton.inference.layers import apply_activation
from lepton.inference.quantized import INT8_MAX


def _layers(
    rng, activations=("relu", "tanh", "gelu", "sigmoid", None), widths=(20, 45, 33, 16, 24, 7)
):
    out = []
    for i, act in enumerate(activations):
        k, n = widths[i], widths[i + 1]
        w = rng.standard_normal((n, k)).astype(np.float32) / np.sqrt(k)
        out.append((w, rng.standard_normal(n) * 0.1 if i % 2 == 0 else None, act))
    return out


def _oracle(lep: Lepton, x: np.ndarray, handoff) -> np.ndarray:
    """The chain spelled out with float outputs and numpy requantization (float32 division)."""
    h, q, q_scale = x, None, 1.0
    for layer, s in zip(lep.layers_, handoff, strict=True):
        if q is None:
            y = ops.linear_int8(h, layer.packed_for(np, "cpu"), activation=layer.fused)
        else:
            y = ops.int8_gemm(
                q, layer.w_q, a_scale=np.full(len(q), q_scale, np.float32), b_scale=layer.w_scale,
                bias=layer.bias, activation=layer.fused, out_dtype="float32",
            )  # fmt: skip
        if s is None:
            h, q = y, None
            if layer.activation != layer.fused:
                h = apply_activation(y, layer.activation, np)
        else:
            r = np.rint(y / np.float32(s))
            q, q_scale, h = np.clip(r, -INT8_MAX, INT8_MAX).astype(np.int8), s, None
    return h


def test_handoff_follows_fused_activations_and_the_last_layer():
    rng = np.random.default_rng(0)
    lep = Lepton(_layers(rng))
    scales = [0.1, 0.2, 0.3, 0.4, 0.5]
    # relu hands on; tanh has no epilogue; gelu, sigmoid hand on; the last layer writes float
    assert handoff_scales(lep.layers_, scales) == [0.2, None, 0.4, 0.5, None]


def test_chain_is_the_composition_of_the_ops_bit_for_bit():
    rng = np.random.default_rng(1)
    lep = Lepton(_layers(rng))
    x = rng.standard_normal((37, 20)).astype(np.float32)
    handoff = handoff_scales(lep.layers_, [0.05, 0.04, 0.03, 0.02, 0.01])
    got = int8_chain_forward(lep.layers_, x, np, "cpu", handoff)
    np.testing.assert_array_equal(got, _oracle(lep, x, handoff))


def test_chain_on_the_calibration_rows_is_within_the_static_bound(error_bound):
    rng = np.random.default_rng(2)
    layers = _layers(rng, ("relu", "relu", None), (30, 64, 48, 10))
    x = rng.standard_normal((400, 30)).astype(np.float32)
    lep = Lepton(layers, calibration=x)
    report = lep.calibration_
    want, bound = error_bound(layers, x, static_scales=report.scales)
    got = lep._chain_on_host(np.ascontiguousarray(x), list(report.scales))
    assert np.all(np.abs(got - want) <= bound)


def test_cuda_mode_follows_the_error_rule():
    rng = np.random.default_rng(3)
    layers = _layers(rng, ("relu", "relu", None), (30, 64, 48, 10))
    for spread in (1.0, 30.0):  # rows of similar size, then of very different sizes
        x = rng.standard_normal((300, 30)).astype(np.float32)
        x *= rng.uniform(1 / spread, 1.0, (300, 1)).astype(np.float32)
        lep = Lepton(layers, calibration=x)
        r = lep.calibration_
        within = r.mean_abs_error_chain <= CHAIN_ERROR_FACTOR * r.mean_abs_error_dynamic
        assert r.cuda_mode == ("static" if within else "dynamic")
        assert (lep._handoff is not None) == within
        assert ("int8 hand-off on CUDA" in repr(lep)) == within
        assert f"CUDA inputs: {r.cuda_mode}" in str(r)


def test_one_layer_has_no_chain():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 8)).astype(np.float32)
    lep = Lepton(_layers(rng, (None,), (8, 3)), calibration=x)
    assert lep.calibration_.mean_abs_error_chain is None
    assert lep.calibration_.cuda_mode == "dynamic"
    assert lep._handoff is None


@pytest.mark.parametrize("mode", [False, True])
def test_model_uses_the_chain_on_cuda_inputs(graph_fakes, mode):
    rng = np.random.default_rng(5)
    layers = _layers(rng, ("relu", "gelu", None), (30, 64, 48, 10))
    x = rng.standard_normal((200, 30)).astype(np.float32)
    lep = Lepton(layers, calibration=x)
    lep._handoff = handoff_scales(lep.layers_, lep.calibration_.scales)  # whatever it chose
    backend = graph_fakes.FakeBackend()
    lep._graphs = GraphCache(mode, lambda: backend)
    cuda = Backend(np, "cuda:0", lambda a: a)
    want = lep._chain_on_host(x, list(lep.calibration_.scales))
    for _ in range(2):
        np.testing.assert_array_equal(lep._predict("predict", x, cuda), want)
    assert len(backend.captured) == int(mode)
    # host inputs keep the host's own choice
    host = lep._predict("predict", x, Backend(np, "cpu", lambda a: a))
    np.testing.assert_array_equal(host, lep._scores_on_host(x, lep._static))
