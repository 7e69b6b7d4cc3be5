"""The `lepton` command line: info, and the subcommands that the other areas register.

Conventions for every subcommand are in lepton/_cliutil.py: ``--json``, one-line errors, exit
status 0 / 1 (the work failed) / 2 (could not start as asked).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.table import Table

from lepton import _cliutil, _info

# (help, function adding arguments to the subparser, function running it)
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]

# Subcommands other areas define: name -> module with COMMAND = (name, Command). A module that
# cannot be imported still gets its name in --help, saying what to install.
_MODULES = {
    "tune": "lepton.tune.cli",
    "bench": "lepton.bench.cli",
    "pipeline": "lepton.pipeline.cli",
}


def _info_args(parser: argparse.ArgumentParser) -> None:
    _cliutil.add_json(parser)


def _info_run(args: argparse.Namespace) -> int:
    facts = _info.collect()
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    table = Table(title=f"lepton {facts['version']}", show_header=False)
    table.add_row("CPU ISA", f"{facts['cpu_isa_active']} (detected {facts['cpu_isa_detected']})")
    table.add_row("CPU paths", ", ".join(facts["cpu_isas_available"]))
    table.add_row("threads", f"{facts['threads']} (OpenMP {'yes' if facts['openmp'] else 'no'})")
    cuda = facts["cuda_compiled"]
    table.add_row("CUDA", f"compiled for {facts['cuda_architectures']}" if cuda else "not compiled")
    gpus = facts["gpus"]
    table.add_row("GPUs", "; ".join(f"{g['index']}: {g['name']}" for g in gpus) or "none")
    meters = facts["meters"]
    table.add_row(
        "energy meters",
        "; ".join(f"{m['source']}: {m['status']}" for m in meters) or "none found (no meter)",
    )
    Console().print(table)
    return 0


def _unavailable(name: str, exc: ImportError) -> Command:
    """A stand-in that keeps ``name`` in --help and says what to install when run."""
    reason = f"unavailable: {_cliutil.import_error_text(exc)}"

    def add_args(parser: argparse.ArgumentParser) -> None:
        # whatever follows is the missing command's business: take it all, then say what to do
        parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        parser.set_defaults(unavailable=True)

    def run(args: argparse.Namespace) -> int:
        return _cliutil.error(f"lepton {name}", reason)

    return (f"({reason})", add_args, run)


def _commands() -> dict[str, Command]:
    commands: dict[str, Command] = {
        "info": ("print version, CPU ISA, threads, CUDA and meters", _info_args, _info_run),
    }
    for name, module_name in _MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if _cliutil.debug():
                raise
            commands[name] = _unavailable(name, exc)
            continue
        commands[name] = module.COMMAND[1]
    return commands


def _version() -> str:
    return f"lepton {_info.version()} (distribution {_cliutil.DISTRIBUTION})"


def main(argv: Sequence[str] | None = None) -> int:
    commands = _commands()
    parser = _cliutil.Parser(
        prog="lepton",
        description="Joule-aware int8 GEMM, preprocessing and PCA kernels: `lepton COMMAND -h`.",
        epilog=_cliutil.EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_args, _) in commands.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "unavailable", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return commands[args.command][2](args)
    except (ValueError, TypeError, ImportError) as exc:
        # bad input that got past the parser: the subcommand's own validation speaks
        return _cliutil.failure(f"lepton {args.command}", exc)
    except KeyboardInterrupt:
        print(f"lepton {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
