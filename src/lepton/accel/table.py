"""The one table of what ``lepton.accel`` accelerates: scikit-learn class → lepton implementation.

Each row names a scikit-learn class by its defining module (where the class is replaced, so every
later ``from sklearn.x import Name`` gets the accelerated class) and the public module users
import it from, the methods that are routed, and the implementation that decides, per call,
whether lepton can run it (``unsupported`` → a reason, or None) and runs it (``run``).
Implementations are imported on the first routed call, not while scikit-learn's modules are
being imported: an implementation may import scikit-learn itself.

The scikit-learn estimators lepton accelerates (PCA, StandardScaler, MinMaxScaler,
SimpleImputer) are ``DropIn`` rows over lepton's drop-in estimators
(:mod:`lepton.estimators`, scikit-learn's signatures; see :mod:`lepton.accel.adapters.dropin`):
the drop-in is the one implementation, and its ``fallback_reason`` decides which calls lepton
takes. The ``--int8`` rows predict through ``lepton.Lepton(model)`` and report their agreement.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One accelerated scikit-learn class."""

    module: str  # defining module, e.g. "sklearn.decomposition._pca"
    name: str  # class name, e.g. "PCA"
    public: str  # module users import it from, e.g. "sklearn.decomposition"
    implementation: str  # "package.module:attribute" of the implementation object
    methods: tuple[str, ...]  # the methods routed through the implementation
    opt_in: str | None = None  # None: always patched; "int8": only with install(int8=True)

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def label(self) -> str:
        return f"{self.public}.{self.name}"


_ADAPTERS = "lepton.accel.adapters"
_DROPIN = f"{_ADAPTERS}.dropin"
_FIT_TRANSFORM = ("fit", "fit_transform", "transform")
_SCALER = ("fit", "partial_fit", "fit_transform", "transform")
_INT8 = (f"{_ADAPTERS}.int8:INT8_PREDICT", ("predict",))

TABLE: tuple[Row, ...] = (
    Row("sklearn.decomposition._pca", "PCA", "sklearn.decomposition",
        f"{_DROPIN}:PCA", _FIT_TRANSFORM),
    Row("sklearn.preprocessing._data", "StandardScaler", "sklearn.preprocessing",
        f"{_DROPIN}:STANDARD_SCALER", _SCALER),
    Row("sklearn.preprocessing._data", "MinMaxScaler", "sklearn.preprocessing",
        f"{_DROPIN}:MINMAX_SCALER", _SCALER),
    Row("sklearn.impute._base", "SimpleImputer", "sklearn.impute",
        f"{_DROPIN}:SIMPLE_IMPUTER", _FIT_TRANSFORM),
    # --int8 only: predict through lepton.Lepton(model), agreement with the float model reported.
    Row("sklearn.neural_network._multilayer_perceptron", "MLPClassifier",
        "sklearn.neural_network", *_INT8, opt_in="int8"),
    Row("sklearn.neural_network._multilayer_perceptron", "MLPRegressor",
        "sklearn.neural_network", *_INT8, opt_in="int8"),
    Row("sklearn.linear_model._logistic", "LogisticRegression", "sklearn.linear_model", *_INT8,
        opt_in="int8"),
    Row("sklearn.linear_model._base", "LinearRegression", "sklearn.linear_model", *_INT8,
        opt_in="int8"),
    Row("sklearn.linear_model._ridge", "Ridge", "sklearn.linear_model", *_INT8, opt_in="int8"),
)  # fmt: skip


def rows(*, int8: bool = False) -> tuple[Row, ...]:
    """The rows patched for these options."""
    return tuple(r for r in TABLE if r.opt_in is None or (r.opt_in == "int8" and int8))
