"""`lepton tune OP --m .. --n .. --k ..`, `lepton tune show`, `lepton tune clear [--op OP]`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lepton import _cliutil
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
    parser.add_argument("--op", help="with 'clear': only this op's entries")
    _cliutil.add_json(parser)
    _cliutil.add_units(parser)


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
        disable=not console.is_terminal,  # no bar in logs and pipes
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def _cache(args: argparse.Namespace, out: Console) -> int:
    import lepton.tune as tune_api

    if args.target == "show":
        if args.json:
            from lepton.tune.cache import unusable_reason

            cache = tune_api.TuningCache()
            entries = cache.entries()
            unusable = {k: why for k, e in entries.items() if (why := unusable_reason(e))}
            data = {"path": str(cache.path), "entries": entries, "unusable": unusable}
            print(json.dumps(data, indent=2))
        else:
            tune_api.show(console=out)
        return 0
    if args.op is not None:
        registry.get(args.op)  # an unknown op is an error, not "removed 0 entries"
    removed = tune_api.clear(args.op)
    if args.json:
        print(json.dumps({"removed": removed, "op": args.op}))
    else:
        out.print(f"removed {removed} tuning cache entr{'y' if removed == 1 else 'ies'}")
    return 0


def _energy_lines(result: Any, args: argparse.Namespace) -> list[str]:
    """The winner's joules per call in reported units, extrapolated per 1M calls (and per day
    with --rate); nothing without a meter."""
    from lepton.energy.units import report_lines

    return report_lines(
        {f"winner {result.winner.name}": result.winner.joules},
        what="calls",
        rate_per_s=_cliutil.rate(args),
        units=_cliutil.units(args),
    )


def run(args: argparse.Namespace) -> int:
    import lepton.tune as tune_api

    prog = "lepton tune"
    out = Console()
    err = Console(stderr=True)
    if args.op is not None and args.target != "clear":
        return _cliutil.error(prog, f"--op applies to 'clear' only, not {args.target!r}")
    try:
        if args.target in _ACTIONS:
            return _cache(args, out)
        entry = registry.get(args.target)
        missing = [d for d in entry.dims if getattr(args, d) is None]
        if missing:
            return _cliutil.error(
                prog, f"{args.target} needs {' '.join('--' + d for d in missing)}"
            )
        problem = {d: getattr(args, d) for d in entry.dims}
        _cliutil.units(args)  # a bad LEPTON_GRID_INTENSITY/LEPTON_ENERGY_PRICE fails first
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
        return _cliutil.failure(prog, exc)
    lines = _energy_lines(result, args)
    if args.json:
        out_dict = result.to_dict(with_trials=False)
        out_dict["energy_units"] = lines
        print(json.dumps(out_dict, indent=2))
    else:
        out.print(result.table())
        for line in lines:
            out.print(line, markup=False)
        if result.cache_key:
            out.print(f"stored for config=None under {result.cache_key}", markup=False)
    if args.plot:
        from lepton.tune.report import plot_pareto

        path = plot_pareto(result, args.plot)
        err.print(f"wrote {path}" + ("" if result.winner.joules is not None else " (time only)"))
    return 0


COMMAND = ("tune", ("tune a kernel's configuration by joules or time", add_args, run))
