"""Accelerated estimators against scikit-learn's own, and the calls that fall back (with why).

Tolerances (normwise: max |lepton − sklearn| ≤ tol · max |sklearn|): float64 outputs and
attributes 1e-10; float32 outputs 2e-6 (both round the centre and scale to float32; the kernel
multiplies by the reciprocal where scikit-learn divides: a few float32 ulps); float32 PCA 1e-4
(scikit-learn's float32 Gram against lepton's float64-accumulated one). Integer attributes,
names, types and dtypes: exact. The implementation behind every row is lepton's drop-in
estimator (``lepton.accel.adapters.dropin``); its ``fallback_reason`` words the reasons.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse
import sklearn.decomposition
import sklearn.impute
import sklearn.preprocessing
from _accel_helpers import data, groups

from lepton import accel

MODULES = {
    "PCA": sklearn.decomposition,
    "StandardScaler": sklearn.preprocessing,
    "MinMaxScaler": sklearn.preprocessing,
    "SimpleImputer": sklearn.impute,
}
TOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 2e-6}


def classes(name):
    """(accelerated, scikit-learn's) — accel is installed by the test's fixture."""
    fast = getattr(MODULES[name], name)
    assert accel.is_accelerated(fast)
    return fast, fast._lepton_original


def assert_close(ours, theirs, tol, what=""):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, what
    assert ours.dtype == theirs.dtype, what
    if theirs.dtype.kind not in "fc":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
        return
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=what)
    finite = ~np.isnan(theirs)
    scale = max(float(np.max(np.abs(theirs[finite]), initial=0.0)), 1e-300)
    err = float(np.max(np.abs(ours[finite] - theirs[finite]), initial=0.0))
    assert err <= tol * scale, f"{what}: {err:.3g} > {tol:.1g} × {scale:.3g}"


def assert_same_state(fast, plain, tol):
    state, ref = vars(fast), vars(plain)
    assert set(state) == set(ref)
    for key, value in ref.items():
        assert type(state[key]) is type(value), key
        if isinstance(value, np.ndarray) or (np.isscalar(value) and not isinstance(value, str)):
            assert_close(state[key], value, tol, key)
        else:
            assert state[key] == value, key


def run(name, params, method, x, x_new=None, tol=None):
    """``method`` on the accelerated and on scikit-learn's estimator; both results and models."""
    fast_cls, plain_cls = classes(name)
    fast, plain = fast_cls(**params), plain_cls(**params)
    xs = (x, x) if isinstance(x, np.ndarray) is False else (x.copy(), x.copy())
    if method == "transform":
        out = fast.fit(xs[0]).transform(x_new if x_new is not None else xs[0])
        ref = plain.fit(xs[1]).transform(x_new if x_new is not None else xs[1])
    else:
        out, ref = getattr(fast, method)(xs[0]), getattr(plain, method)(xs[1])
    if tol is None:
        tol = TOL[np.asarray(ref if method != "fit" else x).dtype]
    if method != "fit":
        assert_close(out, ref, tol, "output")
    assert_same_state(fast, plain, tol)
    return fast, plain


def ran_on_lepton(name, method):
    found = {(n, m): g for (n, m, r), g in groups().items() if r == "lepton"}
    return (name, method) in found


F32, F64 = np.float32, np.float64


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("nan", [0.0, 0.1])
@pytest.mark.parametrize(
    "params",
    [{}, {"with_mean": False}, {"with_std": False}, {"with_mean": False, "with_std": False}],
)
@pytest.mark.parametrize("method", ["fit", "fit_transform", "transform"])
def test_standard_scaler(accel_on, dtype, nan, params, method):
    x = data(nan=nan, dtype=dtype)
    x[:, 2] = 1.5  # a constant column
    x[:, 3] = 1.0 + np.arange(len(x)) * 1e-17 * (dtype == F64)  # near-constant
    run("StandardScaler", params, method, x, x_new=data(seed=1, dtype=dtype))
    assert ran_on_lepton("StandardScaler", method if method != "transform" else "fit")


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize(
    "params", [{}, {"feature_range": (-1.0, 2.0)}, {"clip": True}, {"feature_range": (2, 5)}]
)
@pytest.mark.parametrize("method", ["fit", "fit_transform", "transform"])
def test_minmax_scaler(accel_on, dtype, params, method):
    x = data(nan=0.05, dtype=dtype)
    x[:, 1] = -3.25
    new = data(seed=2, dtype=dtype, loc=6.0)  # partly outside the fitted range: clip matters
    run("MinMaxScaler", params, method, x, x_new=new)
    if params.get("clip") and method == "transform":
        # the fused kernel clips before it scales: scikit-learn's exact bounds are its own
        assert ran_on_lepton("MinMaxScaler", "fit")
        assert "clip=True" in groups()["MinMaxScaler", "transform", "sklearn"].reason
    else:
        assert ran_on_lepton("MinMaxScaler", method)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"strategy": "constant"},
        {"strategy": "constant", "fill_value": 7.5},
        {"keep_empty_features": True},
        {"strategy": "constant", "keep_empty_features": True},
    ],
)
@pytest.mark.parametrize("method", ["fit", "fit_transform", "transform"])
def test_simple_imputer(accel_on, dtype, params, method):
    x = data(nan=0.2, dtype=dtype)
    if params.get("keep_empty_features"):
        x[:, 4] = np.nan
    run("SimpleImputer", params, method, x, x_new=data(seed=3, nan=0.3, dtype=dtype))
    assert ran_on_lepton("SimpleImputer", method)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"n_components": 3},
        {"n_components": 0.8},
        {"n_components": "mle"},
        {"n_components": 4, "whiten": True},
        {"n_components": 3, "svd_solver": "covariance_eigh"},
    ],
)
@pytest.mark.parametrize("method", ["fit", "fit_transform", "transform"])
def test_pca(accel_on, dtype, params, method):
    rng = np.random.default_rng(5)
    # A spectrum with distinct eigenvalues, so that components are well defined.
    x = (rng.standard_normal((600, 7)) * np.geomspace(5, 0.5, 7) + 2.0).astype(dtype)
    tol = 1e-10 if dtype == F64 else 1e-4
    fast, plain = run("PCA", params, method, x, x_new=x[::3] + 0.5, tol=tol)
    assert ran_on_lepton("PCA", method if method != "transform" else "fit")
    # scikit-learn's other methods on the lepton-fitted state.
    for other in ("score_samples", "inverse_transform"):
        arg = x if other == "score_samples" else fast.transform(x)
        assert_close(getattr(fast, other)(arg), getattr(plain, other)(arg), tol * 10, other)
    assert_close(fast.get_covariance(), plain.get_covariance(), tol * 10, "get_covariance")


