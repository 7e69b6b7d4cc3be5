"""`lepton tune OP --m .. --n .. --k ..`, `lepton tune show`, `lepton tune clear [--op OP]`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lepton.tune import registry
from lepton.tune.objectives import OBJECTIVES

_ACTIONS = ("show", "clear")


def _dims() -> list[str]:
    # each dimension once, in the order the ops declare them (m, n, k for a GEMM)
    return list(dict.fromkeys(d for name in registry.names() for d in registry.get(name).dims))


def add_args(parser: argparse.ArgumentParser) -> None:
    ops = registry.names(with_aliases=True)
    parser.add_argument(
        "target",
        choices=[*ops, *_ACTIONS],
        help=(
            "op to tune (gemm = int8_gemm; preprocess: --m rows, --n columns); "
            "'show' prints the cache, 'clear' empties it"
        ),
    )
    for dim in _dims():
        parser.add_argument(f"--{dim}", type=int, help=f"problem dimension {dim}")
    parser.add_argument("--objective", choices=OBJECTIVES, default="energy")
    parser.add_argument(
        "--max-slowdown", type=float, default=1.10, help="guarantee: ≤ this × the fastest time"
    )
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for the whole run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (>= 3)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=None, help="seed for order and inputs")
    parser.add_argument("--plot", metavar="PNG", help="write the time-vs-joules scatter here")
    parser.add_argument("--no-save", action="store_true", help="do not store the winner")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--op", help="with 'clear': only this op's entries")


@contextmanager
def _progress_bar(console: Console) -> Iterator[Any]:
    labels = {
        "idle": "idle power",
        "warm-up": "warm-up",
        "screen": "screening",
        "refine": "refining",
    }
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def run(args: argparse.Namespace) -> int:
    import lepton.tune as tune_api

    out = Console()
    err = Console(stderr=True)
    if args.target == "show":
        tune_api.show(console=out)
        return 0
    if args.target == "clear":
        removed = tune_api.clear(args.op)
        out.print(f"removed {removed} tuning cache entr{'y' if removed == 1 else 'ies'}")
        return 0
    entry = registry.get(args.target)
    missing = [d for d in entry.dims if getattr(args, d) is None]
    if missing:
        err.print(f"lepton tune {args.target}: needs {' '.join('--' + d for d in missing)}")
        return 2
    problem = {d: getattr(args, d) for d in entry.dims}
    try:
        if args.plot:
            from lepton.tune.report import require_pyplot

            require_pyplot()  # fail before measuring, not after
        with _progress_bar(err) as progress:
            result = tune_api.tune(
                entry.name,
                problem,
                objective=args.objective,
                max_slowdown=args.max_slowdown,
                budget_s=args.budget,
                device=args.device,
                rounds=args.rounds,
                seed=args.seed,
                save=not args.no_save,
                progress=progress,
            )
    except (ValueError, TypeError, ImportError) as exc:
        err.print(f"lepton tune: {exc}")
        return 2
    if args.json:
        print(json.dumps(result.to_dict(with_trials=False), indent=2))
    else:
        out.print(result.table())
        if result.cache_key:
            out.print(f"stored for config=None under {result.cache_key}")
    if args.plot:
        from lepton.tune.report import plot_pareto

        path = plot_pareto(result, args.plot)
        err.print(f"wrote {path}" + ("" if result.winner.joules is not None else " (time only)"))
    return 0


COMMAND = ("tune", ("tune a kernel's configuration by joules or time", add_args, run))
