"""``python -m lepton.accel [options] script.py [args...]`` (or ``-m module [args...]``).

Runs the script as ``__main__`` (``sys.argv`` = the script and its arguments, its folder first
on ``sys.path``, as ``python script.py`` does) with the supported scikit-learn estimators
accelerated, then prints the report to stderr — stdout stays the script's — and with ``--json``
writes it to a file. The exit status is the script's.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback
from textwrap import dedent

from lepton import accel


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lepton.accel",
        description="Run a Python script with scikit-learn estimators accelerated by lepton.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=dedent(
            """
            examples:
              python -m lepton.accel train.py --epochs 3
              python -m lepton.accel --compare --json report.json train.py
              python -m lepton.accel -m mypackage.train
            """
        ),
        allow_abbrev=False,
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run scikit-learn's method on the same inputs; report both and the agreement",
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="MLP / linear-model predict through lepton.Lepton(model) (int8), agreement reported",
    )
    parser.add_argument("--json", metavar="PATH", help="write the report as JSON to PATH")
    parser.add_argument(
        "--quiet", action="store_true", help="do not print the report (use with --json)"
    )
    parser.add_argument("-m", dest="module", help="run a module (as python -m does)")
    parser.add_argument("script", nargs="?", help="the script to run, then its arguments")
    head, tail = _split(argv)
    ns = parser.parse_args(head)
    ns.args = tail
    if ns.module is None and ns.script is None:
        parser.error("a script (or -m module) to run is required")
    return ns


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our options, up to and including the script (or ``-m NAME``); the rest is the script's,
    whatever it looks like (``script.py --json x`` passes ``--json x`` to the script)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("--json", "-m"):
            i += 2
            if token == "-m":
                return argv[:i], argv[i:]
            continue
        if token.startswith("-") and token != "-":
            i += 1
            continue
        return argv[: i + 1], argv[i + 1 :]
    return argv, []


def _run(ns: argparse.Namespace) -> int:
    try:
        if ns.module is not None:
            sys.argv[:] = [ns.module, *ns.args]
            runpy.run_module(ns.module, run_name="__main__", alter_sys=True)
        else:
            path = ns.script
            sys.argv[:] = [path, *ns.args]
            sys.path[0] = os.path.dirname(os.path.abspath(path))
            runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    except BaseException:
        etype, value, tb = sys.exc_info()
        # The traceback starts in the user's code, as with `python script.py`: drop this
        # module's frame and runpy's.
        while tb is not None and _ours(tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next
        traceback.print_exception(etype, value, tb)
        return 1
    return 0


def _ours(filename: str) -> bool:
    return filename in (__file__, runpy.__file__) or filename.startswith("<frozen runpy")


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(sys.argv[1:] if argv is None else argv)
    if ns.module is None and not os.path.isfile(ns.script):
        print(f"python -m lepton.accel: can't open file {ns.script!r}", file=sys.stderr)
        return 2
    argv0, path0 = list(sys.argv), sys.path[0]
    accel.install(compare=ns.compare, int8=ns.int8, report_at_exit=False)
    try:
        status = _run(ns)
        sys.stdout.flush()
        result = accel.report()
        if ns.json:
            result.write_json(ns.json)
        if not ns.quiet:
            print(result, file=sys.stderr)
    finally:
        accel.uninstall()
        sys.argv[:] = argv0
        sys.path[0] = path0
    return status


if __name__ == "__main__":
    sys.exit(main())
