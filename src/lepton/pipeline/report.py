"""The pipeline's result for people: a rich table per step and a PNG bar chart."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from lepton.energy.units import EnergyUnits
from lepton.pipeline.result import PipelineResult

SHORT_MARK = "*"  # next to joules measured over less than the meter's minimum window


def _joules(value: float | None, short: bool = False) -> str:
    if value is None:
        return "no meter"
    return f"{value:.3f}{SHORT_MARK if short else ''}"


def _short_caption(result: PipelineResult) -> str:
    return (
        f"{SHORT_MARK} measured over less than the {result.meter} meter's "
        f"{result.meter_min_window_s:g} s minimum window: rough joules"
    )


def energy_lines(result: PipelineResult, units: EnergyUnits | None = None) -> list[str]:
    """The run's total energy in Wh, gCO2e and cost (as the units allow); none without joules."""
    units = EnergyUnits.resolve() if units is None else units
    total = units.footprint(result.total_joules, "pipeline total")
    return [] if total is None else [str(total)]


def steps_table(result: PipelineResult) -> Table:
    """Seconds, joules and share of the total per step (share of joules where there is a meter,
    of seconds otherwise — the column header says which)."""
    table = Table(
        title=(
            f"lepton pipeline: {result.dataset} {result.rows}×{result.cols} on {result.device} "
            f"({result.meter})"
        )
    )
    for column in ("step", "seconds", "joules", f"share ({result.share_basis})", "detail"):
        table.add_column(column, justify="left" if column in ("step", "detail") else "right")
    for s in result.steps:
        share = f"{result.share(s):.1%}"
        joules = _joules(s.joules, s.short_windows > 0)
        table.add_row(s.name, f"{s.seconds:.4f}", joules, share, s.detail)
    table.add_section()
    table.add_row("total", f"{result.total_seconds:.4f}", _joules(result.total_joules), "100%", "")
    if any(s.short_windows and s.joules is not None for s in result.steps):
        table.caption = _short_caption(result)
    return table


def metrics_table(result: PipelineResult) -> Table:
    table = Table(title="test metrics")
    table.add_column("model", no_wrap=True)
    names = list(result.metrics)
    for name in names:
        table.add_column(name, justify="right")
    params = result.params
    trained = (
        f"trained (lr {params['learning_rate']}, l2 {params['l2']}, k {params['n_components']})"
    )
    table.add_row(trained, *(f"{result.metrics[n]:.4f}" for n in names))
    if result.search is not None:
        c = result.search.chosen
        label = f"searched (lr {c.learning_rate}, l2 {c.l2}, k {c.n_components})"
        table.add_row(label, *(f"{result.search.test_metrics[n]:.4f}" for n in names))
    return table


def search_table(result: PipelineResult) -> Table | None:
    found = result.search
    if found is None:
        return None
    table = Table(
        title=f"search: selection {found.selection_used}, min accuracy {found.min_accuracy}"
    )
    for column in ("lr", "l2", "k", "val accuracy", "seconds", "joules", "epochs", "chosen"):
        table.add_column(column, justify="right")
    for i, c in enumerate(found.candidates):
        table.add_row(
            f"{c.learning_rate:g}",
            f"{c.l2:g}",
            str(c.n_components),
            f"{c.accuracy:.4f}",
            f"{c.seconds:.4f}",
            _joules(c.joules, c.short_window),
            str(c.epochs),
            "✓" if i == found.best else "",
        )
    notes = [found.note] if found.note else []
    if any(c.short_window and c.joules is not None for c in found.candidates):
        notes.append(_short_caption(result))
    if notes:
        table.caption = "; ".join(notes)
    return table


def plot_steps(result: PipelineResult, path: str | Path) -> Path:
    """A bar chart of joules per step (seconds when there is no meter, and the chart says so)."""
    try:
        import matplotlib
    except ImportError as exc:
        msg = "plot: matplotlib is needed for --plot (pip install matplotlib)"
        raise ImportError(msg) from exc
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path = Path(path)
    names = [s.name for s in result.steps]
    if result.has_energy:
        values = [s.joules or 0.0 for s in result.steps]
        ylabel, title_tail = "joules", f"energy per step ({result.meter})"
    else:
        values = [s.seconds for s in result.steps]
        ylabel, title_tail = "seconds", "time per step (no energy meter: seconds, not joules)"
    fig, ax = plt.subplots(figsize=(8, 4.5))
    try:
        bars = ax.bar(names, values, color="#3b7dd8")
        for bar, step in zip(bars, result.steps, strict=True):
            ax.annotate(
                f"{result.share(step):.0%}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=9,
            )
        ax.set_ylabel(ylabel)
        ax.set_title(
            f"lepton pipeline, {result.dataset} {result.rows}×{result.cols} on {result.device}: "
            f"{title_tail}",
            fontsize=10,
        )
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path