def test_inputs_that_convert(accel_on):
    pd = pytest.importorskip("pandas")
    x = data()
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    fast, plain = run("StandardScaler", {}, "fit_transform", frame)
    np.testing.assert_array_equal(fast.feature_names_in_, plain.feature_names_in_)
    run("StandardScaler", {}, "fit_transform", np.asfortranarray(x))
    run("MinMaxScaler", {}, "fit_transform", (x * 10).astype(np.int64))  # → float64, as sklearn
    run("PCA", {"n_components": 2}, "fit_transform", x[:, ::2])  # strided → C copy
    assert {r for (_, _, r) in groups()} == {"lepton"}


@pytest.mark.parametrize("name", ["StandardScaler", "MinMaxScaler", "SimpleImputer"])
def test_copy_false_writes_in_place_as_sklearn_does(accel_on, name):
    fast_cls, plain_cls = classes(name)
    x = data(nan=0.1 if name != "StandardScaler" else 0.0)
    mine, theirs = x.copy(), x.copy()
    out = fast_cls(copy=False).fit_transform(mine)
    ref = plain_cls(copy=False).fit_transform(theirs)
    assert (out is mine) == (ref is theirs)
    assert_close(mine, theirs, 1e-10, "X after the call")
    assert_close(out, ref, 1e-10, "output")
    assert groups()[name, "fit_transform", "lepton"].calls == 1


