"""``Lepton(model)``: the model's own prediction methods, computed with int8 layers."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from lepton import _validate
from lepton.inference.arrays import Backend, to_backend
from lepton.inference.calibration import CalibrationReport, calibrate
from lepton.inference.chain import dynamic_forward, handoff_scales, int8_chain_forward
from lepton.inference.compare import Comparison, compare_paths
from lepton.inference.cupy_graphs import CupyGraphs
from lepton.inference.graphs import GraphCache, GraphKey
from lepton.inference.measuring import energy_window
from lepton.inference.plan import make_plan
from lepton.inference.quantized import QuantizedLayer


class _HeadMethod:
    """A method that exists only where the model has it (``hasattr`` answers truthfully)."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Lepton | None, owner: type) -> Any:
        if obj is None:
            return self
        if self.name not in obj.plan_.head.methods:
            msg = f"this Lepton ({obj.plan_.kind}) has no {self.name}"
            raise AttributeError(msg)
        name = self.name

        def method(x: Any, *, measure: bool = False) -> Any:
            return obj._run(name, x, measure)

        method.__name__ = name
        method.__doc__ = self.__doc__
        return method


class Lepton:
    """Int8 inference for a model you already have.

    ``model``: a fitted scikit-learn MLPClassifier, MLPRegressor, LogisticRegression(CV),
    RidgeClassifier(CV), LinearSVC, SGDClassifier, Perceptron or linear regressor
    (LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, ...); a scikit-learn
    ``Pipeline`` of scalers / imputers / lepton's Preprocessor / PCA ending in one of those
    (``lepton.inference.from_pipeline``); a torch ``nn.Sequential`` of Linear +
    ReLU/GELU/Sigmoid/Tanh; or raw layers ``[(W (N_out, N_in), b or None, activation), ...]``.
    Weights are quantized per output channel and packed once, here; each layer is then one
    ``linear_int8`` call with its activation fused (tanh, which has no epilogue, runs after
    it). A pipeline's per-column steps run first as one fused preprocessing pass (on host
    input with dynamic scales, steps that are only a per-column affine map — scalers without
    imputing or clipping — are applied by the first layer while it quantizes each row instead,
    with the same results bit for bit); its PCA is folded into the first layer (or runs as an
    int8 layer of its own when that is cheaper).

    ``calibration``: a sample of inputs (numpy, rows × features). Static per-layer activation
    scales are measured on it and used on the host only if they are at least as accurate and
    faster than per-row dynamic scales (``calibration_`` says which won and by how much). On
    CUDA inputs they let each layer hand int8 straight to the next (one kernel per layer, a
    quarter of the bytes between layers) when that chain's error on the sample is within 2×
    the dynamic path's (``calibration_.cuda_mode``).

    ``cuda_graph``: CUDA inputs replay the whole forward (layers and head) from a CUDA graph
    captured per (method, batch shape, dtype, device, stream): ``"auto"`` (default) from the
    second call of a shape of at most 16384 rows, ``True`` from the first call of any shape,
    ``False`` never. Results are copies, safe to keep across calls; the graph reads the
    input's contents at every call. A capture that fails or disagrees with the eager call
    leaves that shape eager, with a ``RuntimeWarning`` (``cuda_graphs_`` reports what was
    captured and why not). See ``lepton.inference.graphs``.

    ``check_finite``: CUDA inputs are checked for NaN/Inf before the layers, which costs one
    host synchronisation per call; ``False`` skips it (a row with NaN/Inf then gives NaN
    scores and probabilities, and an arbitrary label). Host inputs are always checked (free:
    the CPU kernel finds them while it quantizes the rows). A pipeline's imputer fills NaN
    first: the check applies to what reaches the layers.

    Every prediction method takes ``measure=True`` to record the call's time and energy in
    ``last_measurement`` (a ``lepton.energy`` Measurement; joules None without a meter).
    Inputs may be numpy or cupy arrays, or torch tensors; results come back in the same library.
    """

    predict = _HeadMethod("Labels (classifiers) or predictions, as the float model's predict.")
    predict_proba = _HeadMethod("Class probabilities, as the float model's predict_proba.")
    decision_function = _HeadMethod("Class scores, as the float model's decision_function.")

    def __init__(
        self,
        model: Any,
        calibration: Any = None,
        *,
        cuda_graph: bool | str = "auto",
        check_finite: bool = True,
    ) -> None:
        if not isinstance(check_finite, bool):
            msg = f"check_finite: expected True or False, got {check_finite!r}"
            raise TypeError(msg)
        self._graphs = GraphCache(cuda_graph, CupyGraphs)
        self.check_finite = check_finite
        self.model = model
        self.plan_ = make_plan(model)
        self.layers_ = [QuantizedLayer(layer) for layer in self.plan_.layers]
        self.n_features_in_ = self.plan_.layers[0].n_in
        self.last_measurement: Any = None
        self._static = False
        self._handoff: list[float | None] | None = None  # CUDA: int8 between layers
        self.calibration_: CalibrationReport | None = None
        self._model_dtypes: dict[tuple[str, str], np.dtype] = {}
        if calibration is not None:
            self._calibrate(calibration)

    def _calibrate(self, calibration: Any) -> None:
        sample = self._check_input(_validate.host_array(calibration, "calibration"), np)
        sample = self._features(sample)
        if not np.isfinite(sample).all():
            msg = "calibration: contains NaN or inf (after the pipeline's steps, if any)"
            raise ValueError(msg)
        chained = any(
            s is not None for s in handoff_scales(self.layers_, [1.0] * len(self.layers_))
        )
        self.calibration_ = calibrate(
            self.plan_.layers,
            self.layers_,
            sample,
            self._scores_on_host,
            self._chain_on_host if chained else None,
        )
        self._static = self.calibration_.mode == "static"
        if self.calibration_.cuda_mode == "static":
            self._handoff = handoff_scales(self.layers_, self.calibration_.scales)

    def __repr__(self) -> str:
        widths = [self.n_features_in_, *(q.n_out for q in self.layers_)]
        scales = "static" if self._static else "dynamic"
        cuda = ", int8 hand-off on CUDA" if self._handoff is not None else ""
        return (
            f"Lepton({self.plan_.kind}, {'-'.join(map(str, widths))}, int8, {scales} scales{cuda})"
        )

    @property
    def methods(self) -> tuple[str, ...]:
        """The prediction methods this model has."""
        return self.plan_.head.methods

    @property
    def is_classifier(self) -> bool:
        return self.plan_.head.is_classifier

    @property
    def classes_(self) -> np.ndarray:
        """The classifier's labels, as the model's own ``classes_``."""
        if not self.is_classifier:
            msg = f"this Lepton ({self.plan_.kind}) is not a classifier: it has no classes_"
            raise AttributeError(msg)
        return self.plan_.head.classes

    @property
    def cuda_graphs_(self) -> dict[str, Any]:
        """CUDA graphs held (their keys), shapes left eager and why, captures so far."""
        return self._graphs.status()

    def compare(
        self, x: Any, y: Any = None, *, rounds: int = 3, min_window_s: float = 0.2
    ) -> Comparison:
        """Agreement with the float model on ``x`` and the cost of both paths.

        Both paths run interleaved in the same process, ``rounds`` times each, every time in an
        energy window of at least ``min_window_s`` (the call repeated to fill it); medians are
        reported. ``y`` adds each path's accuracy (classifiers) or R² (regressors).
        """
        return compare_paths(self, x, y, rounds=rounds, min_window_s=min_window_s)

    # --- the int8 path -------------------------------------------------------------------------
    def _run(self, method: str, x: Any, measure: bool) -> Any:
        arr, backend = to_backend(x)
        arr = self._check_input(arr, backend.xp)
        if measure:
            with energy_window(backend) as window:
                out = self._predict(method, arr, backend)
            self.last_measurement = window.result
        else:
            out = self._predict(method, arr, backend)
        return backend.restore(self._as_model_dtype(method, out, arr.dtype))

    def _as_model_dtype(self, method: str, out: Any, x_dtype: Any) -> Any:
        """Float outputs in the dtype the scikit-learn model itself returns for this input
        dtype (linear models compute in float64, an MLP keeps float32; a pipeline depends on
        its steps): asked once per method and dtype with one row of zeros."""
        if not self.plan_.kind.startswith("sklearn") or out.dtype.kind != "f":
            return out
        key = (method, x_dtype.char)  # (np.dtype.name costs µs per call)
        want = self._model_dtypes.get(key)
        if want is None:
            probe = np.zeros((1, self.n_features_in_), dtype=x_dtype)
            with warnings.catch_warnings():  # e.g. "X does not have valid feature names"
                warnings.simplefilter("ignore")
                want = np.asarray(getattr(self.plan_.reference, method)(probe)).dtype
            self._model_dtypes[key] = want
        return out if want.kind != "f" or out.dtype == want else out.astype(want)

    def _predict(self, method: str, x: Any, backend: Backend) -> Any:
        head = self.plan_.head
        head_fn: Callable[..., Any] = getattr(head, method)
        xp = backend.xp
        column_map = self._fused_front(x, backend)
        if column_map is not None:  # host, dynamic scales: the first layer scales its rows
            return head_fn(self._scores(x, backend, column_map), xp)
        h = self._features(x)
        if self._finite_check_needed(backend):
            self._require_finite(h, backend.xp)
        if not backend.is_cuda:
            return head_fn(self._scores(h, backend), xp)
        on_device = head.runs_on_device(method)

        def device_part(inputs: Any) -> Any:
            z = self._scores(inputs, backend)
            return head_fn(z, xp) if on_device else z

        key: GraphKey | None = self._graphs.key(method, h, backend.device_index)
        out = self._graphs.run(key, device_part, h)
        return out if on_device else head_fn(out, xp)

    def _features(self, x: Any) -> Any:
        """A pipeline's per-column steps (one fused pass), else ``x`` itself."""
        front = self.plan_.front
        return x if front is None else front(x)

    def _fused_front(self, x: Any, backend: Backend) -> tuple[Any, Any] | None:
        """The front pass as ``(center, mul)`` for the first layer's row quantization, when it
        is a pure per-column affine map and the input is on the host with dynamic scales
        (bit for bit the pass then the layer, without writing the scaled array); else None."""
        front = self.plan_.front
        if front is None or backend.is_cuda or backend.xp is not np or self._static:
            return None
        return front.column_map(x.dtype)

    def _finite_check_needed(self, backend: Backend) -> bool:
        # The CPU linear_int8 rejects NaN/inf rows itself while quantizing them; the static
        # path quantizes here. CUDA: the check costs a host synchronisation (check_finite).
        if backend.xp is np and not backend.is_cuda:
            return self._static
        return self.check_finite

    @staticmethod
    def _require_finite(x: Any, xp: Any) -> None:
        if not bool(xp.isfinite(x).all()):
            msg = "x: contains NaN or inf (clean the data first, e.g. lepton.Preprocessor)"
            raise ValueError(msg)

    def _scores(self, x: Any, backend: Backend, column_map: tuple[Any, Any] | None = None) -> Any:
        if backend.is_cuda and self._handoff is not None:
            return int8_chain_forward(self.layers_, x, backend.xp, backend.device, self._handoff)
        if backend.is_cuda:
            return dynamic_forward(self.layers_, x, backend.xp, backend.device)
        h = x
        for layer in self.layers_:
            h = layer.forward(
                h, backend.xp, backend.device, static=self._static, column_map=column_map
            )
            column_map = None  # the first layer's input only
        return h

    def _scores_on_host(self, x: np.ndarray, static: bool) -> np.ndarray:
        h = x
        for layer in self.layers_:
            h = layer.forward(h, np, "cpu", static=static)
        return h

    def _chain_on_host(self, x: np.ndarray, scales: list[float]) -> np.ndarray:
        return int8_chain_forward(self.layers_, x, np, "cpu", handoff_scales(self.layers_, scales))

    def _check_input(self, x: Any, xp: Any) -> Any:
        """``x`` as a C-contiguous float array of the right width (NaN/Inf are checked later,
        after a pipeline's imputer has had its say).

        float32 and float64 pass as they are (the row quantizer reads either); other numeric
        dtypes become float32.
        """
        if xp is np:
            x = _validate.host_array(x, "x", ndim=2)
        elif x.ndim != 2:
            msg = f"x: expected a 2-D array (n_samples, n_features), got shape {x.shape}"
            raise ValueError(msg)
        if x.dtype.kind not in "biuf":
            msg = f"x: expected a real numeric array, got dtype {x.dtype}"
            raise TypeError(msg)
        if x.shape[1] != self.n_features_in_:
            msg = f"x: expected {self.n_features_in_} features (columns), got {x.shape[1]}"
            raise ValueError(msg)
        if x.shape[0] == 0:
            msg = "x: expected at least one row, got 0"
            raise ValueError(msg)
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        return xp.ascontiguousarray(x, dtype=dtype)
