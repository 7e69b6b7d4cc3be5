"""cupy inputs run the int8 layers on the GPU and come back as cupy arrays."""

from __future__ import annotations

import numpy as np
import pytest

from lepton import Lepton

pytestmark = pytest.mark.gpu


def test_cupy_in_cupy_out_within_the_bound(error_bound):
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(0)
    layers = [
        (rng.standard_normal((256, 784)).astype(np.float32) / 28, rng.standard_normal(256), "relu"),
        (rng.standard_normal((10, 256)).astype(np.float32) / 16, None, None),
    ]
    x = rng.standard_normal((4096, 784)).astype(np.float32)
    lep = Lepton(layers)
    got = lep.predict(cp.asarray(x))
    assert isinstance(got, cp.ndarray)
    want, bound = error_bound(layers, x)
    assert np.all(np.abs(got.get() - want) <= bound)
    np.testing.assert_allclose(got.get(), lep.predict(x), atol=float(bound.max()))


def test_sklearn_classifier_on_gpu_input(fit, digits):
    cp = pytest.importorskip("cupy")
    from sklearn.neural_network import MLPClassifier

    X_tr, X_te, y_tr, _ = digits
    model = fit(MLPClassifier(hidden_layer_sizes=(64,), max_iter=100, random_state=0), X_tr, y_tr)
    lep = Lepton(model)
    labels = lep.predict(cp.asarray(X_te))
    assert isinstance(labels, cp.ndarray)
    assert np.mean(labels.get() == model.predict(X_te)) >= 0.99
    report = lep.compare(cp.asarray(X_te), rounds=1, min_window_s=0.1)
    assert report.label_agreement >= 0.99
