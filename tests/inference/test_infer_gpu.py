"""cupy inputs run the int8 layers on the GPU and come back as cupy arrays; the GPU tests'
expectations that the CPU path can meet are checked on it too (the ``_on_the_cpu`` twins)."""

from __future__ import annotations

import numpy as np
import pytest

from lepton import Lepton

AGREEMENT = 0.99  # labels of the int8 model vs the float model (issue 14's bar)


def _mlp_784_256_10():
    """784 → 256 (relu) → 10 raw layers and a 4096-row float32 batch."""
    rng = np.random.default_rng(0)
    layers = [
        (rng.standard_normal((256, 784)).astype(np.float32) / 28, rng.standard_normal(256), "relu"),
        (rng.standard_normal((10, 256)).astype(np.float32) / 16, None, None),
    ]
    return layers, rng.standard_normal((4096, 784)).astype(np.float32)


def _digits_mlp(fit, digits):
    from sklearn.neural_network import MLPClassifier

    X_tr, X_te, y_tr, _ = digits
    model = fit(MLPClassifier(hidden_layer_sizes=(64,), max_iter=100, random_state=0), X_tr, y_tr)
    return model, X_te


def test_784_256_10_within_the_bound_on_the_cpu(error_bound):
    """The expectation of test_cupy_in_cupy_out_within_the_bound, on numpy input."""
    layers, x = _mlp_784_256_10()
    got = Lepton(layers).predict(x)
    assert isinstance(got, np.ndarray)
    assert got.shape == (4096, 10)
    want, bound = error_bound(layers, x)
    assert np.all(np.abs(got - want) <= bound)


def test_sklearn_classifier_agreement_on_the_cpu(fit, digits):
    """The expectations of test_sklearn_classifier_on_gpu_input, on numpy input."""
    model, X_te = _digits_mlp(fit, digits)
    lep = Lepton(model)
    labels = lep.predict(X_te)
    assert isinstance(labels, np.ndarray)
    assert np.mean(labels == model.predict(X_te)) >= AGREEMENT
    report = lep.compare(X_te, rounds=1, min_window_s=0.1)
    assert report.label_agreement >= AGREEMENT


@pytest.mark.gpu
def test_cupy_in_cupy_out_within_the_bound(error_bound):
    cp = pytest.importorskip("cupy")
    layers, x = _mlp_784_256_10()
    lep = Lepton(layers)
    got = lep.predict(cp.asarray(x))
    assert isinstance(got, cp.ndarray)
    want, bound = error_bound(layers, x)
    assert np.all(np.abs(got.get() - want) <= bound)
    np.testing.assert_allclose(got.get(), lep.predict(x), atol=float(bound.max()))


@pytest.mark.gpu
def test_sklearn_classifier_on_gpu_input(fit, digits):
    cp = pytest.importorskip("cupy")
    model, X_te = _digits_mlp(fit, digits)
    lep = Lepton(model)
    labels = lep.predict(cp.asarray(X_te))
    assert isinstance(labels, cp.ndarray)
    assert np.mean(labels.get() == model.predict(X_te)) >= AGREEMENT
    report = lep.compare(cp.asarray(X_te), rounds=1, min_window_s=0.1)
    assert report.label_agreement >= AGREEMENT


# --- CUDA graphs and the int8 hand-off (see inference/graphs.py, inference/chain.py) --------


def _raw_mlp(rng, widths=(784, 256, 128, 10)):
    acts = ["relu"] * (len(widths) - 2) + [None]
    return [
        (
            rng.standard_normal((n, k)).astype(np.float32) / np.sqrt(k),
            rng.standard_normal(n) * 0.1,
            act,
        )
        for k, n, act in zip(widths[:-1], widths[1:], acts, strict=True)
    ]


def _pair(layers, sample, chain):
    """The same model twice: eager and graph-replayed (same scales, same forward)."""
    from lepton.inference.chain import handoff_scales

    eager = Lepton(layers, calibration=sample, cuda_graph=False)
    graphed = Lepton(layers, calibration=sample, cuda_graph=True)
    for lep in (eager, graphed):
        lep._handoff = handoff_scales(lep.layers_, lep.calibration_.scales) if chain else None
    return eager, graphed


@pytest.mark.gpu
@pytest.mark.parametrize("chain", [False, True], ids=["dynamic", "int8-handoff"])
@pytest.mark.parametrize("library", ["cupy", "torch"])
def test_graph_replay_equals_eager(library, chain):
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(1)
    layers = _raw_mlp(rng)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    eager, graphed = _pair(layers, x, chain)
    if library == "torch":
        torch = pytest.importorskip("torch")
        dev = torch.from_numpy(x).cuda()
        to_np = lambda a: a.cpu().numpy()  # noqa: E731
    else:
        dev = cp.asarray(x)
        to_np = cp.asnumpy
    want = to_np(eager.predict(dev))
    for _ in range(3):
        np.testing.assert_array_equal(to_np(graphed.predict(dev)), want)
    assert graphed.cuda_graphs_["captures"] == 1
    assert graphed.cuda_graphs_["eager"] == {}


