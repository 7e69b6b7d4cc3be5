"""CUDA-graph bookkeeping on the CPU: when capture happens, what a graph is keyed on, fallbacks.

A fake backend stands for the device: ``capture`` records the function (it does not run it, as
a stream capture does not), a replay copies the input into the static buffer, runs the recorded
function on it and writes the static output, then returns a copy — the contract of
``cupy_graphs.CupyCaptured``. ``Backend(np, "cuda:0", ...)`` makes Lepton take its CUDA path
with numpy arrays, so the model's wiring runs here too.
"""

from __future__ import annotations

import numpy as np
import pytest

from lepton import Lepton
from lepton.inference.arrays import Backend
from lepton.inference.graphs import AUTO_MAX_ROWS, GraphCache


@pytest.fixture
def FakeBackend(graph_fakes):
    return graph_fakes.FakeBackend


def _cache(mode, backend, **kw):
    return GraphCache(mode, lambda: backend, **kw), backend


def _calls(cache, x, device=0, method="predict"):
    calls = []

    def fn(h):
        calls.append(h)
        return h * 2.0 + 1.0

    return cache.run(cache.key(method, x, device), fn, x), calls


def test_auto_captures_at_the_second_call_and_replays_after(FakeBackend):
    cache, backend = _cache("auto", FakeBackend())
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    first, calls = _calls(cache, x)
    assert len(calls) == 1
    assert not backend.captured
    second, calls = _calls(cache, x)
    assert len(backend.captured) == 1
    assert backend.captured[0].replays == 1
    third, calls = _calls(cache, x)
    assert calls == []
    assert backend.captured[0].replays == 2
    for out in (first, second, third):
        np.testing.assert_array_equal(out, x * 2 + 1)
    assert cache.status()["graphs"] == ["predict 4x3 float32 on cuda:0 stream 0x7"]


def test_true_captures_at_the_first_call_and_false_never(FakeBackend):
    cache, backend = _cache(True, FakeBackend())
    _calls(cache, np.ones((2, 2), np.float32))
    assert len(backend.captured) == 1
    cache, backend = _cache(False, FakeBackend())
    x = np.ones((2, 2), np.float32)
    assert cache.key("predict", x, 0) is None
    for _ in range(3):
        _calls(cache, x)
    assert not backend.captured


def test_auto_leaves_large_batches_eager(FakeBackend):
    cache, backend = _cache("auto", FakeBackend(), auto_max_rows=8)
    x = np.ones((9, 2), np.float32)
    for _ in range(3):
        _calls(cache, x)
    assert not backend.captured
    assert AUTO_MAX_ROWS >= 4096  # the batch is captured by default


def test_new_contents_replay_the_same_graph_and_results_are_copies(FakeBackend):
    cache, backend = _cache(True, FakeBackend())
    x = np.ones((3, 2), np.float32)
    r1, _ = _calls(cache, x)
    x[:] = 5.0  # same buffer, new contents
    r2, _ = _calls(cache, x)
    r3, _ = _calls(cache, np.full((3, 2), -1.0, np.float32))  # another array, same key
    assert len(backend.captured) == 1
    np.testing.assert_array_equal(r1, np.full((3, 2), 3.0))  # not overwritten by later replays
    np.testing.assert_array_equal(r2, np.full((3, 2), 11.0))
    np.testing.assert_array_equal(r3, np.full((3, 2), -1.0))
    r3[:] = 0  # the caller's result is theirs: the static output is untouched
    np.testing.assert_array_equal(backend.captured[0].static_out, np.full((3, 2), -1.0))


@pytest.mark.parametrize("change", ["shape", "dtype", "device", "stream", "method"])
def test_a_new_shape_dtype_device_stream_or_method_captures_a_new_graph(change, FakeBackend):
    cache, backend = _cache(True, FakeBackend())
    x = np.ones((3, 2), np.float32)
    _calls(cache, x)
    device, method = 0, "predict"
    if change == "shape":
        x = np.ones((4, 2), np.float32)
    elif change == "dtype":
        x = np.ones((3, 2), np.float64)
    elif change == "device":
        device = 1
    elif change == "stream":
        backend.current_stream = 9
    else:
        method = "predict_proba"
    out, _ = _calls(cache, x, device, method)
    np.testing.assert_array_equal(out, x * 2 + 1)
    assert len(backend.captured) == 2
    keys = cache.status()["graphs"]
    assert len(set(keys)) == 2


def test_capture_failure_warns_once_and_leaves_the_key_eager(FakeBackend):
    cache, _backend = _cache(True, FakeBackend(fail_capture=RuntimeError("no capture here")))
    x = np.ones((2, 3), np.float32)
    with pytest.warns(RuntimeWarning, match="capture failed: RuntimeError: no capture here"):
        out, calls = _calls(cache, x)
    np.testing.assert_array_equal(out, x * 2 + 1)
    again, calls = _calls(cache, x)  # no second attempt, no second warning
    assert len(calls) == 1
    np.testing.assert_array_equal(again, x * 2 + 1)
    (why,) = cache.status()["eager"].values()
    assert "no capture here" in why


