"""Loading data: bundled sets, generated data, arrays and DataFrames."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from lepton.pipeline import load


def test_bundled_sets():
    cancer = load("breast_cancer")
    assert (cancer.rows, cancer.cols, cancer.n_classes) == (569, 30, 2)
    assert cancer.X.dtype == np.float32
    assert list(cancer.classes) == ["malignant", "benign"]
    digits = load("digits", rows=100, seed=1)
    assert (digits.rows, digits.cols, digits.n_classes) == (100, 64, 10)
    assert set(np.unique(digits.y)) <= set(range(10))


def test_synthetic_of_any_size_with_holes_and_outliers():
    data = load("synthetic", rows=20_000, cols=16, n_classes=3, missing=0.02, seed=3)
    assert data.X.shape == (20_000, 16)
    assert data.n_classes == 3
    assert np.isnan(data.X).mean() == pytest.approx(0.02, abs=0.003)
    finite = data.X[np.isfinite(data.X)]
    assert np.abs(finite).max() > 10 * finite.std()  # the blown-up outliers are there
    again = load("synthetic", rows=20_000, cols=16, n_classes=3, missing=0.02, seed=3)
    np.testing.assert_array_equal(data.X, again.X)
    clean = load("synthetic", rows=500, cols=4, missing=0.0, outliers=0.0)
    assert np.isfinite(clean.X).all()


def test_arrays_with_labels():
    X = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.array(["b", "a"] * 5)
    data = load(X, y)
    assert data.X.dtype == np.float32
    assert list(data.classes) == ["a", "b"]
    np.testing.assert_array_equal(data.classes[data.y], y)


def test_dataframe_with_a_label_column():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": [1, 2, 3, 4], "label": [0, 1, 0, 1]})
    data = load(frame, "label")
    assert data.feature_names == ("a", "b")
    assert np.isnan(data.X[1, 0])
    np.testing.assert_array_equal(data.y, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="column 'target' is not in the DataFrame"):
        load(frame, "target")
    with pytest.raises(TypeError, match="must be numeric"):
        load(frame.assign(c=["x", "y", "z", "w"]), "label")


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("iris",), {}, ValueError, "source: expected one of"),
        (("breast_cancer",), {"cols": 3}, ValueError, "cols: applies to synthetic data only"),
        (("digits",), {"rows": 10_000}, ValueError, "digits has 1797 rows"),
        (("synthetic",), {"rows": 5}, ValueError, "rows: expected an int >= 10"),
        (("synthetic",), {"cols": 2, "n_classes": 5}, ValueError, "n_classes"),
        (("synthetic",), {"missing": 1.0}, ValueError, "missing: expected a fraction"),
        (("synthetic", [0, 1]), {}, ValueError, "synthetic data makes its own labels"),
        ((np.ones((4, 2)),), {}, ValueError, "y: labels are required"),
        ((np.ones((4, 2)), [0, 1]), {}, ValueError, "y: expected 4 labels"),
        ((np.ones((4, 2)), [1, 1, 1, 1]), {}, ValueError, "at least two classes"),
        ((np.ones(4), [0, 1, 0, 1]), {}, ValueError, "2-D"),
        ((np.array([["a", "b"]] * 2), [0, 1]), {}, TypeError, "numeric"),
    ],
)
def test_bad_sources(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        load(*args, **kwargs)