@pytest.mark.gpu
def test_graph_is_right_after_the_inputs_contents_change_and_results_are_copies():
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(2)
    layers = _raw_mlp(rng)
    a = rng.standard_normal((64, 784)).astype(np.float32)
    b = rng.standard_normal((64, 784)).astype(np.float32)
    eager, graphed = _pair(layers, a, chain=True)
    buf = cp.asarray(a)
    first = graphed.predict(buf)
    buf[...] = cp.asarray(b)  # same array, new contents
    second = graphed.predict(buf)
    third = graphed.predict(cp.asarray(a))  # another array, same key
    np.testing.assert_array_equal(cp.asnumpy(second), cp.asnumpy(eager.predict(cp.asarray(b))))
    np.testing.assert_array_equal(cp.asnumpy(first), cp.asnumpy(eager.predict(cp.asarray(a))))
    np.testing.assert_array_equal(cp.asnumpy(third), cp.asnumpy(first))
    assert graphed.cuda_graphs_["captures"] == 1


@pytest.mark.gpu
def test_graph_is_recaptured_for_a_new_shape_or_stream():
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(3)
    layers = _raw_mlp(rng)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    eager, graphed = _pair(layers, x, chain=False)
    for rows in (1, 7, 32, 64):  # the small batches of the latency bar
        xs = cp.asarray(x[:rows])
        np.testing.assert_array_equal(
            cp.asnumpy(graphed.predict(xs)), cp.asnumpy(eager.predict(xs))
        )
    assert graphed.cuda_graphs_["captures"] == 4
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        got = graphed.predict(cp.asarray(x))
        stream.synchronize()
    assert graphed.cuda_graphs_["captures"] == 5  # same shape as before, other stream
    np.testing.assert_array_equal(cp.asnumpy(got), cp.asnumpy(eager.predict(cp.asarray(x))))


@pytest.mark.gpu
def test_graph_is_recaptured_on_another_device():
    cp = pytest.importorskip("cupy")
    if cp.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs")
    rng = np.random.default_rng(4)
    layers = _raw_mlp(rng)
    x = rng.standard_normal((32, 784)).astype(np.float32)
    _, graphed = _pair(layers, x, chain=True)
    outs = []
    for device in (0, 1):
        with cp.cuda.Device(device):
            xs = cp.asarray(x)
            outs.append(cp.asnumpy(graphed.predict(xs)))
            outs.append(cp.asnumpy(graphed.predict(xs)))
    assert graphed.cuda_graphs_["captures"] == 2
    np.testing.assert_array_equal(outs[0], outs[2])


@pytest.mark.gpu
def test_int8_handoff_on_the_gpu_is_the_host_chain():
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(5)
    layers = _raw_mlp(rng)
    x = rng.standard_normal((300, 784)).astype(np.float32)
    eager, _ = _pair(layers, x, chain=True)
    host = eager._chain_on_host(x, list(eager.calibration_.scales))
    # relu and identity epilogues: the CPU and CUDA kernels compute the same float32 bits
    np.testing.assert_array_equal(cp.asnumpy(eager.predict(cp.asarray(x))), host)


@pytest.mark.gpu
def test_pipeline_on_the_gpu_agrees_with_the_host(fit, digits):
    cp = pytest.importorskip("cupy")
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te, y_tr, _ = digits
    X_raw = X_te * 4 + 3  # undo the shared fixture's scaling: the pipeline scales itself
    pipe = make_pipeline(
        SimpleImputer(), StandardScaler(), PCA(30),
        MLPClassifier(hidden_layer_sizes=(64,), max_iter=100, random_state=0),
    )  # fmt: skip
    pipe = fit(pipe, X_tr * 4 + 3, y_tr)
    lep = Lepton(pipe, cuda_graph=True)
    x = X_raw.astype(np.float32)
    x[::9, 5] = np.nan  # imputed by the pipeline's first step
    for _ in range(2):
        labels = lep.predict(cp.asarray(x))
        assert isinstance(labels, cp.ndarray)
        np.testing.assert_array_equal(cp.asnumpy(labels), lep.predict(x))
    np.testing.assert_allclose(
        cp.asnumpy(lep.predict_proba(cp.asarray(x))), lep.predict_proba(x), atol=1e-5
    )


@pytest.mark.gpu
def test_check_finite_on_the_gpu():
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(6)
    layers = _raw_mlp(rng, (16, 8, 3))
    x = rng.standard_normal((4, 16)).astype(np.float32)
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        Lepton(layers).predict(cp.asarray(x))
    out = cp.asnumpy(Lepton(layers, check_finite=False).predict(cp.asarray(x)))
    assert np.isnan(out[1]).all()
    assert np.isfinite(np.delete(out, 1, axis=0)).all()
