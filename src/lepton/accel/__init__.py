"""Zero-code-change acceleration of scikit-learn code, with a report of what ran where.

``python -m lepton.accel script.py [args]``, ``lepton.accel.install()`` or, in IPython/Jupyter,
``%load_ext lepton.accel``: the scikit-learn estimators in :mod:`lepton.accel.table` (PCA,
StandardScaler, MinMaxScaler, SimpleImputer) run on lepton's kernels where lepton supports the
parameters and the input, and run scikit-learn's own code otherwise (the reason is recorded).
Accelerated estimators are scikit-learn's classes to the user: ``isinstance``, ``repr``,
``clone``/``get_params``/``set_params``, Pipelines, GridSearchCV and pickling behave as without
accel. At exit a report says which calls ran on lepton and which fell back, with their measured
time and — where a meter can be read — joules (never estimated). ``compare=True`` also runs
scikit-learn's method on the same inputs and reports both costs and the agreement of results;
``int8=True`` (never on by default) sends MLP / linear-model ``predict`` through
``lepton.Lepton(model)`` and reports its agreement with the float model.
"""

from __future__ import annotations

import atexit
import sys
import threading
from typing import Any

from lepton.accel import _session
from lepton.accel._render import Report
from lepton.accel._session import Options, Session

__all__ = [
    "Report",
    "install",
    "is_accelerated",
    "is_installed",
    "load_ipython_extension",
    "report",
    "uninstall",
    "unload_ipython_extension",
]

# scikit-learn and the adapters are imported by install(), not by `import lepton.accel`: the
# command line installs the import hook before the script imports anything.
_lock = threading.RLock()
_patcher: Any = None
_report_at_exit = False
_atexit_registered = False


def install(*, compare: bool = False, int8: bool = False, report_at_exit: bool = True) -> None:
    """Patch the supported scikit-learn estimators, now and for every later import.

    ``compare``: also run scikit-learn's method on the same inputs, reporting both costs and
    the agreement of the results. ``int8``: MLP / linear-model ``predict`` through
    ``lepton.Lepton(model)`` (int8 weights and activations), with its agreement with the float
    model reported. ``report_at_exit``: print the report to stderr when the interpreter exits.
    Calling it again changes the options; the calls recorded so far are kept.
    """
    global _patcher, _report_at_exit, _atexit_registered
    from lepton.accel._patching import Patcher
    from lepton.accel.table import rows

    for name, value in (("compare", compare), ("int8", int8), ("report_at_exit", report_at_exit)):
        if not isinstance(value, bool):
            msg = f"{name}: expected True or False, got {value!r}"
            raise TypeError(msg)
    with _lock:
        old = _session.current()
        if _patcher is not None:
            _patcher.uninstall()
        session = Session(Options(compare=compare, int8=int8))
        if old is not None:
            session.log = old.log
        _patcher = Patcher(rows(int8=int8))
        _session.set_current(session)
        _patcher.install()
        _report_at_exit = report_at_exit
        if report_at_exit and not _atexit_registered:
            atexit.register(_print_at_exit)
            _atexit_registered = True


def uninstall() -> None:
    """Put scikit-learn's classes back; estimators made meanwhile run scikit-learn's code."""
    global _patcher, _report_at_exit
    with _lock:
        if _patcher is not None:
            _patcher.uninstall()
        _patcher = None
        _session.set_current(None)
        _report_at_exit = False


def is_installed() -> bool:
    return _session.current() is not None


def is_accelerated(obj: Any) -> bool:
    """Whether ``obj`` (an estimator or a class) is one of accel's classes."""
    from lepton.accel._patching import is_accelerated_class

    return is_accelerated_class(obj if isinstance(obj, type) else type(obj))


def _versions() -> dict[str, str]:
    import numpy
    import sklearn

    import lepton

    return {
        "lepton": lepton.__version__,
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
    }


def report() -> Report:
    """What ran where so far, with its measured cost (``str()`` it, or ``.to_dict()``)."""
    session = _session.current()
    if session is None:
        msg = "lepton.accel is not installed: call lepton.accel.install() first"
        raise RuntimeError(msg)
    return Report.from_log(session.log, session.options_dict(), session.meter_info(), _versions())


def _print_at_exit() -> None:
    if _report_at_exit and _session.current() is not None:
        print(report(), file=sys.stderr)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext lepton.accel``: install, and add ``%lepton_accel_report`` to print the report.

    Names imported before this (``from sklearn.decomposition import PCA`` in an earlier cell)
    keep scikit-learn's class: import them again after loading the extension."""
    install(report_at_exit=False)

    def lepton_accel_report(line: str = "") -> None:
        print(report())

    ipython.register_magic_function(lepton_accel_report, magic_kind="line")


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext lepton.accel``: print the report, then uninstall."""
    if is_installed():
        print(report())
    uninstall()
