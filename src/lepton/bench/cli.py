"""`python -m bench` / `lepton bench`: run suites, print markdown, write JSON and PNG."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from lepton import _cliutil, _info
from lepton.bench import report
from lepton.bench.runner import energy_window, run_case
from lepton.bench.suites import OPT_IN, SUITES

PROG = "bench"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_facts() -> dict[str, Any]:
    facts = _info.collect()
    facts["cpu_model"] = _cpu_model()
    try:
        from threadpoolctl import threadpool_info

        facts["blas"] = [
            {k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for pool in threadpool_info()
        ]
    except ImportError:
        facts["blas"] = "threadpoolctl not installed"
    return facts


def add_args(parser: argparse.ArgumentParser) -> None:
    default = [n for n in SUITES if n not in OPT_IN]
    parser.add_argument(
        "suites", nargs="*", help=f"suites to run (default: {default}; also {sorted(OPT_IN)})"
    )
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--rounds", type=_positive_int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--min-window", type=_cliutil.nonnegative, default=0.2, help="seconds per timed window"
    )
    parser.add_argument(
        "--settle",
        type=_cliutil.nonnegative,
        default=0.3,
        help="untimed pause between windows (seconds)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--filter", default="", help="only cases whose name contains this")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--replot",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="only redraw the charts of these results files (PNG beside each)",
    )
    _cliutil.add_json(parser)
    _cliutil.add_units(parser)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected an int >= 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


class _Progress:
    """A rich bar on a terminal; one line per case on stderr otherwise (logs keep progress)."""

    def __init__(self, bar: Progress) -> None:
        self.bar, self.task, self.live = bar, None, not bar.disable

    def start(self, what: str, total: float | None) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(what, total=total)
        if not self.live:
            print(what, file=sys.stderr, flush=True)

    def step(self, what: str) -> None:
        self.bar.update(self.task, description=what, advance=1)

    def note(self, what: str) -> None:
        self.bar.update(self.task, description=what)
        if not self.live:
            print(what, file=sys.stderr, flush=True)


def _replot(paths: list[Path]) -> int:
    for path in paths:
        try:
            png = report.replot(path)
        except (OSError, ValueError, KeyError) as exc:
            return _cliutil.error(PROG, f"--replot {path}: {exc}")
        if png is None:
            return _cliutil.error(PROG, f"--replot {path}: nothing to draw or no matplotlib")
        print(f"chart: {png}")
    return 0


def _run_suite(
    name: str,
    args: argparse.Namespace,
    measure: tuple[Any, str],
    machine: dict[str, Any],
    progress: _Progress,
) -> dict[str, Any]:
    """Run one suite; returns what --json prints for it (and prints markdown otherwise)."""
    window, meter = measure
    suite = importlib.import_module(SUITES[name])
    if hasattr(suite, "study"):  # makes its own tables and files
        progress.start(f"{name}: study", None)
        text = suite.study(args.size, args.out, progress=progress.note)
        if not args.json:
            print(f"## {name} ({args.size})\n\n{text}")
        return {"status": "ok", "report": text}
    progress.start(f"{name}: making cases", None)
    cases = [c for c in suite.cases(args.size) if args.filter in c.name]
    steps = sum(len(c.impls) * (1 + args.rounds) for c in cases)
    progress.start(f"{name}: {len(cases)} cases", steps)
    results = [
        run_case(
            case,
            rounds=args.rounds,
            min_window_s=args.min_window,
            settle_s=args.settle,
            window=window,
            progress=progress.step,
        )
        for case in cases
    ]
    when = report.stamp()
    path = report.write_json(args.out, name, results, machine, when=when)
    png = None
    if not args.no_plot:
        png = report.plot(path.with_suffix(".png"), name, results, report.subtitle(machine))
    out = {"status": "ok", "json": str(path), "chart": None if png is None else str(png)}
    if args.json:
        return out | {"cases": results}
    table = report.markdown(
        results, meter, units=_cliutil.units(args), rate_per_s=_cliutil.rate(args)
    )
    print(f"## {name} ({args.size})\n\n{table}\n\nresults: {path}")
    if png:
        print(f"chart: {png}")
    print()
    return out


def run(args: argparse.Namespace) -> int:
    if args.replot:
        return _replot(args.replot)
    names = args.suites or [n for n in SUITES if n not in OPT_IN]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        return _cliutil.error(PROG, f"unknown suite(s) {unknown}; choose from {list(SUITES)}")
    try:
        _cliutil.units(args)  # LEPTON_GRID_INTENSITY / LEPTON_ENERGY_PRICE must parse
    except ValueError as exc:
        return _cliutil.error(PROG, exc)
    measure = energy_window()
    machine = machine_facts() | {"meter": measure[1], "size": args.size, "rounds": args.rounds}
    outcomes: dict[str, dict[str, Any]] = {}
    failed = []
    with _cliutil.progress_bar(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as bar:
        progress = _Progress(bar)
        for name in names:
            try:
                outcomes[name] = _run_suite(name, args, measure, machine, progress)
            except ImportError as exc:
                why = _cliutil.import_error_text(exc)
                outcomes[name] = {"status": "unavailable", "error": why}
                print(f"{PROG}: suite {name} not available: {why}", file=sys.stderr)
                if args.suites:  # asked for by name: not running it is a failure
                    failed.append(name)
            except Exception as exc:  # a suite's crash: say so, run the rest, exit 1
                traceback.print_exc()
                outcomes[name] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                print(f"{PROG}: suite {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                failed.append(name)
    if args.json:
        doc = {
            "machine": machine,
            "energy_units": _cliutil.units(args).to_dict(),
            "suites": outcomes,
            "failed": failed,
        }
        print(json.dumps(doc, indent=2))
    if failed:
        print(f"{PROG}: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _cliutil.Parser(prog=PROG, description=__doc__)
    add_args(parser)
    return run(parser.parse_args(argv))


COMMAND = ("bench", ("run the benchmark suites against peers", add_args, run))
