"""Loading: arrays, a pandas DataFrame, a CSV or Parquet file, a data set scikit-learn ships,
or generated data.

Nothing is downloaded: ``breast_cancer`` and ``digits`` are files inside scikit-learn, and
``synthetic`` is ``make_classification`` at any size, with a few missing values and outliers
added so that the cleaning step has work to do. Files are read with pandas (and pyarrow for
Parquet), the optional ``[data]`` extra; feature columns must be numeric (empty cells become
NaN, which the clean step imputes), the label column may hold anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lepton import _validate

BUNDLED = ("breast_cancer", "digits")
SOURCES = (*BUNDLED, "synthetic")
FILE_SUFFIXES = (".csv", ".parquet", ".pq")
_DATA_EXTRA = "pip install 'lepton-kernels[data]'"


@dataclass(frozen=True)
class Dataset:
    X: np.ndarray  # (rows, cols) float32, NaN where a value is missing
    y: np.ndarray  # (rows,) int64 class indices 0..n_classes-1
    name: str
    classes: np.ndarray  # original label of each class index
    feature_names: tuple[str, ...]

    @property
    def rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def cols(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.classes.size)


def load(
    source: Any = "breast_cancer",
    y: Any = None,
    *,
    rows: int | None = None,
    cols: int | None = None,
    n_classes: int = 2,
    missing: float = 0.01,
    outliers: float = 0.001,
    seed: int = 0,
) -> Dataset:
    """A :class:`Dataset` from ``source``.

    ``source``: ``"breast_cancer"`` / ``"digits"`` (``rows`` subsamples them), ``"synthetic"``
    (``rows`` × ``cols``, ``n_classes``, with a ``missing`` fraction of NaN and an ``outliers``
    fraction of values blown up 20σ), a 2-D numpy array with labels ``y``, a pandas DataFrame
    with ``y`` a column name or a label array, or the path of a ``.csv`` / ``.parquet`` file
    with ``y`` the name of its label column.
    """
    seed = _count(seed, "seed", minimum=0)
    if _is_file(source):
        return _from_file(Path(source), y)
    if isinstance(source, str):
        if source not in SOURCES:
            names = ", ".join(SOURCES)
            msg = f"source: expected one of {names} or a .csv / .parquet file, got {source!r}"
            raise ValueError(msg)
        if source == "synthetic":
            if y is not None:
                msg = (
                    "y: synthetic data makes its own labels; pass y only with arrays or a DataFrame"
                )
                raise ValueError(msg)
            return _synthetic(rows, cols, n_classes, missing, outliers, seed)
        if cols is not None:
            msg = f"cols: applies to synthetic data only; {source} has a fixed set of columns"
            raise ValueError(msg)
        return _bundled(source, rows, seed)
    if type(source).__module__.split(".")[0] == "pandas":
        return _from_dataframe(source, y)
    return _from_arrays(source, y, "array")


def _is_file(source: Any) -> bool:
    if isinstance(source, os.PathLike):
        return True
    return (
        isinstance(source, str)
        and source not in SOURCES
        and (source.lower().endswith(FILE_SUFFIXES) or os.sep in source)
    )


def _from_file(path: Path, y: Any) -> Dataset:
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        msg = f"source: expected a {' / '.join(FILE_SUFFIXES)} file, got {str(path)!r}"
        raise ValueError(msg)
    if not path.is_file():
        msg = f"source: no such file {str(path)!r}"
        raise ValueError(msg)
    if not isinstance(y, str):
        msg = f"y: name the label column of {path.name} (CLI: --target COLUMN), got {y!r}"
        raise ValueError(msg)
    try:
        import pandas as pd
    except ImportError as exc:
        msg = f"source: reading {path.name} needs pandas ({_DATA_EXTRA})"
        raise ImportError(msg, name="pandas") from exc
    if suffix == ".csv":
        frame = pd.read_csv(path)
    else:
        try:
            frame = pd.read_parquet(path)
        except ImportError as exc:  # pandas names the engines it tried
            msg = f"source: reading {path.name} needs pyarrow ({_DATA_EXTRA})"
            raise ImportError(msg, name="pyarrow") from exc
    data = _from_dataframe(frame, y)
    return Dataset(data.X, data.y, path.name, data.classes, data.feature_names)


def _count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        msg = f"{name}: expected an int >= {minimum}, got {value!r}"
        raise ValueError(msg)
    return int(value)


def _fraction(value: Any, name: str) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        msg = f"{name}: expected a fraction in [0, 1), got {value!r}"
        raise ValueError(msg)
    return float(value)


def _synthetic(
    rows: int | None,
    cols: int | None,
    n_classes: int,
    missing: float,
    outliers: float,
    seed: int,
) -> Dataset:
    from sklearn.datasets import make_classification

    rows = _count(10_000 if rows is None else rows, "rows", minimum=10)
    cols = _count(20 if cols is None else cols, "cols", minimum=2)
    n_classes = _count(n_classes, "n_classes", minimum=2)
    missing, outliers = _fraction(missing, "missing"), _fraction(outliers, "outliers")
    informative = max(2, cols // 2)
    if 2 * n_classes > 2**informative:  # make_classification puts 2 clusters per class
        msg = f"n_classes: {n_classes} classes need more than {cols} columns"
        raise ValueError(msg)
    X, labels = make_classification(
        n_samples=rows,
        n_features=cols,
        n_informative=informative,
        n_redundant=min(cols - informative, max(0, cols // 4)),
        n_classes=n_classes,
        class_sep=1.0,
        random_state=seed,
    )
    X = X.astype(np.float32)
    rng = np.random.default_rng(seed)
    # Outliers first, then holes: a value cannot be both.
    blown = rng.random(X.shape, dtype=np.float32) < outliers
    X[blown] *= np.float32(20.0)
    X[rng.random(X.shape, dtype=np.float32) < missing] = np.nan
    names = tuple(f"x{i}" for i in range(cols))
    return Dataset(X, labels.astype(np.int64), "synthetic", np.arange(n_classes), names)


def _bundled(name: str, rows: int | None, seed: int) -> Dataset:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    X = np.asarray(bunch.data, dtype=np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    if rows is not None:
        rows = _count(rows, "rows", minimum=10)
        if rows > X.shape[0]:
            msg = f"rows: {name} has {X.shape[0]} rows, asked for {rows}"
            raise ValueError(msg)
        keep = np.sort(np.random.default_rng(seed).permutation(X.shape[0])[:rows])
        X, labels = X[keep], labels[keep]
    classes = np.asarray(bunch.target_names if name == "breast_cancer" else np.arange(10))
    names = tuple(str(f) for f in getattr(bunch, "feature_names", range(X.shape[1])))
    return Dataset(np.ascontiguousarray(X), labels, name, classes, names)


def _from_dataframe(frame: Any, y: Any) -> Dataset:
    if isinstance(y, str):
        if y not in frame.columns:
            msg = f"y: column {y!r} is not in the DataFrame (columns: {list(frame.columns)})"
            raise ValueError(msg)
        labels, frame = frame[y].to_numpy(), frame.drop(columns=[y])
    else:
        labels = y
    non_numeric = [str(c) for c, kind in frame.dtypes.items() if kind.kind not in "biuf"]
    if non_numeric:
        msg = (
            f"source: feature columns must be numeric; these are not: {non_numeric} "
            "(drop or encode them first)"
        )
        raise TypeError(msg)
    X = frame.to_numpy(dtype=np.float32, na_value=np.nan)
    data = _from_arrays(X, labels, "DataFrame")
    return Dataset(data.X, data.y, data.name, data.classes, tuple(str(c) for c in frame.columns))


def _from_arrays(X: Any, y: Any, name: str) -> Dataset:
    X = _validate.host_array(X, "source", ndim=2)
    if X.dtype.kind not in "biuf":
        msg = f"source: expected a numeric (rows, cols) array, got dtype {X.dtype}"
        raise TypeError(msg)
    if y is None:
        msg = "y: labels are required with array or DataFrame data"
        raise ValueError(msg)
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
        msg = f"y: expected {X.shape[0]} labels (one per row), got shape {labels.shape}"
        raise ValueError(msg)
    missing = _missing_labels(labels)
    if missing:
        msg = f"y: {missing} rows have no label (NaN or None); drop them first"
        raise ValueError(msg)
    classes, index = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        msg = f"y: expected at least two classes, got {classes.size}"
        raise ValueError(msg)
    X = np.ascontiguousarray(X, dtype=np.float32)
    names = tuple(f"x{i}" for i in range(X.shape[1]))
    return Dataset(X, index.astype(np.int64), name, classes, names)


def _missing_labels(labels: np.ndarray) -> int:
    if labels.dtype.kind == "f":
        return int(np.isnan(labels).sum())
    if labels.dtype.kind == "O":
        return sum(1 for v in labels if v is None or (isinstance(v, float) and v != v))
    return 0
