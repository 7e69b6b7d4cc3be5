"""`lepton pipeline`: run the green pipeline and show seconds and joules per step."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

from lepton import _cliutil
from lepton.pipeline.data import FILE_SUFFIXES, SOURCES
from lepton.pipeline.search import SELECTIONS

PROG = "lepton pipeline"


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default="breast_cancer",
        metavar="NAME|FILE",
        help=(
            f"{', '.join(SOURCES)}, or your own {' / '.join(FILE_SUFFIXES)} file (numeric "
            "feature columns; needs pandas, and pyarrow for Parquet) with --target"
        ),
    )
    parser.add_argument("--target", metavar="COLUMN", help="label column of a --data file")
    parser.add_argument("--rows", type=int, default=None, help="rows (synthetic; subsample else)")
    parser.add_argument("--cols", type=int, default=None, help="columns (synthetic only)")
    parser.add_argument("--classes", type=int, default=2, help="classes (synthetic only)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--components", type=int, default=None, help="PCA size for training")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate for training")
    parser.add_argument("--l2", type=float, default=1e-3, help="L2 regularisation for training")
    parser.add_argument("--no-search", action="store_true", help="skip the hyper-parameter search")
    parser.add_argument("--select", choices=SELECTIONS, default="accuracy", help="search rule")
    parser.add_argument("--min-accuracy", type=float, default=0.0, help="for per-joule selection")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=None, help="write a PNG bar chart of joules per step")
    _cliutil.add_json(parser)
    _cliutil.add_units(parser, rate=False)  # one run, not a per-call cost: nothing to extrapolate


def _check(args: argparse.Namespace) -> None:
    builtin = args.data in SOURCES
    if builtin and args.target is not None:
        msg = f"--target: applies to a --data file; {args.data} has its own labels"
        raise ValueError(msg)
    if not builtin and args.target is None:
        msg = f"--target: name the label column of {args.data} (--target COLUMN)"
        raise ValueError(msg)


def run(args: argparse.Namespace) -> int:
    from lepton.pipeline import report
    from lepton.pipeline.run import run as run_pipeline

    columns = (
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    try:
        _check(args)
        units = _cliutil.units(args)
        with _cliutil.progress_bar(*columns) as bar:
            task = bar.add_task("pipeline", total=None)

            def progress(what: str, done: int, total: int) -> None:
                bar.update(task, description=what, completed=done, total=total)

            result = run_pipeline(
                args.data,
                args.target,
                rows=args.rows,
                cols=args.cols,
                n_classes=args.classes,
                device=args.device,
                n_components=args.components,
                learning_rate=args.lr,
                l2=args.l2,
                search=not args.no_search,
                selection=args.select,
                min_accuracy=args.min_accuracy,
                seed=args.seed,
                progress=progress,
            )
        plot = None if args.plot is None else report.plot_steps(result, args.plot)
    except (TypeError, ValueError, ImportError) as exc:
        return _cliutil.failure(PROG, exc)
    energy = report.energy_lines(result, units)
    if args.json:
        out = result.to_dict()
        out["plot"] = None if plot is None else str(plot)
        total = units.footprint(result.total_joules, "pipeline total")
        out["energy_units"] = None if total is None else total.to_dict()
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = Console()
    console.print(report.steps_table(result))
    for line in energy:
        console.print(line, markup=False)
    console.print(report.metrics_table(result))
    table = report.search_table(result)
    if table is not None:
        console.print(table)
    if plot is not None:
        console.print(f"chart: {plot}")
    return 0


COMMAND = ("pipeline", ("run the green pipeline, seconds and joules per step", add_args, run))
