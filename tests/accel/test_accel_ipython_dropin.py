"""``%load_ext lepton.accel`` (with a stand-in for IPython's shell), and the DropIn row type."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.preprocessing
from _accel_helpers import data, groups

from lepton import accel
from lepton.accel.adapters.base import Call
from lepton.accel.adapters.dropin import SKLEARN_FITTED, DropIn


class FakeShell:
    """What the extension uses of IPython's InteractiveShell."""

    def __init__(self):
        self.magics = {}

    def register_magic_function(self, func, magic_kind="line", magic_name=None):
        assert magic_kind == "line"
        self.magics[magic_name or func.__name__] = func


def test_load_and_unload_the_ipython_extension(capsys):
    shell = FakeShell()
    accel.load_ipython_extension(shell)
    try:
        assert accel.is_installed()
        sklearn.preprocessing.StandardScaler().fit(data())
        shell.magics["lepton_accel_report"]("")
        assert "StandardScaler.fit" in capsys.readouterr().out
    finally:
        accel.unload_ipython_extension(shell)
    assert not accel.is_installed()
    assert "lepton.accel: 1 estimator calls" in capsys.readouterr().out


class MyScaler(sklearn.preprocessing.StandardScaler):
    """A stand-in drop-in: scikit-learn's signature, its own code, a support rule."""

    calls = 0

    @classmethod
    def fallback_reason(cls, params, X, method="fit", **arguments):
        return "with_std=False: not in this drop-in" if not params["with_std"] else None

    def fit(self, X, y=None, sample_weight=None):
        type(self).calls += 1
        super().fit(X, y, sample_weight)
        self._private_thing = object()  # never copied: only the listed attributes are
        return self


FITTED = SKLEARN_FITTED["StandardScaler"]


def test_dropin_copies_only_the_listed_attributes(accel_on):
    impl = DropIn(target=f"{__name__}:MyScaler", fitted=FITTED)
    est = sklearn.preprocessing.StandardScaler()
    x = data()
    assert impl.unsupported(est, Call("fit", {"X": x})) is None
    out = impl.run(est, Call("fit_transform", {"X": x, "y": None}))
    assert MyScaler.calls == 1
    reference = sklearn.preprocessing.StandardScaler._lepton_original().fit(x)
    np.testing.assert_allclose(out, reference.transform(x))
    assert set(vars(est)) == set(vars(reference))  # no _private_thing
    again = impl.run(est, Call("transform", {"X": x, "copy": None}))
    np.testing.assert_allclose(again, out)
    est.set_params(with_std=False)
    assert impl.unsupported(est, Call("fit", {"X": x})) == "with_std=False: not in this drop-in"


def test_a_table_row_switched_to_a_dropin(accel_on, monkeypatch):
    # A row's implementation is an object the table names: replacing it reroutes the calls.
    from lepton.accel import _dispatch

    row_key = "lepton.accel.adapters.dropin:STANDARD_SCALER"
    impl = DropIn(target=f"{__name__}:MyScaler", fitted=FITTED)
    monkeypatch.setitem(_dispatch._implementations, row_key, impl)
    before = MyScaler.calls
    sklearn.preprocessing.StandardScaler().fit(data())
    sklearn.preprocessing.StandardScaler(with_std=False).fit(data())
    assert MyScaler.calls == before + 1
    ran = groups()
    assert ran["StandardScaler", "fit", "lepton"].calls == 1
    assert ran["StandardScaler", "fit", "sklearn"].reason == "with_std=False: not in this drop-in"


@pytest.mark.parametrize("name", sorted(SKLEARN_FITTED))
def test_the_fitted_lists_are_sklearns(name):
    import sklearn.decomposition
    import sklearn.impute

    pd = pytest.importorskip("pandas")
    module = {"PCA": sklearn.decomposition, "SimpleImputer": sklearn.impute}.get(
        name, sklearn.preprocessing
    )
    cls = getattr(module, name)
    cls = getattr(cls, "_lepton_original", cls)
    x = pd.DataFrame(data(), columns=[f"c{i}" for i in range(7)])
    fitted = set(vars(cls().fit(x))) - set(cls().get_params())
    assert fitted == set(SKLEARN_FITTED[name])


def test_dropin_refit_on_a_plain_array_drops_feature_names(accel_on):
    pd = pytest.importorskip("pandas")
    impl = DropIn(target=f"{__name__}:MyScaler", fitted=FITTED)
    est = sklearn.preprocessing.StandardScaler()
    x = data()
    impl.run(est, Call("fit", {"X": pd.DataFrame(x, columns=list("abcdefg"))}))
    assert hasattr(est, "feature_names_in_")
    impl.run(est, Call("fit", {"X": x}))
    assert not hasattr(est, "feature_names_in_")
