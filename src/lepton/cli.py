"""The `lepton` command line: info, and the subcommands that the other areas register."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.table import Table

from lepton import _info

# name -> (help, function adding arguments to the subparser, function running it)
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


def _info_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


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


def _commands() -> dict[str, Command]:
    commands: dict[str, Command] = {
        "info": ("print version, CPU ISA, threads, CUDA and meters", _info_args, _info_run),
    }
    for module_name in ("lepton.tune.cli", "lepton.bench.cli", "lepton.pipeline.cli"):
        try:
            module = __import__(module_name, fromlist=["COMMAND"])
        except ImportError:
            continue
        name, command = module.COMMAND
        commands[name] = command
    return commands


def main(argv: Sequence[str] | None = None) -> int:
    commands = _commands()
    parser = argparse.ArgumentParser(prog="lepton", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_args, _) in commands.items():
        add_args(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    return commands[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
