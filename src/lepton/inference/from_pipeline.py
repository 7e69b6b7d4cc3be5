"""A fitted scikit-learn ``Pipeline`` as one fused per-column pass, int8 layers and a head.

The steps before the model are taken in order:

- per-column steps (scalers, imputers, lepton's ``Preprocessor``) compose into one fused
  preprocessing pass over the input (``feature_pass``: why they are not folded into weights);
- dense linear steps (PCA, TruncatedSVD), and per-column scalers after them, compose in float64
  into one affine map ``y = x @ M + c``. It is folded into the model's first layer
  (``W' = W Mᵀ``, ``b' = b + W c``: composed in float64, rounded once to float32, then
  quantized per output channel like any weight) when that costs no more multiply-adds than
  running it, else it runs as its own int8 layer before the model. Both are the same function
  in exact arithmetic; folding saves a layer when the model's first layer is narrow.

Steps are recognised by class name and read through scikit-learn's fitted attributes
(``mean_``, ``scale_``, ``components_``, ...), which lepton's drop-in estimators share. Anything
else raises a ``TypeError`` naming the step and listing what is supported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from lepton.inference import from_sklearn
from lepton.inference.feature_pass import ColumnSteps, FrontPass
from lepton.inference.heads import Head
from lepton.inference.layers import Layer, check_chain, make_layer

SUPPORTED_STEPS = (
    "StandardScaler",
    "MinMaxScaler",
    "RobustScaler",
    "MaxAbsScaler",
    "SimpleImputer (missing_values=nan, no indicator)",
    "lepton Preprocessor (float output)",
    "PCA / IncrementalPCA (scikit-learn's or lepton's)",
    "TruncatedSVD",
    "FunctionTransformer() without a function",
    "'passthrough'",
)


def is_pipeline(model: Any) -> bool:
    return from_sklearn.is_sklearn_model(model) and type(model).__name__ == "Pipeline"


def _root(est: Any) -> str:
    return type(est).__module__.split(".")[0]


def _flatten(pipe: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, est in pipe.steps:
        if is_pipeline(est):
            yield from _flatten(est, f"{prefix}{name}__")
        else:
            yield f"{prefix}{name}", est


class _Prefix:
    """The steps before the model: per-column steps, then (once a dense step came) a dense map.

    ``dense`` is ``(M, c)`` over the raw columns: the fused pass's output ``u`` maps to the
    current features as ``u @ M + c``.
    """

    def __init__(self, n_features: int) -> None:
        self.columns = ColumnSteps(n_features)
        self.dense: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def width(self) -> int:
        return self.columns.width if self.dense is None else int(self.dense[0].shape[1])

    def affine(self, a: Any, b: Any, name: str) -> None:
        if self.dense is None:
            self.columns.affine(a, b, name)
            return
        m, c = self.dense
        a = np.broadcast_to(np.asarray(a, dtype=np.float64), (self.width,))
        b = np.broadcast_to(np.asarray(b, dtype=np.float64), (self.width,))
        self.dense = (m * a, c * a + b)

    def linear(self, p: np.ndarray, q: np.ndarray, name: str) -> None:
        """Then ``y ↦ y @ p + q`` (p: (width, k))."""
        if p.shape[0] != self.width:
            msg = f"{name}: expects {p.shape[0]} features, but the steps before give {self.width}"
            raise ValueError(msg)
        m, c = self._dense_start() if self.dense is None else self.dense
        self.dense = (m @ p, c @ p + q)

    def _dense_start(self) -> tuple[np.ndarray, np.ndarray]:
        cols = self.columns.cols
        m = np.zeros((self.columns.a.size, cols.size))
        m[cols, np.arange(cols.size)] = 1.0
        return m, self.columns.residual()[cols]

    def only_before_dense(self, name: str, what: str) -> ColumnSteps:
        if self.dense is not None:
            msg = (
                f"{name}: {what} after a dense step (PCA, TruncatedSVD) is not supported; "
                "move it before the dense step"
            )
            raise TypeError(msg)
        return self.columns

    def finish(self) -> tuple[FrontPass | None, tuple[np.ndarray, np.ndarray] | None]:
        front = self.columns.front_pass()
        if self.dense is not None:
            return front, self.dense
        m, c = self._dense_start()
        identity = m.shape[0] == m.shape[1] and not c.any()
        return front, None if identity else (m, c)


# --- one function per supported step --------------------------------------------------------


def _vector(est: Any, attr: str) -> np.ndarray | None:
    value = getattr(est, attr, None)
    return None if value is None else np.asarray(value, dtype=np.float64)


def _standard_scaler(prefix: _Prefix, est: Any, name: str) -> None:
    mean, scale = _vector(est, "mean_"), _vector(est, "scale_")
    inv = 1.0 if scale is None else 1.0 / scale
    prefix.affine(inv, 0.0 if mean is None else -mean * inv, name)


def _robust_scaler(prefix: _Prefix, est: Any, name: str) -> None:
    center, scale = _vector(est, "center_"), _vector(est, "scale_")
    inv = 1.0 if scale is None else 1.0 / scale
    prefix.affine(inv, 0.0 if center is None else -center * inv, name)


def _max_abs_scaler(prefix: _Prefix, est: Any, name: str) -> None:
    prefix.affine(1.0 / _vector(est, "scale_"), 0.0, name)


def _min_max_scaler(prefix: _Prefix, est: Any, name: str) -> None:
    prefix.affine(_vector(est, "scale_"), _vector(est, "min_"), name)
    if getattr(est, "clip", False):
        low, high = est.feature_range
        prefix.only_before_dense(name, "MinMaxScaler(clip=True)").clip(low, high, name)


def _simple_imputer(prefix: _Prefix, est: Any, name: str) -> None:
    missing = est.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        msg = f"{name}: SimpleImputer(missing_values={missing!r}) is not supported; only NaN"
        raise TypeError(msg)
    if getattr(est, "add_indicator", False):
        msg = f"{name}: SimpleImputer(add_indicator=True) is not supported"
        raise TypeError(msg)
    stats = np.asarray(est.statistics_)
    if stats.dtype.kind not in "biuf":
        msg = f"{name}: SimpleImputer with non-numeric fill values is not supported"
        raise TypeError(msg)
    stats = stats.astype(np.float64)
    columns = prefix.only_before_dense(name, "SimpleImputer")
    keep = ~np.isnan(stats)  # sklearn drops columns that had no value at fit time
    columns.impute(np.where(keep, stats, 0.0), name, where=keep)
    if not keep.all():
        columns.drop(keep)


def _preprocessor(prefix: _Prefix, est: Any, name: str) -> None:
    from lepton.ops.preprocess_plan import make_plan

    if not hasattr(est, "stats_"):
        msg = f"{name}: this Preprocessor is not fitted (call fit first)"
        raise ValueError(msg)
    out = None if est.out_dtype is None else np.dtype(est.out_dtype)
    if out is not None and out.kind != "f":
        msg = f"{name}: Preprocessor(out_dtype={out.name}) is not supported; use a float output"
        raise TypeError(msg)
    plan = make_plan(
        est.stats_, impute=est.impute, clip_sigma=est.clip_sigma, scale=est.scale,
        out_dtype=None, warn=False,
    )  # fmt: skip
    columns = prefix.only_before_dense(name, "Preprocessor")
    if plan.replace_inf:
        columns.replace_infinities(name)
    # NaN fill = impute=None: NaN stays NaN (0 is a placeholder the mask keeps out)
    filled = ~np.isnan(plan.fill)
    if filled.any():
        columns.impute(np.where(filled, plan.fill, 0.0), name, where=filled)
    columns.clip(plan.lo, plan.hi, name)
    columns.affine(plan.mul, -plan.center * plan.mul, name)


def _pca(prefix: _Prefix, est: Any, name: str) -> None:
    components = np.asarray(est.components_, dtype=np.float64)
    mean = _vector(est, "mean_")
    p = components.T
    q = np.zeros(p.shape[1]) if mean is None else -(mean @ p)
    if getattr(est, "whiten", False):
        variance = np.asarray(est.explained_variance_)
        scale = np.sqrt(variance.astype(np.float64))
        scale = np.maximum(scale, float(np.finfo(variance.dtype).eps))
        p, q = p / scale, q / scale
    prefix.linear(p, q, name)


def _identity_function(prefix: _Prefix, est: Any, name: str) -> None:
    if getattr(est, "func", None) is not None:
        msg = f"{name}: FunctionTransformer with a function is not supported (only func=None)"
        raise TypeError(msg)


_STEPS: dict[tuple[str, str], Callable[[_Prefix, Any, str], None]] = {
    ("sklearn", "StandardScaler"): _standard_scaler,
    ("lepton", "StandardScaler"): _standard_scaler,
    ("sklearn", "MinMaxScaler"): _min_max_scaler,
    ("lepton", "MinMaxScaler"): _min_max_scaler,
    ("sklearn", "RobustScaler"): _robust_scaler,
    ("sklearn", "MaxAbsScaler"): _max_abs_scaler,
    ("sklearn", "SimpleImputer"): _simple_imputer,
    ("lepton", "SimpleImputer"): _simple_imputer,
    ("lepton", "Preprocessor"): _preprocessor,
    ("sklearn", "PCA"): _pca,
    ("sklearn", "IncrementalPCA"): _pca,
    ("lepton", "PCA"): _pca,
    ("sklearn", "TruncatedSVD"): _pca,  # no mean_: a projection without centring
    ("sklearn", "FunctionTransformer"): _identity_function,
}


def _unsupported(name: str, est: Any) -> TypeError:
    final = ", ".join(from_sklearn.SUPPORTED)
    msg = (
        f"model: Pipeline step {name!r} ({type(est).__name__}) is not supported; supported "
        f"steps: {', '.join(SUPPORTED_STEPS)}; then a final {final}"
    )
    return TypeError(msg)


def convert(pipe: Any) -> tuple[FrontPass | None, list[Layer], Head]:
    """The fused front pass (or None), the int8 layers and the head of a fitted Pipeline."""
    from sklearn.utils.validation import check_is_fitted

    steps = [(n, e) for n, e in _flatten(pipe) if e is not None and e != "passthrough"]
    if not steps:
        msg = "model: the Pipeline has no steps besides 'passthrough'"
        raise ValueError(msg)
    final_name, final = steps[-1]
    converted = from_sklearn.convert(final)
    if converted is None:
        raise _unsupported(final_name, final)
    layers, head = converted
    n_features = _n_features(steps)
    prefix = _Prefix(n_features)
    for name, est in steps[:-1]:
        step = _STEPS.get((_root(est), type(est).__name__))
        if step is None:
            raise _unsupported(name, est)
        if type(est).__name__ != "FunctionTransformer":
            check_is_fitted(est)
        step(prefix, est, name)
    front, dense = prefix.finish()
    if dense is not None:
        layers = _attach(dense, layers, from_sklearn.first_layer_float64(final), final_name)
    if layers[0].n_in != n_features:
        msg = (
            f"model: the Pipeline's steps give {prefix.width} features but {final_name!r} "
            f"expects {layers[0].n_in}"
        )
        raise ValueError(msg)
    return front, layers, head


def _n_features(steps: list[tuple[str, Any]]) -> int:
    """The input width: the first step that knows it (the ones before it are identities)."""
    for _, est in steps:
        n = getattr(est, "n_features_in_", None)
        if n is not None:
            return int(n)
    msg = f"model: cannot tell how many features step {steps[0][0]!r} takes (n_features_in_)"
    raise ValueError(msg)


def _attach(
    dense: tuple[np.ndarray, np.ndarray],
    layers: list[Layer],
    first: tuple[np.ndarray, np.ndarray | None],
    final_name: str,
) -> list[Layer]:
    """Fold ``u @ M + c`` into the first layer, or run it as a layer of its own."""
    m, c = dense
    d, k = m.shape
    w, b = first  # float64 (N, k), (N,)
    n = w.shape[0]
    if w.shape[1] != k:
        msg = (
            f"model: the Pipeline's steps give {k} features but {final_name!r} expects {w.shape[1]}"
        )
        raise ValueError(msg)
    if d * n <= d * k + k * n:
        folded_w = w @ m.T
        folded_b = (np.zeros(n) if b is None else b) + w @ c
        head = make_layer(folded_w, folded_b, layers[0].activation, name=f"{final_name} (folded)")
        layers = [head, *layers[1:]]
    else:
        layers = [make_layer(m.T, c, None, name="pipeline dense steps"), *layers]
    check_chain(layers)
    return layers
