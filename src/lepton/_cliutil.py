"""What every `lepton` subcommand shares: one-line errors, install hints, the units options.

Conventions (README "Command line"): results on stdout (``--json``: one JSON document and
nothing else), progress and errors on stderr; exit 0 on success, 1 when the work ran and
failed (a benchmark suite raised), 2 when it could not start as asked (a bad argument, a
missing optional dependency) — always with one line saying why, never a traceback
(``LEPTON_DEBUG=1`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import Progress, ProgressColumn

from lepton.energy.units import ENERGY_PRICE_ENV, GRID_INTENSITY_ENV, EnergyUnits

DEBUG_ENV = "LEPTON_DEBUG"
EXIT_STATUS = (
    "exit status: 0 done; 1 the work ran and failed; 2 bad arguments or a missing optional "
    f"dependency (one line on stderr; {DEBUG_ENV}=1 shows the traceback)"
)
DISTRIBUTION = "lepton-kernels"

# Importable name -> what to install for it: an extra of this distribution, or a package.
_INSTALL = {
    "matplotlib": f"'{DISTRIBUTION}[bench]'",
    "numba": f"'{DISTRIBUTION}[bench]'",
    "threadpoolctl": f"'{DISTRIBUTION}[bench]'",
    "pandas": f"'{DISTRIBUTION}[data]'",
    "pyarrow": f"'{DISTRIBUTION}[data]'",
    "dask": f"'{DISTRIBUTION}[dask]'",
    "distributed": f"'{DISTRIBUTION}[dask]'",
    "torch": f"'{DISTRIBUTION}[torch]'",
    "cupy": f"'{DISTRIBUTION}[cuda12]' or '{DISTRIBUTION}[cuda13]' (your CUDA major version)",
    "pynvml": f"'{DISTRIBUTION}[cuda12]' (nvidia-ml-py)",
    "sklearn": "scikit-learn",
}


def install_hint(module: str | None) -> str:
    """``pip install ...`` for a module that failed to import (its top-level package)."""
    top = (module or "").split(".")[0]
    if not top or top == "lepton":
        return f"reinstall {DISTRIBUTION}"
    return f"pip install {_INSTALL.get(top, top)}"


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def error(prog: str, message: object) -> int:
    """Print ``prog: error: message`` as one line on stderr; returns exit status 2."""
    print(f"{prog}: error: {one_line(message)}", file=sys.stderr)
    return 2


def failure(prog: str, exc: BaseException) -> int:
    """The exit status and one line for an exception that stopped a subcommand before its work
    (bad arguments, missing optional dependency); ``LEPTON_DEBUG=1`` re-raises it."""
    if debug():
        raise exc
    return error(prog, import_error_text(exc) if isinstance(exc, ImportError) else exc)


def import_error_text(exc: ImportError) -> str:
    """The error, with what to install unless it says so already."""
    hint = install_hint(exc.name)
    text = str(exc)
    return text if not exc.name or hint in text else f"{text} ({hint})"


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (usage stays behind ``--help``)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def progress_bar(*columns: str | ProgressColumn) -> Progress:
    """A transient progress bar on stderr; off when stderr is not a terminal (logs, pipes)."""
    console = Console(stderr=True)
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)


def nonnegative(text: str) -> float:
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < float("inf"):
        msg = f"expected a number >= 0, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout (nothing else)"
    )


def add_units(parser: argparse.ArgumentParser, *, rate: bool = True) -> None:
    """``--grid-intensity``, ``--price`` and (with ``rate``, for reports of per-call costs)
    ``--rate``: joules also as gCO2e, cost, per day."""
    group = parser.add_argument_group(
        "energy units (shown only where a meter gave joules)",
    )
    group.add_argument(
        "--grid-intensity",
        type=nonnegative,
        metavar="G",
        help=f"grid carbon intensity in gCO2e/kWh: also show grams CO2e (env {GRID_INTENSITY_ENV})",
    )
    group.add_argument(
        "--price",
        type=nonnegative,
        metavar="P",
        help=f"energy price per kWh: also show the cost (env {ENERGY_PRICE_ENV})",
    )
    if not rate:
        return
    group.add_argument(
        "--rate",
        type=nonnegative,
        metavar="N",
        help="also extrapolate energy per day at N calls (rows, predictions) per second",
    )


def units(args: argparse.Namespace) -> EnergyUnits:
    """The energy units the options (else the environment) ask for; ValueError if invalid."""
    return EnergyUnits.resolve(getattr(args, "grid_intensity", None), getattr(args, "price", None))


def rate(args: argparse.Namespace) -> float | None:
    value: Any = getattr(args, "rate", None)
    return value
