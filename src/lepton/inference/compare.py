"""How close the int8 path is to the float model, and what each path costs, in one run."""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lepton.energy.units import report_lines
from lepton.inference.arrays import to_backend, to_host
from lepton.inference.measuring import CallCost, measure_calls

if TYPE_CHECKING:
    from lepton.inference.model import Lepton


@dataclass(frozen=True)
class Comparison:
    """Int8 vs float on the same rows. Costs are per ``predict`` call over all the rows."""

    model: str
    rows: int
    output: str  # the method whose values the errors compare: predict_proba or predict
    max_abs_error: float
    mean_abs_error: float
    label_agreement: float | None  # fraction of rows with the same label (classifiers)
    metric: str | None  # "accuracy" or "r2" when y was given
    metric_int8: float | None
    metric_float: float | None
    int8_cost: CallCost
    float_cost: CallCost

    @property
    def speedup(self) -> float:
        """Float seconds over int8 seconds (> 1: int8 is faster)."""
        return self.float_cost.seconds / self.int8_cost.seconds

    @property
    def joules_ratio(self) -> float | None:
        """Float joules over int8 joules (> 1: int8 uses less energy); None with no meter."""
        int8_j, float_j = self.int8_cost.joules, self.float_cost.joules
        if int8_j is None or float_j is None or int8_j <= 0:
            return None
        return float_j / int8_j

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["speedup"] = self.speedup
        out["joules_ratio"] = self.joules_ratio
        return out

    def __str__(self) -> str:
        lines = [
            f"{self.model} on {self.rows} rows, int8 vs float",
            f"  {self.output}: max |error| {self.max_abs_error:.3g}, "
            f"mean {self.mean_abs_error:.3g}",
        ]
        if self.label_agreement is not None:
            lines.append(f"  label agreement: {self.label_agreement:.2%}")
        if self.metric is not None:
            lines.append(
                f"  {self.metric}: int8 {self.metric_int8:.4f}, float {self.metric_float:.4f}"
            )
        for name, cost in (("int8", self.int8_cost), ("float", self.float_cost)):
            lines.append(f"  {name:>5}: {cost.seconds * 1e3:.3f} ms, {cost.joules_text}")
        ratio = self.joules_ratio
        energy = "no meter" if ratio is None else f"{ratio:.2f}x"
        lines.append(
            f"  speed-up (float s / int8 s): {self.speedup:.2f}x; joules (float / int8): {energy}"
        )
        # Wh / gCO2e / cost per 1M predictions (energy/units.py); no lines without a meter
        costs = {"int8": self.int8_cost.joules, "float": self.float_cost.joules}
        per_row = report_lines(costs, what="predictions", calls_per_call=self.rows)
        lines += [f"  {line}" for line in per_row]
        return "\n".join(lines)


def _labels_agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    y = y.astype(np.float64).reshape(pred.shape)
    residual = ((y - pred) ** 2).sum()
    total = ((y - y.mean(axis=0)) ** 2).sum()
    return float(1.0 - residual / total) if total > 0 else float("nan")


def _median_cost(costs: list[CallCost]) -> CallCost:
    joules = [c.joules for c in costs]
    return CallCost(
        seconds=statistics.median(c.seconds for c in costs),
        joules=None if any(j is None for j in joules) else statistics.median(joules),
        source=costs[0].source,
        calls=sum(c.calls for c in costs),
    )


def compare_paths(lep: Lepton, x: Any, y: Any, *, rounds: int, min_window_s: float) -> Comparison:
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        msg = f"rounds: expected an int >= 1, got {rounds!r}"
        raise ValueError(msg)
    arr, backend = to_backend(x)
    arr = lep._check_input(arr, backend.xp)
    plan = lep.plan_
    # scikit-learn models compute on the host whatever the int8 path runs on.
    float_x = to_host(arr) if plan.kind.startswith("sklearn") else arr
    reference = plan.reference
    output = "predict_proba" if "predict_proba" in plan.head.methods else "predict"

    got = to_host(lep._run(output, arr, False)).astype(np.float64)
    want = to_host(getattr(reference, output)(float_x)).astype(np.float64).reshape(got.shape)
    err = np.abs(got - want)

    labels_int8 = labels_float = None
    if plan.head.is_classifier:
        labels_int8 = to_host(lep._run("predict", arr, False))
        labels_float = to_host(reference.predict(float_x))
    elif got.ndim == 2 and got.shape[1] > 1:  # raw outputs with several columns: argmax labels
        labels_int8, labels_float = got.argmax(axis=1), want.argmax(axis=1)

    metric = metric_int8 = metric_float = None
    if y is not None:
        y_host = np.asarray(to_host(to_backend(y, "y")[0]))
        if y_host.shape[0] != arr.shape[0]:
            msg = f"y: expected {arr.shape[0]} rows (as x), got {y_host.shape[0]}"
            raise ValueError(msg)
        if labels_int8 is not None:
            metric = "accuracy"
            metric_int8 = _labels_agreement(labels_int8, y_host)
            metric_float = _labels_agreement(labels_float, y_host)
        else:
            metric, metric_int8, metric_float = "r2", _r2(y_host, got), _r2(y_host, want)

    paths = {
        "int8": lambda: lep._run("predict", arr, False),
        "float": lambda: reference.predict(float_x),
    }
    costs: dict[str, list[CallCost]] = {"int8": [], "float": []}
    for r in range(rounds):  # interleaved, alternating who goes first (heat, caches, turbo)
        for name in sorted(paths, reverse=bool(r % 2)):
            costs[name].append(measure_calls(paths[name], backend, min_window_s))

    return Comparison(
        model=plan.kind,
        rows=int(arr.shape[0]),
        output=output,
        max_abs_error=float(err.max()),
        mean_abs_error=float(err.mean()),
        label_agreement=(
            None if labels_int8 is None else _labels_agreement(labels_int8, labels_float)
        ),
        metric=metric,
        metric_int8=metric_int8,
        metric_float=metric_float,
        int8_cost=_median_cost(costs["int8"]),
        float_cost=_median_cost(costs["float"]),
    )
