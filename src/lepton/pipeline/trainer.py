"""Logistic regression by mini-batch gradient descent, written once for numpy and cupy.

Sigmoid for two classes, softmax for more; float32 throughout; L2 regularisation; early stopping
on a validation split (the best weights seen are restored). The array namespace comes from the
data, so the same code trains on the GPU when the data is a cupy array.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from lepton.inference.arrays import namespace, to_host
from lepton.inference.heads import softmax, take_labels
from lepton.inference.layers import sigmoid

_EPS = 1e-7  # keeps log() finite on saturated probabilities


class LogisticGD:
    """Mini-batch gradient descent with momentum on the mean log loss + ``l2``/2 · ‖W‖².

    ``l2`` relates to scikit-learn's ``C`` by ``l2 = 1 / (C · n_train)`` (sklearn sums the loss
    over rows, we average it).
    """

    def __init__(
        self,
        learning_rate: float = 0.05,
        l2: float = 1e-4,
        *,
        batch_size: int | str = "auto",
        max_epochs: int = 200,
        patience: int = 5,
        tol: float = 1e-5,
        momentum: float = 0.9,
        decay: float = 0.1,
        validation_fraction: float = 0.15,
        seed: int = 0,
    ) -> None:
        self.learning_rate = learning_rate
        self.l2 = l2
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.tol = tol
        self.momentum = momentum
        self.decay = decay
        self.validation_fraction = validation_fraction
        self.seed = seed

    def _check_params(self) -> None:
        positive = {"learning_rate": self.learning_rate, "tol": self.tol}
        if not isinstance(self.decay, (int, float)) or self.decay < 0:
            msg = f"decay: expected a number >= 0, got {self.decay!r}"
            raise ValueError(msg)
        for name, value in positive.items():
            if not isinstance(value, (int, float)) or not value > 0:
                msg = f"{name}: expected a number > 0, got {value!r}"
                raise ValueError(msg)
        if not isinstance(self.l2, (int, float)) or self.l2 < 0:
            msg = f"l2: expected a number >= 0, got {self.l2!r}"
            raise ValueError(msg)
        if not isinstance(self.momentum, (int, float)) or not 0 <= self.momentum < 1:
            msg = f"momentum: expected a number in [0, 1), got {self.momentum!r}"
            raise ValueError(msg)
        if not 0 < self.validation_fraction < 1:
            msg = "validation_fraction: expected a fraction in (0, 1), "
            msg += f"got {self.validation_fraction!r}"
            raise ValueError(msg)
        for name in ("batch_size", "max_epochs", "patience"):
            value = getattr(self, name)
            if name == "batch_size" and value == "auto":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"{name}: expected an int >= 1, got {value!r}"
                raise ValueError(msg)

    def fit(self, X: Any, y: Any, *, validation: tuple[Any, Any] | None = None) -> LogisticGD:
        """Train on ``X`` (rows, features) and integer labels ``y``; ``validation=(X_val, y_val)``
        drives early stopping (default: the last ``validation_fraction`` of a shuffle of X)."""
        self._check_params()
        for fitted in ("coef_", "intercept_", "classes_"):  # a refit starts from scratch
            self.__dict__.pop(fitted, None)
        xp = namespace(X)
        X, y_host = self._check_xy(X, y, xp)
        self.classes_ = np.unique(y_host)
        rng = np.random.default_rng(self.seed)
        if validation is None:
            order = rng.permutation(X.shape[0])
            n_val = max(1, round(self.validation_fraction * X.shape[0]))
            val_idx, train_idx = xp.asarray(order[:n_val]), xp.asarray(order[n_val:])
            X_val, y_val = X[val_idx], y_host[order[:n_val]]
            X, y_host = X[train_idx], y_host[order[n_val:]]
        else:
            X_val, y_val = self._check_xy(*validation, xp)
        Y = self._targets(y_host, xp)
        Y_val = self._targets(y_val, xp)

        k = Y.shape[1]
        W = xp.zeros((X.shape[1], k), dtype=np.float32)
        b = xp.zeros((k,), dtype=np.float32)
        velocity = [xp.zeros_like(W), xp.zeros_like(b)]
        batch = self._batch_rows(X.shape[0])
        best = (float("inf"), W.copy(), b.copy(), 0)
        self.history_: list[float] = []
        stalled = 0
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            for epoch in range(1, self.max_epochs + 1):
                lr = np.float32(self.learning_rate / (1.0 + self.decay * (epoch - 1)))
                self._epoch(X, Y, W, b, velocity, lr, batch, rng, xp)
                loss = self._log_loss(X_val @ W + b, Y_val, xp)
                self.history_.append(loss)
                if not np.isfinite(loss):
                    msg = f"learning_rate: {self.learning_rate} made the loss diverge; "
                    msg += "use a smaller one"
                    raise ValueError(msg)
                if loss < best[0] - self.tol:
                    best, stalled = (loss, W.copy(), b.copy(), epoch), 0
                else:
                    stalled += 1
                    if stalled >= self.patience:
                        break
        self.best_loss_, self.coef_, self.intercept_, self.best_epoch_ = best
        self.n_epochs_ = epoch
        return self

    def decision_function(self, X: Any) -> Any:
        self._check_fitted()
        xp = namespace(X)
        X = self._check_x(X, xp)
        scores = X @ self.coef_ + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X: Any) -> Any:
        self._check_fitted()
        xp = namespace(X)
        p = self._proba(self._check_x(X, xp) @ self.coef_ + self.intercept_, xp)
        return xp.concatenate([1 - p, p], axis=1) if p.shape[1] == 1 else p

    def predict(self, X: Any) -> Any:
        """Labels (the values seen in ``y`` at fit), in ``X``'s array library."""
        scores = self.decision_function(X)
        xp = namespace(scores)
        index = (scores > 0).astype(np.int64) if scores.ndim == 1 else scores.argmax(axis=1)
        return take_labels(self.classes_, index, xp)

    # --- pieces ------------------------------------------------------------------------------
    def _batch_rows(self, n: int) -> int:
        """``"auto"``: 64 rows, or n/1000 on large data so that an epoch is ~1000 steps (on a
        GPU each step is a few kernel launches; tiny batches would be launch-bound)."""
        return max(64, n // 1000) if self.batch_size == "auto" else int(self.batch_size)

    def _epoch(
        self,
        X: Any,
        Y: Any,
        W: Any,
        b: Any,
        velocity: list[Any],
        lr: np.float32,
        batch: int,
        rng: np.random.Generator,
        xp: ModuleType,
    ) -> None:
        """One shuffled pass of momentum SGD, updating W, b and velocity in place."""
        mu, l2 = np.float32(self.momentum), np.float32(self.l2)
        vW, vb = velocity
        order = xp.asarray(rng.permutation(X.shape[0]))
        for start in range(0, X.shape[0], batch):
            idx = order[start : start + batch]
            xb = X[idx]
            residual = self._proba(xb @ W + b, xp) - Y[idx]
            scale = np.float32(1.0 / xb.shape[0])
            vW *= mu
            vW -= lr * ((xb.T @ residual) * scale + l2 * W)
            vb *= mu
            vb -= lr * (residual.sum(axis=0) * scale)
            W += vW
            b += vb

    def _targets(self, y: np.ndarray, xp: ModuleType) -> Any:
        """Binary: one column of 0/1; multiclass: one-hot over ``classes_``."""
        index = np.searchsorted(self.classes_, y)
        if self.classes_.size == 2:
            return xp.asarray(index.astype(np.float32)[:, None])
        return xp.asarray(np.eye(self.classes_.size, dtype=np.float32)[index])

    @staticmethod
    def _proba(scores: Any, xp: ModuleType) -> Any:
        return sigmoid(scores, xp) if scores.shape[1] == 1 else softmax(scores, xp)

    def _log_loss(self, scores: Any, Y: Any, xp: ModuleType) -> float:
        p = xp.clip(self._proba(scores, xp), _EPS, 1 - _EPS)
        loss = -(Y * xp.log(p))
        if Y.shape[1] == 1:  # the sigmoid's one column also scores the other class
            loss -= (1 - Y) * xp.log(1 - p)
        return float(loss.sum(axis=1).mean())

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            from sklearn.exceptions import NotFittedError

            msg = "LogisticGD is not fitted yet: call fit(X, y) first"
            raise NotFittedError(msg)

    def _check_x(self, X: Any, xp: ModuleType) -> Any:
        if X.ndim != 2:
            msg = f"X: expected a 2-D array (rows, features), got shape {X.shape}"
            raise ValueError(msg)
        if X.dtype.kind not in "biuf":
            msg = f"X: expected a real numeric array, got dtype {X.dtype}"
            raise TypeError(msg)
        if hasattr(self, "coef_") and X.shape[1] != self.coef_.shape[0]:
            msg = f"X: expected {self.coef_.shape[0]} features, got {X.shape[1]}"
            raise ValueError(msg)
        X = xp.ascontiguousarray(X, dtype=np.float32)
        if not bool(xp.isfinite(X).all()):
            msg = "X: contains NaN or inf (impute and clip first: the clean step)"
            raise ValueError(msg)
        return X

    def _check_xy(self, X: Any, y: Any, xp: ModuleType) -> tuple[Any, np.ndarray]:
        X = self._check_x(X, xp)
        y_host = np.asarray(to_host(y) if namespace(y) is not np else y)
        if y_host.ndim != 1 or y_host.shape[0] != X.shape[0]:
            msg = f"y: expected {X.shape[0]} labels (one per row of X), got shape {y_host.shape}"
            raise ValueError(msg)
        if hasattr(self, "classes_") and not np.isin(y_host, self.classes_).all():
            msg = "y: validation labels include classes not seen in training"
            raise ValueError(msg)
        if np.unique(y_host).size < 2 and not hasattr(self, "classes_"):
            msg = "y: expected at least two classes"
            raise ValueError(msg)
        return X, y_host
