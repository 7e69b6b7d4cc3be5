"""Patching and unpatching: accelerated classes stand where scikit-learn's do and behave as them."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sklearn.decomposition
import sklearn.impute
import sklearn.preprocessing
from _accel_helpers import data, groups
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from lepton import accel
from lepton.accel.table import TABLE, rows

ORIGINALS = {
    "PCA": sklearn.decomposition.PCA,
    "StandardScaler": sklearn.preprocessing.StandardScaler,
    "MinMaxScaler": sklearn.preprocessing.MinMaxScaler,
    "SimpleImputer": sklearn.impute.SimpleImputer,
}


def public(name):
    return {
        "PCA": sklearn.decomposition,
        "StandardScaler": sklearn.preprocessing,
        "MinMaxScaler": sklearn.preprocessing,
        "SimpleImputer": sklearn.impute,
    }[name]


def test_every_row_names_the_class_where_this_sklearn_defines_it():
    # A row pointing at a module that no longer defines the class would silently patch nothing.
    for row in TABLE:
        module = importlib.import_module(row.module)
        cls = module.__dict__[row.name]
        assert isinstance(cls, type)
        assert cls.__module__ == row.module
        assert getattr(importlib.import_module(row.public), row.name) is cls


def test_install_replaces_public_and_defining_module_and_uninstall_restores():
    accel.install(report_at_exit=False)
    try:
        for name, original in ORIGINALS.items():
            cls = getattr(public(name), name)
            assert cls is not original
            assert accel.is_accelerated(cls)
            assert issubclass(cls, original)
            assert sys.modules[original.__module__].__dict__[name] is cls
            assert (cls.__module__, cls.__qualname__, cls.__name__) == (
                original.__module__, original.__qualname__, original.__name__,
            )  # fmt: skip
        # Opt-in rows stay scikit-learn's without int8.
        from sklearn.neural_network import MLPClassifier

        assert not accel.is_accelerated(MLPClassifier)
    finally:
        accel.uninstall()
    for name, original in ORIGINALS.items():
        assert getattr(public(name), name) is original
        assert sys.modules[original.__module__].__dict__[name] is original
    assert not accel.is_installed()


def test_reinstall_reuses_one_class_per_sklearn_class(accel_on):
    first = sklearn.decomposition.PCA
    accel.install(report_at_exit=False)
    assert sklearn.decomposition.PCA is first


def test_isinstance_holds_both_ways(accel_on):
    PCA = sklearn.decomposition.PCA
    fast, plain = PCA(2), ORIGINALS["PCA"](2)
    assert isinstance(fast, ORIGINALS["PCA"])
    assert isinstance(plain, PCA)  # scikit-learn's own instances count as the patched class
    assert issubclass(ORIGINALS["PCA"], PCA)

    class Mine(PCA):
        pass

    assert not isinstance(plain, Mine)  # only the accelerated class itself widens isinstance
    assert isinstance(Mine(), PCA)


def test_repr_params_clone(accel_on):
    PCA = sklearn.decomposition.PCA
    est = PCA(n_components=3, whiten=True)
    assert repr(est) == repr(ORIGINALS["PCA"](n_components=3, whiten=True))
    assert est.get_params() == ORIGINALS["PCA"](n_components=3, whiten=True).get_params()
    twin = clone(est)
    assert type(twin) is PCA
    assert twin.get_params() == est.get_params()
    est.set_params(n_components=2)
    assert est.n_components == 2
    assert PCA.fit.__doc__ == ORIGINALS["PCA"].fit.__doc__


def test_pickle_round_trip_installed_and_after_uninstall(accel_on):
    x = data()
    est = sklearn.decomposition.PCA(3).fit(x)
    blob = pickle.dumps(est)
    back = pickle.loads(blob)
    assert type(back) is type(est)
    np.testing.assert_allclose(back.transform(x), est.transform(x))
    accel.uninstall()
    # The pickle names scikit-learn's class: without accel it loads as scikit-learn's PCA.
    plain = pickle.loads(blob)
    assert type(plain) is ORIGINALS["PCA"]
    np.testing.assert_allclose(plain.transform(x), est.transform(x), rtol=1e-12)
    # An accelerated object made before uninstall still pickles (as scikit-learn's class).
    again = pickle.loads(pickle.dumps(est))
    assert type(again) is ORIGINALS["PCA"]
    np.testing.assert_allclose(again.score(x), plain.score(x))


def test_pickled_state_is_sklearns_own():
    # Everything in a fitted accelerated estimator's state is scikit-learn's attribute set.
    x = data(nan=0.1)
    reference = {
        name: vars(ORIGINALS[name]().fit(x if name != "PCA" else np.nan_to_num(x)))
        for name in ORIGINALS
    }
    accel.install(report_at_exit=False)
    try:
        for name in ORIGINALS:
            cls = getattr(public(name), name)
            fitted = cls().fit(x if name != "PCA" else np.nan_to_num(x))
            assert set(vars(fitted)) == set(reference[name]), name
            for key, value in vars(fitted).items():
                assert type(value) is type(reference[name][key]), (name, key)
                if isinstance(value, np.ndarray):
                    assert value.dtype == reference[name][key].dtype, (name, key)
        assert {(g[0], g[2]) for g in groups()} == {(n, "lepton") for n in ORIGINALS}
    finally:
        accel.uninstall()


def test_pipeline_and_grid_search_use_the_accelerated_steps(accel_on):
    x = data(nan=0.05, shape=(300, 8))
    y = (np.nan_to_num(x[:, 0]) > 3).astype(int)
    from sklearn.linear_model import LogisticRegression

    pipe = make_pipeline(
        sklearn.impute.SimpleImputer(), sklearn.preprocessing.StandardScaler(),
        sklearn.decomposition.PCA(), LogisticRegression(),
    )  # fmt: skip
    search = GridSearchCV(pipe, {"pca__n_components": [2, 4]}, cv=3).fit(x, y)
    assert search.best_params_["pca__n_components"] in (2, 4)
    assert accel.is_accelerated(search.best_estimator_.named_steps["pca"])
    ran = groups()
    # 2 candidates × 3 folds + the refit: 7 fits, and a transform per fold's scoring.
    assert ran["PCA", "fit_transform", "lepton"].calls == 7
    assert ran["PCA", "transform", "sklearn"].calls == 6  # scikit-learn's product: faster
    assert ran["SimpleImputer", "fit_transform", "lepton"].calls == 7
    assert all(r == "lepton" for (n, m, r) in ran if (n, m) != ("PCA", "transform"))


def test_set_output_pandas(accel_on):
    pd = pytest.importorskip("pandas")
    x = pd.DataFrame(data(), columns=[f"c{i}" for i in range(7)])
    out = sklearn.preprocessing.StandardScaler().set_output(transform="pandas").fit_transform(x)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(x.columns)
    pcs = sklearn.decomposition.PCA(2).set_output(transform="pandas").fit_transform(x)
    assert list(pcs.columns) == ["pca0", "pca1"]
    assert groups()["PCA", "fit_transform", "lepton"].calls == 1


def test_metadata_routing_methods_are_sklearns(accel_on):
    with sklearn.config_context(enable_metadata_routing=True):
        fast = sklearn.preprocessing.StandardScaler().set_fit_request(sample_weight=True)
        plain = ORIGINALS["StandardScaler"]().set_fit_request(sample_weight=True)
        assert str(fast.get_metadata_routing()) == str(plain.get_metadata_routing())


def test_a_fallback_is_one_record_and_sklearn_throughout(accel_on):
    x = data()
    scaler = sklearn.preprocessing.StandardScaler()
    out = scaler.fit_transform(x, sample_weight=np.ones(len(x)))  # fit + transform inside
    np.testing.assert_allclose(out, ORIGINALS["StandardScaler"]().fit_transform(x))
    ran = accel.report().groups
    assert [(g.method, g.ran_on, g.calls) for g in ran] == [("fit_transform", "sklearn", 1)]
    assert "sample_weight" in ran[0].reason


def test_subclass_of_an_accelerated_class_runs_sklearn(accel_on):
    class Mine(sklearn.preprocessing.StandardScaler):
        pass

    Mine().fit(data())
    (group,) = accel.report().groups
    assert group.ran_on == "sklearn"
    assert "subclasses the accelerated class" in group.reason


def test_after_uninstall_accelerated_objects_run_sklearn_unrecorded():
    accel.install(report_at_exit=False)
    est = sklearn.preprocessing.StandardScaler()
    accel.uninstall()
    est.fit(data())
    assert hasattr(est, "scale_")
    with pytest.raises(RuntimeError, match="not installed"):
        accel.report()


def test_install_checks_its_options():
    with pytest.raises(TypeError, match="compare"):
        accel.install(compare="yes")
    assert not accel.is_installed()


def test_rows_opt_in():
    assert {r.name for r in rows()} == set(ORIGINALS)
    assert {r.name for r in rows(int8=True)} > set(ORIGINALS) | {"MLPClassifier"}


def _run_python(code):
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_hook_patches_modules_imported_after_install():
    out = _run_python(
        """
        import sys
        import lepton.accel as accel
        assert "sklearn.decomposition" not in sys.modules
        accel.install(report_at_exit=False)
        from sklearn.decomposition import PCA
        import sklearn.decomposition._pca as defining
        from sklearn.manifold import _t_sne  # binds PCA at import: gets the patched class
        print(accel.is_accelerated(PCA), defining.PCA is PCA, _t_sne.PCA is PCA)
        print(type(defining.__loader__).__name__, type(defining.__spec__.loader).__name__)
        # Patching imported no implementation: they load on the first routed call.
        print("lepton.accel.adapters.dropin" in sys.modules or "lepton.estimators" in sys.modules)
        accel.uninstall()
        print(accel.is_accelerated(sys.modules["sklearn.decomposition"].PCA),
              accel.is_accelerated(_t_sne.PCA))
        """
    )
    assert out.split() == ["True", "True", "True", "SourceFileLoader", "SourceFileLoader",
                           "False", "False", "False"]  # fmt: skip


def test_drop_ins_imported_under_accel_build_on_sklearns_own_classes():
    # accel imports lepton's drop-ins on the first routed call, when scikit-learn's modules
    # already hold the accelerated classes: each drop-in must subclass, and fall back to,
    # scikit-learn's own class, never the routing class (whose methods would route back in).
    out = _run_python(
        """
        import sys
        import numpy as np
        import lepton.accel as accel
        accel.install(report_at_exit=False)
        from sklearn.decomposition import PCA
        from sklearn.preprocessing import StandardScaler
        assert "lepton.estimators" not in sys.modules  # imported by the first routed call
        rng = np.random.default_rng(0)
        x = rng.standard_normal((500, 6)) * np.geomspace(4, 0.5, 6) + 1.0
        sys.setrecursionlimit(300)  # a call routed back into itself fails fast
        for cls, params in ((PCA, {"n_components": 3}), (StandardScaler, {})):
            ours = cls(**params).fit_transform(x)
            theirs = cls._lepton_original(**params).fit_transform(x)
            print(cls.__name__, float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs))))
        import lepton.estimators as est
        for name in ("PCA", "StandardScaler", "MinMaxScaler", "SimpleImputer"):
            drop_in = getattr(est, name)
            assert not any(accel.is_accelerated(c) for c in drop_in.__mro__), name
            assert drop_in._sklearn_class.__module__.startswith("sklearn."), name
            assert not accel.is_accelerated(drop_in._sklearn_class), name
        # lepton's own estimators fall back to scikit-learn's methods unrouted (no record)
        w = np.linspace(0.5, 2.0, len(x))
        ref = StandardScaler._lepton_original().fit(x, sample_weight=w)
        mine = est.StandardScaler().fit(x, sample_weight=w)
        assert np.array_equal(mine.scale_, ref.scale_)
        est.PCA(2, svd_solver="arpack", random_state=0).fit(x)
        calls = sorted((g.estimator, g.method, g.ran_on, g.calls) for g in accel.report().groups)
        print(calls)
        accel.uninstall()
        """
    )
    lines = out.splitlines()
    for line in lines[:2]:
        _, err = line.split()
        assert float(err) <= 1e-12, line
    assert lines[2] == (
        "[('sklearn.decomposition.PCA', 'fit_transform', 'lepton', 1), "
        "('sklearn.preprocessing.StandardScaler', 'fit_transform', 'lepton', 1)]"
    )
