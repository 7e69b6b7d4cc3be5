"""lepton.Preprocessor: the scikit-learn contract, and agreement with sklearn's own scalers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import lepton
from lepton.estimators import Preprocessor
from lepton.ops import column_stats, preprocess
from lepton.ops.preprocess import EmptyColumnWarning


@parametrize_with_checks(
    [
        Preprocessor(),
        Preprocessor(impute=None, clip_sigma=3.0, scale="minmax"),
        Preprocessor(impute=1.5, clip_sigma=2.0, out_dtype=np.int8),
        Preprocessor(impute="zero", scale=None, out_dtype=None),
    ]
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def data(seed=0, shape=(500, 6), nan=0.1):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.uniform(-5, 5, shape[1]), rng.uniform(0.5, 3, shape[1]), shape)
    x[rng.random(shape) < nan] = np.nan
    return x


def test_is_exported_at_top_level():
    assert lepton.Preprocessor is Preprocessor


def test_matches_standard_scaler_on_data_with_nan():
    x = data()
    ours = Preprocessor(impute=None, out_dtype=np.float64).fit(x)
    theirs = StandardScaler().fit(x)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-13)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-12, atol=1e-12)


def test_matches_minmax_scaler():
    x = data(1)
    ours = Preprocessor(impute=None, scale="minmax", out_dtype=np.float64).fit(x)
    theirs = MinMaxScaler().fit(x)
    np.testing.assert_array_equal(ours.data_min_, theirs.data_min_)
    np.testing.assert_array_equal(ours.data_max_, theirs.data_max_)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("strategy", ["mean", "constant"])
def test_matches_simple_imputer(strategy):
    x = data(2)
    impute = "mean" if strategy == "mean" else 2.5
    ours = Preprocessor(impute=impute, scale=None, out_dtype=np.float64).fit_transform(x)
    theirs = SimpleImputer(strategy=strategy, fill_value=2.5).fit_transform(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_equals_imputer_then_scaler_fitted_on_the_observed_values():
    # The statistics come from the observed values: StandardScaler fitted on the data with NaN,
    # applied after mean imputation (not a scaler fitted on the imputed data).
    x = data(3)
    ours = Preprocessor(out_dtype=np.float64).fit_transform(x)
    theirs = StandardScaler().fit(x).transform(SimpleImputer().fit_transform(x))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_transform_matches_the_op():
    x = data(4).astype(np.float32)
    options = {"impute": "zero", "clip_sigma": 2.0, "scale": "minmax"}
    est = Preprocessor(**options).fit(x)
    np.testing.assert_array_equal(est.transform(x), preprocess(x, **options))
    np.testing.assert_array_equal(est.fit_transform(x), est.transform(x))


@pytest.mark.parametrize("batches", [2, 5])
def test_partial_fit_equals_fit(batches):
    x = data(5, (1000, 9))
    est = Preprocessor(clip_sigma=3.0, out_dtype=np.float64)
    for part in np.array_split(x, batches):
        est.partial_fit(part)
    whole = Preprocessor(clip_sigma=3.0, out_dtype=np.float64).fit(x)
    assert est.n_samples_seen_ == whole.n_samples_seen_ == 1000
    np.testing.assert_array_equal(est.stats_.count, whole.stats_.count)
    np.testing.assert_array_equal(est.data_min_, whole.data_min_)
    np.testing.assert_allclose(est.mean_, whole.mean_, rtol=1e-13)
    np.testing.assert_allclose(est.var_, whole.var_, rtol=1e-12)
    np.testing.assert_allclose(est.transform(x), whole.transform(x), rtol=1e-10, atol=1e-12)


def test_fit_restarts_after_partial_fit():
    x, other = data(6), data(7) + 10
    est = Preprocessor().partial_fit(other).fit(x)
    np.testing.assert_allclose(est.mean_, np.nanmean(x, axis=0), rtol=1e-12)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        Preprocessor().transform(data())


def test_int8_output_and_its_scale():
    x = data(8)
    est = Preprocessor(clip_sigma=2.0, out_dtype=np.int8).fit(x)
    q = est.transform(x)
    assert q.dtype == np.int8
    assert est.quant_scale_.shape == (6,)
    floats = Preprocessor(clip_sigma=2.0, out_dtype=np.float64).fit_transform(x)
    err = np.abs(q * est.quant_scale_.astype(np.float64) - floats)
    np.testing.assert_array_less(err, np.broadcast_to(0.51 * est.quant_scale_, err.shape))


def test_params_are_validated_at_fit_not_init():
    est = Preprocessor(scale="robust")
    with pytest.raises(ValueError, match="scale: expected one of"):
        est.fit(data())
    with pytest.raises(ValueError, match="clip_sigma"):
        Preprocessor(clip_sigma=-1.0).fit(data())


def test_integer_input_is_converted_to_float64():
    x = np.arange(20, dtype=np.int64).reshape(10, 2)
    out = Preprocessor(out_dtype=None).fit_transform(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, StandardScaler().fit_transform(x.astype(np.float64)))


def test_empty_column_is_reported_at_fit_only():
    x = data(9)
    x[:, 2] = np.nan
    with pytest.warns(EmptyColumnWarning, match=r"\[2\]"):
        est = Preprocessor().fit(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = est.transform(x)
    np.testing.assert_array_equal(out[:, 2], 0.0)
    assert np.isnan(est.mean_[2])


def test_partial_fit_warns_only_about_columns_empty_in_all_batches():
    # Issue 13: a batch whose column is all NaN is no news while other batches have values.
    x = data(10, (400, 5))
    x[:50, [0, 2]] = np.nan  # the first batch has no values in columns 0 and 2
    x[:, 4] = np.nan  # column 4 never has any
    batched = Preprocessor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for part in np.array_split(x, 8):
            batched.partial_fit(part)
    whole = Preprocessor().fit(x[:, :4])
    np.testing.assert_allclose(batched.mean_[:4], whole.mean_, rtol=1e-13)
    # The merged statistics still have no values in column 4: transform says so (every call).
    for _ in range(2):
        with pytest.warns(EmptyColumnWarning, match=r"1 column\(s\) .* any batch .*\[4\]"):
            out = batched.transform(x)
    np.testing.assert_array_equal(out[:, 4], 0.0)
    # A batch that finally brings values clears it.
    batched.partial_fit(data(11, (10, 5)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batched.transform(x)


def test_fit_after_partial_fit_reports_at_fit_only():
    x = data(12)
    x[:, 1] = np.nan
    est = Preprocessor(impute=None).partial_fit(x)
    with pytest.warns(EmptyColumnWarning, match="stay NaN"):
        est.transform(x)
    with pytest.warns(EmptyColumnWarning, match=r"\[1\]"):
        est.fit(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.transform(x)


def test_wrong_number_of_features():
    est = Preprocessor().fit(data())
    with pytest.raises(ValueError, match="X has 3 features, but Preprocessor is expecting 6"):
        est.transform(data(shape=(10, 3)))


def test_in_a_pipeline_with_grid_search():
    rng = np.random.default_rng(10)
    x = data(10, (300, 5))
    y = (np.nan_to_num(x[:, 0]) + rng.normal(0, 0.5, 300) > np.nanmean(x[:, 0])).astype(int)
    pipe = Pipeline([("prep", Preprocessor()), ("clf", LogisticRegression())])
    grid = GridSearchCV(
        pipe,
        {"prep__clip_sigma": [None, 2.0], "prep__scale": ["standard", "minmax"]},
        cv=3,
    )
    grid.fit(x, y)
    assert set(grid.best_params_) == {"prep__clip_sigma", "prep__scale"}
    assert grid.best_score_ > 0.7
    assert grid.predict(x).shape == (300,)


def test_stats_match_the_op():
    x = data(11).astype(np.float32)
    est = Preprocessor().fit(x)
    ref = column_stats(x)
    np.testing.assert_array_equal(est.stats_.m2, ref.m2)
    np.testing.assert_array_equal(est.stats_.count, ref.count)


def test_fortran_ordered_input_keeps_its_order():
    x = np.asfortranarray(data(12).astype(np.float32))
    out = Preprocessor().fit_transform(x)
    assert out.flags.f_contiguous
    np.testing.assert_array_equal(out, Preprocessor().fit_transform(np.ascontiguousarray(x)))
