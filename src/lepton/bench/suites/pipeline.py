"""Study ``pipeline``: lepton's pipeline and the same steps in numpy + scikit-learn, per step.

``python -m bench pipeline --size full`` builds the issue's data set once (synthetic, 2M × 64,
1% missing values, 0.1% outliers) and runs on it, each step inside an energy monitor:

- lepton: ``lepton.pipeline.run(dataset, device="cuda:0")`` — cupy arrays from the split on,
  ``Preprocessor`` / ``PCA`` on device arrays, the ``LogisticGD`` trainer on the GPU, NVML joules;
- numpy + scikit-learn on the CPU: the same split, ``SimpleImputer`` + clip at mean ± 3σ,
  ``StandardScaler``, ``PCA``, ``LogisticRegression`` (lbfgs, ``C = 1 / (l2 · n_train)``, the
  trainer's own regularisation), the same metrics and the same search grid; CPU joules from RAPL
  where readable, else "no meter" (VMs, including the GPU machine, often expose no RAPL).

Writes ``pipeline-<stamp>.json`` (both runs' full results) and ``pipeline.md`` (one table,
seconds and joules per step side by side). A lepton run that fails (e.g. an estimator that
does not take device arrays yet) is recorded with its error and the baseline still runs.
``--size small``: 20 000 × 16 on the CPU for both, a few seconds.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lepton.pipeline import Dataset, PipelineResult, StepRecord, evaluate, load
from lepton.pipeline.run import STEPS, _split, default_components
from lepton.pipeline.search import Candidate, SearchResult, grid, select

SIZES = {"full": (2_000_000, 64, "cuda:0"), "small": (20_000, 16, "cpu")}
LEARNING_RATES = (0.03, 0.3)
L2S = (1e-4, 1e-2)


def _clip_sigma(x: np.ndarray, mean: np.ndarray, std: np.ndarray, sigma: float) -> np.ndarray:
    return np.clip(x, mean - sigma * std, mean + sigma * std)


def _sklearn_model(l2: float, n_train: int, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    # LogisticGD minimises the mean log loss + l2/2·‖W‖²; sklearn the summed loss + ‖W‖²/(2C)
    return LogisticRegression(C=1.0 / (max(l2, 1e-12) * n_train), max_iter=200, random_state=seed)


def sklearn_pipeline(
    dataset: Dataset,
    *,
    n_components: int | None = None,
    learning_rate: float = 0.05,
    l2: float = 1e-3,
    search: bool = True,
    clip_sigma: float = 3.0,
    seed: int = 0,
    meter: Any = None,
) -> PipelineResult:
    """The pipeline's steps with numpy + scikit-learn on the CPU, measured like lepton's.

    ``learning_rate`` only names the candidate (lbfgs has no step size); the search grid is
    lepton's, so both runs fit the same number of models on the same splits.
    """
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    from lepton import energy

    monitor = energy.Monitor("cpu", meter=meter)
    records: list[StepRecord] = []

    def step(name: str, work: Callable[[], Any], detail: str) -> Any:
        with monitor.region(name):
            out = work()
        total = monitor.totals[name]
        records.append(StepRecord(name, total.seconds, total.joules, detail))
        return out

    splits = step("load", lambda: _split(dataset, 0.2, 0.2, seed, "cpu"), "split (numpy)")
    k = default_components(dataset.cols) if n_components is None else n_components

    def clean() -> dict[str, Any]:
        imputer = SimpleImputer(strategy="mean").fit(splits["train"][0])
        filled = {n: (imputer.transform(X), y) for n, (X, y) in splits.items()}
        mean, std = filled["train"][0].mean(axis=0), filled["train"][0].std(axis=0)
        return {n: (_clip_sigma(X, mean, std, clip_sigma), y) for n, (X, y) in filled.items()}

    def fit_transform(est: Any, data: dict[str, Any]) -> dict[str, Any]:
        est.fit(data["train"][0])
        return {n: (est.transform(X), y) for n, (X, y) in data.items()}

    cleaned = step("clean", clean, f"SimpleImputer mean + clip {clip_sigma}σ")
    scaled = step("normalise", lambda: fit_transform(StandardScaler(), cleaned), "StandardScaler")
    reduced = step("reduce", lambda: fit_transform(PCA(k, random_state=seed), scaled), f"PCA {k}")
    n_train = len(reduced["train"][1])
    model = step("train", lambda: _sklearn_model(l2, n_train, seed).fit(*reduced["train"]), "lbfgs")
    metrics = step("evaluate", lambda: evaluate(model, *reduced["test"]), "sklearn metrics")
    found = None
    if search:
        sizes = sorted({max(1, k // 2), k})
        candidates = grid(LEARNING_RATES, L2S, sizes)
        found = step(
            "search",
            lambda: _search(scaled, candidates, monitor, seed),
            f"{len(candidates)} candidates",
        )
    return PipelineResult(
        dataset=dataset.name, rows=dataset.rows, cols=dataset.cols,
        n_classes=dataset.n_classes, device="cpu (numpy + scikit-learn)",
        meter=monitor.meter.source if monitor.meter.has_energy else "no meter",
        steps=tuple(records), metrics=metrics,
        params={"learning_rate": learning_rate, "l2": l2, "n_components": k}, search=found,
    )  # fmt: skip


def _search(
    splits: dict[str, Any], candidates: list[tuple[float, float, int]], monitor: Any, seed: int
) -> SearchResult:
    from sklearn.decomposition import PCA

    from lepton import energy

    results, fitted = [], []
    for lr, l2, k in candidates:
        with energy.measure("cpu", meter=monitor.meter) as reading:
            pca = PCA(int(k), random_state=seed).fit(splits["train"][0])
            X_train, X_val = pca.transform(splits["train"][0]), pca.transform(splits["val"][0])
            model = _sklearn_model(l2, len(X_train), seed).fit(X_train, splits["train"][1])
            accuracy = float(np.mean(model.predict(X_val) == splits["val"][1]))
        m = reading.result
        epochs = int(np.max(model.n_iter_))
        results.append(Candidate(lr, l2, int(k), accuracy, m.seconds, m.joules, epochs))
        fitted.append((pca, model))
    best, used, note = select(results, "accuracy", 0.0)
    pca, model = fitted[best]
    test = evaluate(model, pca.transform(splits["test"][0]), splits["test"][1])
    return SearchResult(tuple(results), "accuracy", used, 0.0, best, note, test)


def _attempt(fn: Callable[[], PipelineResult]) -> dict[str, Any]:
    try:
        return fn().to_dict()
    except Exception as exc:  # recorded, not hidden: the other side still runs
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


def compare(
    dataset: Dataset,
    device: str,
    *,
    lepton_run: Callable[..., PipelineResult] | None = None,
    baseline: Callable[..., PipelineResult] = sklearn_pipeline,
    search: bool = True,
) -> dict[str, Any]:
    """Both pipelines on ``dataset``: ``{"lepton": result dict, "sklearn": result dict}``."""
    if lepton_run is None:
        from lepton.pipeline import run as lepton_run
    return {
        "lepton": _attempt(lambda: lepton_run(dataset, device=device, search=search)),
        "sklearn": _attempt(lambda: baseline(dataset, search=search)),
    }


def _cell(step: dict[str, Any] | None, key: str, fmt: str) -> str:
    if step is None:
        return "-"
    value = step[key]
    return "no meter" if value is None else format(value, fmt)


def markdown(record: dict[str, Any]) -> str:
    """Seconds and joules per step, lepton and numpy + scikit-learn side by side."""
    sides = {name: record[name] for name in ("lepton", "sklearn")}
    steps = {n: {s["name"]: s for s in side.get("steps", [])} for n, side in sides.items()}
    lines = [
        f"# Pipeline per step: {record['rows']} × {record['cols']} synthetic",
        "",
        f"lepton on {sides['lepton'].get('device', record['device'])} "
        f"(meter: {sides['lepton'].get('meter', '-')}); numpy + scikit-learn on the CPU "
        f"(meter: {sides['sklearn'].get('meter', '-')})",
        "",
        "| step | lepton s | lepton J | sklearn s | sklearn J | time × |",
        "|---|---|---|---|---|---|",
    ]
    for name in STEPS:
        mine, theirs = steps["lepton"].get(name), steps["sklearn"].get(name)
        if mine is None and theirs is None:
            continue
        ratio = (
            f"{theirs['seconds'] / mine['seconds']:.2f}"
            if mine and theirs and mine["seconds"] > 0
            else "-"
        )
        lines.append(
            f"| {name} | {_cell(mine, 'seconds', '.3f')} | {_cell(mine, 'joules', '.1f')} | "
            f"{_cell(theirs, 'seconds', '.3f')} | {_cell(theirs, 'joules', '.1f')} | {ratio} |"
        )
    lines.append("")
    for name, side in sides.items():
        if "error" in side:
            lines.append(f"- {name}: FAILED: {side['error']}")
        else:
            acc = side["metrics"]["accuracy"]
            total_j = side["total_joules"]
            lines.append(
                f"- {name}: test accuracy {acc:.4f}, total {side['total_seconds']:.2f} s, "
                + ("no meter" if total_j is None else f"{total_j:.1f} J")
            )
    lines.append("'time ×' = sklearn seconds ÷ lepton seconds.")
    return "\n".join(lines) + "\n"


def study(
    size: str,
    out_dir: Path,
    *,
    sizes: dict[str, tuple[int, int, str]] = SIZES,
    progress: Callable[[str], None] = lambda t: print(t, file=sys.stderr, flush=True),
    **options: Any,
) -> str:
    """Entry point of ``python -m bench pipeline``: run both, write JSON + markdown."""
    rows, cols, device = sizes[size]
    progress(f"pipeline: making {rows} × {cols} synthetic data")
    dataset = load("synthetic", rows=rows, cols=cols, seed=0)
    progress(f"pipeline: lepton on {device}, then numpy + scikit-learn on the CPU")
    record = {"rows": rows, "cols": cols, "device": device} | compare(dataset, device, **options)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"pipeline-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(record, indent=2, default=str))
    text = markdown(record)
    (out_dir / "pipeline.md").write_text(text)
    return text + f"\nresults: {path}\n"