def test_transform_of_a_model_fitted_before_install():
    # transform runs from scikit-learn's fitted attributes, whoever fitted them.
    x = data()
    plain = sklearn.preprocessing.StandardScaler().fit(x)
    ref = plain.transform(x)
    accel.install(report_at_exit=False)
    try:
        fast = sklearn.preprocessing.StandardScaler()
        fast.__dict__.update(vars(plain))
        assert_close(fast.transform(x), ref, 1e-12)
        assert groups()["StandardScaler", "transform", "lepton"].calls == 1
    finally:
        accel.uninstall()


FALLBACKS = [
    ("PCA", {"svd_solver": "arpack", "n_components": 2}, "fit", None, "svd_solver='arpack'"),
    ("PCA", {"svd_solver": "randomized", "n_components": 2, "power_iteration_normalizer": "QR"},
     "fit", None, "power_iteration_normalizer='QR'"),
    ("PCA", {"n_components": 2}, "fit", "sparse", "sparse input"),
    ("StandardScaler", {"with_mean": False}, "fit_transform", "sparse", "sparse input"),
    ("StandardScaler", {}, "fit_transform", "float16", "float16"),
    ("SimpleImputer", {"strategy": "median"}, "fit_transform", None, "strategy='median'"),
    ("SimpleImputer", {"add_indicator": True}, "fit_transform", None, "add_indicator"),
    ("SimpleImputer", {"missing_values": -1.0}, "fit_transform", None, "missing_values=-1.0"),
    ("SimpleImputer", {"strategy": "constant"}, "fit_transform", "int", "int64 data"),
]  # fmt: skip

# Calls lepton's drop-ins take with inputs or parameters of their own, checked as above: the
# output and the fitted state against scikit-learn's.
TAKEN = [
    ("PCA", {"svd_solver": "randomized", "n_components": 2, "random_state": 0}, "fit_transform",
     None),
    ("PCA", {"svd_solver": "full"}, "fit_transform", None),
    ("PCA", {"n_components": 5}, "fit", "wide"),  # "auto" resolves to "full", here as there
    # float32 far from its centre: the centre rounded to float32, as scikit-learn rounds it
    ("StandardScaler", {}, "fit_transform", "far"),
    ("MinMaxScaler", {}, "fit", "empty"),  # an all-NaN column: NaN statistics, as scikit-learn's
]  # fmt: skip


@pytest.mark.parametrize(("name", "params", "method", "kind"), TAKEN)
def test_drop_ins_take_these_calls_with_sklearns_results(accel_on, name, params, method, kind):
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # scikit-learn's nanmin of an all-NaN column
        run(name, params, method, _input(kind))
    assert ran_on_lepton(name, method)


def test_sample_weight_falls_back(accel_on):
    fast_cls, plain_cls = classes("StandardScaler")
    x, w = data(), np.linspace(0.5, 2.0, 400)
    fast, plain = fast_cls().fit(x, sample_weight=w), plain_cls().fit(x, sample_weight=w)
    assert_same_state(fast, plain, 0.0)
    assert "sample_weight" in groups()["StandardScaler", "fit", "sklearn"].reason


@pytest.mark.parametrize("name", ["StandardScaler", "MinMaxScaler"])
def test_partial_fit_starts_on_lepton_and_continues_on_sklearn(accel_on, name):
    fast_cls, plain_cls = classes(name)
    fast, plain = fast_cls(), plain_cls()
    for seed in (0, 1, 2):
        batch = data(seed=seed, nan=0.1)
        fast.partial_fit(batch)
        plain.partial_fit(batch)
        assert_same_state(fast, plain, 1e-10)
    ran = groups()
    assert ran[name, "partial_fit", "lepton"].calls == 1
    continued = ran[name, "partial_fit", "sklearn"]
    assert continued.calls == 2
    assert "scikit-learn's running statistics continue it" in continued.reason