def test_a_graph_that_disagrees_with_the_eager_call_is_dropped(FakeBackend):
    cache, backend = _cache(True, FakeBackend(corrupt=True))
    x = np.ones((2, 3), np.float32)
    with pytest.warns(RuntimeWarning, match="differs from the eager output"):
        out, _ = _calls(cache, x)
    np.testing.assert_array_equal(out, x * 2 + 1)  # the eager answer, not the graph's
    assert backend.captured[0].released
    assert cache.status()["graphs"] == []


def test_the_callers_errors_are_not_taken_for_capture_failures(FakeBackend):
    cache, backend = _cache(True, FakeBackend())

    def fn(h):
        raise ValueError("x: bad input")

    x = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="bad input"):
        cache.run(cache.key("predict", x, 0), fn, x)
    assert cache.status()["eager"] == {}
    assert not backend.captured


def test_unavailable_backend_warns_once_and_runs_eagerly():
    def broken():
        raise RuntimeError("stream capture is not supported on HIP")

    cache = GraphCache("auto", broken)
    x = np.ones((2, 2), np.float32)
    with pytest.warns(RuntimeWarning, match="CUDA graphs unavailable.*HIP"):
        assert cache.key("predict", x, 0) is None
    assert cache.key("predict", x, 0) is None  # said once
    out, _ = _calls(cache, x)
    np.testing.assert_array_equal(out, x * 2 + 1)


def test_least_recently_used_graph_is_evicted_and_released(FakeBackend):
    cache, backend = _cache(True, FakeBackend(), max_graphs=2)
    a, b, c = (np.ones((n, 2), np.float32) for n in (1, 2, 3))
    _calls(cache, a)
    _calls(cache, b)
    _calls(cache, a)  # a is now the most recent
    _calls(cache, c)
    first, second, third = backend.captured
    assert second.released
    assert not first.released
    assert not third.released
    cache.clear()
    assert first.released
    assert third.released


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="cuda_graph: expected True, False or 'auto'"):
        Lepton([(np.ones((2, 3), np.float32), None, None)], cuda_graph="sometimes")
    with pytest.raises(TypeError, match="check_finite: expected True or False"):
        Lepton([(np.ones((2, 3), np.float32), None, None)], check_finite=1)


# --- the model's CUDA path, wired to the fake ---------------------------------------------


def _mlp(rng):
    return [
        (rng.standard_normal((48, 20)).astype(np.float32) / 4, rng.standard_normal(48), "relu"),
        (rng.standard_normal((32, 48)).astype(np.float32) / 7, None, "tanh"),
        (rng.standard_normal((16, 32)).astype(np.float32) / 6, rng.standard_normal(16), "gelu"),
        (rng.standard_normal((5, 16)).astype(np.float32) / 4, None, None),
    ]


def _fake_cuda(lep, backend, mode="auto"):
    lep._graphs = GraphCache(mode, lambda: backend)
    return backend, Backend(np, "cuda:0", lambda a: a)


def test_model_graph_replay_equals_its_eager_path(FakeBackend):
    rng = np.random.default_rng(0)
    lep = Lepton(_mlp(rng))
    backend, cuda = _fake_cuda(lep, FakeBackend())
    x = rng.standard_normal((64, 20)).astype(np.float32)
    eager = lep._predict("predict", x, Backend(np, "cpu", lambda a: a))
    outs = [lep._predict("predict", x, cuda) for _ in range(3)]
    assert len(backend.captured) == 1
    assert backend.captured[0].replays == 2
    for out in outs:
        np.testing.assert_array_equal(out, eager)
    x2 = rng.standard_normal((64, 20)).astype(np.float32)
    np.testing.assert_array_equal(
        lep._predict("predict", x2, cuda), lep._predict("predict", x2, Backend(np, "cpu", None))
    )


def test_string_labels_are_looked_up_after_the_graph(FakeBackend):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = LogisticRegression(max_iter=500).fit(X, names)
    lep = Lepton(model)
    backend, cuda = _fake_cuda(lep, FakeBackend(), mode=True)
    x = np.ascontiguousarray(X, dtype=np.float32)
    labels = lep._predict("predict", x, cuda)
    assert labels.dtype.kind == "U"
    np.testing.assert_array_equal(labels, lep.predict(x))
    # the graph holds the scores (float), never host objects
    assert backend.captured[0].static_out.dtype == np.float32
    proba = lep._predict("predict_proba", x, cuda)
    assert backend.captured[1].static_out.shape == proba.shape  # probabilities on the device


def test_check_finite_applies_to_cuda_inputs(FakeBackend):
    rng = np.random.default_rng(1)
    layers = _mlp(rng)[:1]
    x = rng.standard_normal((4, 20)).astype(np.float32)
    x[2, 3] = np.nan
    lep = Lepton(layers)
    _, cuda = _fake_cuda(lep, FakeBackend(), mode=False)
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        lep._predict("predict", x, cuda)
    unchecked = Lepton(layers, check_finite=False)
    _, cuda = _fake_cuda(unchecked, FakeBackend(), mode=False)
    # No check before the layers: here the CPU kernel refuses the row while quantizing it (on
    # a GPU the row would come out NaN instead).
    with pytest.raises(ValueError, match="row 2 holds NaN"):
        unchecked._predict("predict", x, cuda)
