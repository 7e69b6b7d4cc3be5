"""`python -m bench` / `lepton bench`: run suites, print markdown, write JSON and PNG."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lepton import _info
from lepton.bench import report
from lepton.bench.runner import energy_window, run_case
from lepton.bench.suites import OPT_IN, SUITES


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
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per case")
    parser.add_argument("--min-window", type=float, default=0.2, help="seconds per timed window")
    parser.add_argument(
        "--settle", type=float, default=0.3, help="untimed pause between windows (seconds)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--filter", default="", help="only cases whose name contains this")
    parser.add_argument("--no-plot", action="store_true")


def run(args: argparse.Namespace) -> int:
    names = args.suites or [n for n in SUITES if n not in OPT_IN]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown suite(s) {unknown}; choose from {list(SUITES)}", file=sys.stderr)
        return 2
    window, meter = energy_window()
    machine = machine_facts() | {"meter": meter, "size": args.size, "rounds": args.rounds}
    for name in names:
        try:
            suite = importlib.import_module(SUITES[name])
        except ImportError as exc:
            print(f"## {name}: not available ({exc})\n")
            continue
        if hasattr(suite, "study"):  # makes its own tables and files
            print(f"## {name} ({args.size})\n")
            print(suite.study(args.size, args.out))
            continue
        cases = [c for c in suite.cases(args.size) if args.filter in c.name]
        results = []
        for case in cases:
            print(f"running {case.name} ...", file=sys.stderr, flush=True)
            results.append(
                run_case(
                    case,
                    rounds=args.rounds,
                    min_window_s=args.min_window,
                    settle_s=args.settle,
                    window=window,
                )
            )
        print(f"## {name} ({args.size})\n")
        print(report.markdown(results, meter))
        path = report.write_json(args.out, name, results, machine)
        print(f"\nresults: {path}")
        if not args.no_plot:
            png = report.plot(args.out, name, results)
            if png:
                print(f"chart: {png}")
        print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add_args(parser)
    return run(parser.parse_args(argv))


COMMAND = ("bench", ("run the benchmark suites against peers", add_args, run))