def _input(kind):
    x = data(nan=0.1)
    if kind == "wide":
        return data(shape=(50, 80))
    if kind == "sparse":
        return scipy.sparse.random(300, 6, density=0.3, format="csr", random_state=0)
    if kind == "float16":
        return np.nan_to_num(x).astype(np.float16)
    if kind == "far":
        return (np.nan_to_num(x) + 1e4).astype(np.float32)
    if kind == "int":
        return np.arange(60).reshape(20, 3)
    if kind == "empty":
        x[:, 2] = np.nan
        return x
    return np.nan_to_num(x) if kind is None else x


@pytest.mark.parametrize(("name", "params", "method", "kind", "reason"), FALLBACKS)
def test_fallbacks_run_sklearn_and_say_why(accel_on, name, params, method, kind, reason):
    fast_cls, plain_cls = classes(name)
    x = _input(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmin of an all-NaN column
        out = getattr(fast_cls(**params), method)(x)
        ref = getattr(plain_cls(**params), method)(x)
    if method != "fit" and method != "partial_fit":
        out = out.toarray() if scipy.sparse.issparse(out) else out
        ref = ref.toarray() if scipy.sparse.issparse(ref) else ref
        np.testing.assert_array_equal(out, ref)
    (group,) = accel.report().groups
    assert group.ran_on == "sklearn"
    assert reason in group.reason


def test_imputer_drops_columns_without_values_with_sklearns_warning(accel_on):
    fast_cls, plain_cls = classes("SimpleImputer")
    x = data(nan=0.1)
    x[:, 1] = np.nan
    imputer, plain = fast_cls().fit(x), plain_cls().fit(x)
    with pytest.warns(UserWarning, match="Skipping features without any observed values"):
        out = imputer.transform(x)
    with pytest.warns(UserWarning, match="Skipping features without any observed values"):
        ref = plain.transform(x)
    assert_close(out, ref, 1e-12, "output")
    ran = groups()
    assert ran["SimpleImputer", "fit", "lepton"].calls == 1
    assert ran["SimpleImputer", "transform", "lepton"].calls == 1


REFUSED = [(n, v) for n in MODULES for v in (np.inf, -np.inf)] + [("PCA", np.nan)]


@pytest.mark.parametrize(("name", "bad"), REFUSED)
@pytest.mark.parametrize("method", ["fit", "fit_transform", "transform"])
def test_inputs_sklearn_refuses_raise_sklearns_error(accel_on, name, method, bad):
    fast_cls, plain_cls = classes(name)
    x = data()
    y = x.copy()
    y[7, 3] = bad
    fit_on, call_on = (x, y) if method == "transform" else (y, y)
    with pytest.raises(ValueError, match="Input X contains") as theirs:
        getattr(plain_cls().fit(fit_on) if method == "transform" else plain_cls(), method)(call_on)
    with pytest.raises(ValueError, match="Input X contains") as ours:
        getattr(fast_cls().fit(fit_on) if method == "transform" else fast_cls(), method)(call_on)
    assert str(ours.value) == str(theirs.value)
    failed = groups()[name, method, "sklearn"]
    assert failed.errors == 1


def test_invalid_parameters_raise_sklearns_error(accel_on):
    from sklearn.utils._param_validation import InvalidParameterError

    fast_cls, _ = classes("StandardScaler")
    with pytest.raises(InvalidParameterError, match="with_mean"):
        fast_cls(with_mean="yes").fit(data())
    fast_cls, _ = classes("MinMaxScaler")
    with pytest.raises(ValueError, match="Minimum of desired feature range"):
        fast_cls(feature_range=(2, 1)).fit(data())


@pytest.mark.parametrize("dtype", [F64, F32])
def test_pca_transform_is_sklearns_on_the_host(accel_on, dtype):
    # lepton's centred product is the slower one on the CPU (see the PCA row in dropin.py)
    fast_cls, plain_cls = classes("PCA")
    x = data()
    out = fast_cls(2).fit(x).transform(x.astype(dtype))
    ref = plain_cls(2).fit(x).transform(x.astype(dtype))
    assert out.dtype == ref.dtype  # float64: numpy's promotion with float64 components
    assert_close(out, ref, 1e-10, "output")
    ran = groups()
    assert ran["PCA", "fit", "lepton"].calls == 1
    assert "one BLAS product either way" in ran["PCA", "transform", "sklearn"].reason
