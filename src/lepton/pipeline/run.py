"""The green pipeline: load → clean → normalise → reduce → train → evaluate → search.

Every step runs inside a region of one ``lepton.energy.Monitor``, so the result carries the
seconds and joules (or "no meter") of each step. Transforms are fitted on the training split
only; the search scores candidates on the validation split and the chosen one on the test split.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from lepton import _validate
from lepton._dispatch import placement
from lepton.inference.arrays import to_host
from lepton.pipeline.data import Dataset, load
from lepton.pipeline.metrics import evaluate
from lepton.pipeline.result import PipelineResult, StepRecord
from lepton.pipeline.search import SELECTIONS, Candidate, SearchResult, grid, select
from lepton.pipeline.trainer import LogisticGD

STEPS = ("load", "clean", "normalise", "reduce", "train", "evaluate", "search")

_LIBRARIES = (
    "sklearn.datasets",
    "sklearn.metrics",
    "sklearn.model_selection",
    "lepton.estimators",
)

# (what is running now, units done, units in all): the CLI drives a progress bar with it.
Progress = Callable[[str, int, int], None]

Splits = dict[str, tuple[Any, np.ndarray]]  # "train"/"val"/"test" -> (X on device, y on host)


def default_components(cols: int) -> int:
    """Half the columns, at least 2 and at most 32: enough for these data sets' variance."""
    return max(2, min(32, cols // 2, cols))


def run(
    data: Any = "breast_cancer",
    y: Any = None,
    *,
    rows: int | None = None,
    cols: int | None = None,
    n_classes: int = 2,
    device: Any = "cpu",
    n_components: int | None = None,
    learning_rate: float = 0.05,
    l2: float = 1e-3,
    search: bool = True,
    learning_rates: Sequence[float] = (0.03, 0.3),
    l2s: Sequence[float] = (1e-4, 1e-2),
    components: Sequence[int] | None = None,
    selection: str = "accuracy",
    min_accuracy: float = 0.0,
    clip_sigma: float = 3.0,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
    meter: Any = None,
    progress: Progress | None = None,
) -> PipelineResult:
    """Run the pipeline on ``data`` (see :func:`lepton.pipeline.load`) on ``device``.

    ``n_components``: PCA size of the train step (default :func:`default_components`).
    ``search``: also try every (learning rate in ``learning_rates``, L2 in ``l2s``, PCA size in
    ``components`` — default half and all of ``n_components``) and pick one by ``selection``
    ("accuracy", "accuracy_per_joule", "accuracy_per_second") above ``min_accuracy``.
    ``meter``: a ``lepton.energy`` meter to use instead of the device's own.
    """
    from lepton import energy
    from lepton.energy.devices import normalize_device
    from lepton.estimators import PCA, Preprocessor

    device = normalize_device(device)
    for name, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not isinstance(value, (int, float)) or not 0 < value < 0.5:
            msg = f"{name}: expected a fraction in (0, 0.5), got {value!r}"
            raise ValueError(msg)
    _validate.choice(selection, "selection", SELECTIONS)
    if not isinstance(min_accuracy, (int, float)) or not 0.0 <= min_accuracy <= 1.0:
        msg = f"min_accuracy: expected a fraction in [0, 1], got {min_accuracy!r}"
        raise ValueError(msg)
    for module in _LIBRARIES:  # one-off import time is not the cost of any data step
        importlib.import_module(module)
    monitor = energy.Monitor(device, meter=meter)
    meter_name = monitor.meter.source if monitor.meter.has_energy else "no meter"
    records: list[StepRecord] = []
    ticker = _Ticker(progress, len(STEPS) - 1)

    @contextmanager
    def step(name: str, detail: Callable[[], str] = str) -> Iterator[None]:
        ticker.tick(name, 0)
        with monitor.region(name):
            yield
        total = monitor.totals[name]
        records.append(StepRecord(name, total.seconds, total.joules, detail(), total.short_windows))
        ticker.tick(name, 1)

    with step("load", lambda: f"{dataset.rows} × {dataset.cols}, {dataset.n_classes} classes"):
        dataset = (
            data
            if isinstance(data, Dataset)
            else load(data, y, rows=rows, cols=cols, n_classes=n_classes, seed=seed)
        )
        splits = _split(dataset, test_fraction, val_fraction, seed, device)

    # The PCA sizes can be checked once the columns are known, before any work on the data.
    k = default_components(dataset.cols) if n_components is None else n_components
    _check_components([k], dataset.cols, "n_components")
    if search:
        sizes = components if components is not None else sorted({max(1, k // 2), k})
        _check_components(sizes, dataset.cols, "components")
        candidates = grid(learning_rates, l2s, sizes)
        ticker.total += len(candidates) + 1  # each candidate, and the search step itself

    with step("clean", lambda: f"impute mean, clip {clip_sigma}σ"):
        cleaner = Preprocessor(impute="mean", clip_sigma=clip_sigma, scale=None)
        splits = _fit_transform(cleaner, splits)
    with step("normalise", lambda: "standard scale"):
        splits = _fit_transform(Preprocessor(impute=None, scale="standard"), splits)
    with step("reduce", lambda: f"PCA {dataset.cols} → {k}"):
        reduced = _fit_transform(PCA(n_components=k), splits)
    with step("train", lambda: f"{model.n_epochs_} epochs (best {model.best_epoch_})"):
        model = _train(reduced, learning_rate, l2, seed)
    with step("evaluate", lambda: f"accuracy {metrics['accuracy']:.4f}"):
        metrics = evaluate(model, *reduced["test"])

    found = None
    if search:
        with step("search", lambda: f"{len(found.candidates)} candidates, {found.selection_used}"):
            found = _search(
                splits, candidates, selection, min_accuracy, seed, PCA, device, meter,
                ticker,
            )  # fmt: skip
    ticker.tick("done", 0)
    return PipelineResult(
        dataset=dataset.name,
        rows=dataset.rows,
        cols=dataset.cols,
        n_classes=dataset.n_classes,
        device=device,
        meter=meter_name,
        steps=tuple(records),
        metrics=metrics,
        params={"learning_rate": learning_rate, "l2": l2, "n_components": k},
        search=found,
        meter_min_window_s=monitor.meter.min_window_s if monitor.meter.has_energy else 0.0,
    )


class _Ticker:
    """Counts finished units of work (steps and search candidates) for ``progress``."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def tick(self, what: str, finished: int) -> None:
        self.done += finished
        if self.progress is not None and not finished:
            self.progress(what, self.done, self.total)


def _check_components(sizes: Sequence[Any], cols: int, name: str) -> None:
    if len(sizes) == 0:
        msg = f"{name}: expected at least one PCA size"
        raise ValueError(msg)
    for k in sizes:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= cols:
            msg = f"{name}: expected ints in [1, {cols}] (the data's columns), got {k!r}"
            raise ValueError(msg)


def _split(data: Dataset, test: float, val: float, seed: int, device: str) -> Splits:
    """Stratified train/val/test rows, X moved to ``device`` (labels stay on the host)."""
    from sklearn.model_selection import train_test_split

    index = np.arange(data.rows)
    rest, test_idx = train_test_split(index, test_size=test, random_state=seed, stratify=data.y)
    train_idx, val_idx = train_test_split(
        rest, test_size=val / (1 - test), random_state=seed, stratify=data.y[rest]
    )
    xp: Any = np
    if device != "cpu":
        xp = importlib.import_module("cupy")
        xp.cuda.Device(int(device.split(":")[1])).use()
    return {
        name: (xp.asarray(data.X[idx]), data.y[idx])
        for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx))
    }


def _fit_transform(estimator: Any, splits: Splits) -> Splits:
    estimator.fit(splits["train"][0])
    out = {name: (estimator.transform(X), y) for name, (X, y) in splits.items()}
    _check_kept_in_place(splits, out, type(estimator).__name__)
    return out


def _check_kept_in_place(before: Splits, after: Splits, what: str) -> None:
    """Device data must stay on its device: an estimator returning host arrays for device input
    would hide a copy (and its joules) inside a step, so the pipeline refuses it."""
    for name, (X, _) in before.items():
        was, now = placement(X), placement(after[name][0])
        if was.device != now.device:
            msg = (
                f"{what}.transform returned the {name} split on {now.device} for input on "
                f"{was.device}; the pipeline keeps data where it is (no silent copies)"
            )
            raise TypeError(msg)


def _train(splits: Splits, learning_rate: float, l2: float, seed: int) -> LogisticGD:
    model = LogisticGD(learning_rate, l2, seed=seed)
    return model.fit(*splits["train"], validation=splits["val"])


def _search(
    splits: Splits,
    candidates: list[tuple[float, float, int]],
    selection: str,
    min_accuracy: float,
    seed: int,
    pca_type: type,
    device: str,
    meter: Any,
    ticker: _Ticker,
) -> SearchResult:
    from lepton import energy

    results: list[Candidate] = []
    fitted: list[tuple[Any, LogisticGD]] = []
    for i, (lr, l2, k) in enumerate(candidates):
        ticker.tick(f"search {i + 1}/{len(candidates)}", 0)
        with energy.measure(device, meter=meter) as reading:
            pca = pca_type(n_components=int(k)).fit(splits["train"][0])
            reduced = {
                name: (pca.transform(X), y) for name, (X, y) in splits.items() if name != "test"
            }
            model = _train(reduced, lr, l2, seed)
            predicted = to_host(model.predict(reduced["val"][0]))
            accuracy = float(np.mean(predicted == reduced["val"][1]))
        m = reading.result
        results.append(
            Candidate(
                lr, l2, int(k), accuracy, m.seconds, m.joules, model.n_epochs_, m.short_window
            )
        )
        fitted.append((pca, model))
        ticker.tick("search", 1)
    best, used, note = select(results, selection, min_accuracy)
    pca, model = fitted[best]
    X_test, y_test = splits["test"]
    test_metrics = evaluate(model, pca.transform(X_test), y_test)
    return SearchResult(tuple(results), selection, used, min_accuracy, best, note, test_metrics)
