"""``Lepton(model)``: the model's own prediction methods, computed with int8 layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lepton import _validate
from lepton.inference.arrays import Backend, to_backend
from lepton.inference.calibration import CalibrationReport, calibrate
from lepton.inference.compare import Comparison, compare_paths
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

    ``model``: a fitted scikit-learn MLPClassifier, MLPRegressor, LogisticRegression,
    LinearRegression or Ridge; a torch ``nn.Sequential`` of Linear + ReLU/GELU/Sigmoid/Tanh; or raw
    layers ``[(W (N_out, N_in), b or None, activation), ...]``. Weights are quantized per output
    channel and packed once, here; each layer is then one ``linear_int8`` call with its
    activation fused (tanh, which has no epilogue, runs after it).

    ``calibration``: a sample of inputs (numpy, rows × features). Static per-layer activation
    scales are measured on it and used only if they are at least as accurate and faster than
    per-row dynamic scales (``calibration_`` says which won and by how much).

    Every prediction method takes ``measure=True`` to record the call's time and energy in
    ``last_measurement`` (a ``lepton.energy`` Measurement; joules None without a meter).
    Inputs may be numpy or cupy arrays, or torch tensors; results come back in the same library.
    """

    predict = _HeadMethod("Labels (classifiers) or predictions, as the float model's predict.")
    predict_proba = _HeadMethod("Class probabilities, as the float model's predict_proba.")
    decision_function = _HeadMethod("Class scores, as the float model's decision_function.")

    def __init__(self, model: Any, calibration: Any = None) -> None:
        self.model = model
        self.plan_ = make_plan(model)
        self.layers_ = [QuantizedLayer(layer) for layer in self.plan_.layers]
        self.n_features_in_ = self.plan_.layers[0].n_in
        self.last_measurement: Any = None
        self._static = False
        self.calibration_: CalibrationReport | None = None
        if calibration is not None:
            sample = self._check_input(_validate.host_array(calibration, "calibration"), np)
            self.calibration_ = calibrate(
                self.plan_.layers, self.layers_, sample, self._scores_on_host
            )
            self._static = self.calibration_.mode == "static"

    def __repr__(self) -> str:
        widths = [self.n_features_in_, *(q.n_out for q in self.layers_)]
        scales = "static" if self._static else "dynamic"
        return f"Lepton({self.plan_.kind}, {'-'.join(map(str, widths))}, int8, {scales} scales)"

    @property
    def methods(self) -> tuple[str, ...]:
        """The prediction methods this model has."""
        return self.plan_.head.methods

    @property
    def is_classifier(self) -> bool:
        return self.plan_.head.is_classifier

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
        arr = self._check_input(arr, backend.xp, check_finite=self._finite_check_needed(backend))
        head_fn: Callable[..., Any] = getattr(self.plan_.head, method)
        if measure:
            with energy_window(backend) as window:
                out = head_fn(self._scores(arr, backend), backend.xp)
            self.last_measurement = window.result
        else:
            out = head_fn(self._scores(arr, backend), backend.xp)
        return backend.restore(out)

    def _finite_check_needed(self, backend: Backend) -> bool:
        # The CPU linear_int8 rejects NaN/inf rows itself while quantizing them; the static
        # path quantizes here, and other backends get the explicit check.
        return self._static or backend.xp is not np

    def _scores(self, x: Any, backend: Backend) -> Any:
        h = x
        for layer in self.layers_:
            h = layer.forward(
                h, backend.xp, backend.device, static=self._static and not backend.is_cuda
            )
        return h

    def _scores_on_host(self, x: np.ndarray, static: bool) -> np.ndarray:
        h = x
        for layer in self.layers_:
            h = layer.forward(h, np, "cpu", static=static)
        return h

    def _check_input(self, x: Any, xp: Any, *, check_finite: bool = True) -> Any:
        """``x`` as a C-contiguous float array of the right width.

        float32 and float64 pass as they are (the row quantizer reads either); other numeric
        dtypes become float32. ``check_finite=False`` leaves NaN/inf to ``linear_int8``, which
        finds them in the same pass that quantizes the rows.
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
        x = xp.ascontiguousarray(x, dtype=dtype)
        if check_finite and not bool(xp.isfinite(x).all()):
            msg = "x: contains NaN or inf (clean the data first, e.g. lepton.Preprocessor)"
            raise ValueError(msg)
        return x
