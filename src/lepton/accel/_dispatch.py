"""One call of a patched method: lepton when the implementation can run it, else scikit-learn's
own method; recorded either way, and with ``--compare`` set against scikit-learn's result.

Calls made while another patched call is running (scikit-learn's ``fit_transform`` calling
``self.fit``, a fallback's inner calls, a comparison's scikit-learn run) go straight to
scikit-learn's method: a fallback is scikit-learn throughout, and one user call is one record.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from lepton._sklearn_original import ORIGINAL
from lepton.accel._agreement import Agreement
from lepton.accel._report import CallRecord, Comparison
from lepton.accel._session import Session, current
from lepton.accel.adapters.base import (
    FITTING,
    Call,
    Implementation,
    Unsupported,
    common_reason,
)
from lepton.accel.table import Row

_depth = threading.local()
_implementations: dict[str, Implementation] = {}


@contextlib.contextmanager
def _inside() -> Iterator[None]:
    _depth.n = getattr(_depth, "n", 0) + 1
    try:
        yield
    finally:
        _depth.n -= 1


def _nested() -> bool:
    return getattr(_depth, "n", 0) > 0


def implementation(row: Row) -> Implementation:
    """The row's implementation object, imported once."""
    impl = _implementations.get(row.implementation)
    if impl is None:
        module, _, attr = row.implementation.partition(":")
        impl = getattr(importlib.import_module(module), attr)
        _implementations[row.implementation] = impl
    return impl


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")


def _describe(X: Any) -> tuple[tuple[int, ...] | None, str | None]:
    shape = getattr(X, "shape", None)
    dtype = getattr(X, "dtype", None)
    try:
        shape = tuple(int(s) for s in shape) if shape is not None else None
    except TypeError:
        shape = None
    return shape, (str(dtype) if dtype is not None else None)


def accelerated_method(row: Row, original_cls: type, name: str) -> Callable[..., Any]:
    """The patched ``name`` of ``original_cls``: same signature, same docstring."""
    original = getattr(original_cls, name)
    sig = inspect.signature(original)
    params = list(sig.parameters.values())
    self_name = params[0].name
    var_kw = next((p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD), None)

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        session = current()
        if session is None or _nested():
            return original(self, *args, **kwargs)
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError:  # scikit-learn raises its own message for a wrong call
            return original(self, *args, **kwargs)
        return _dispatch(session, row, original, bound, self_name, var_kw, name)

    return method


def _dispatch(
    session: Session,
    row: Row,
    original: Callable[..., Any],
    bound: inspect.BoundArguments,
    self_name: str,
    var_kw: str | None,
    name: str,
) -> Any:
    est = bound.arguments[self_name]
    arguments = {k: v for k, v in bound.arguments.items() if k not in (self_name, var_kw)}
    call = Call(name, arguments, dict(bound.arguments.get(var_kw, {})) if var_kw else {})
    impl = implementation(row)
    shape, dtype = _describe(call.X)
    reason = _reason(est, impl, call)
    if reason is None:
        theirs = None
        if session.options.compare or impl.always_compare:
            theirs = _SklearnSide(session, impl, est, original, bound, self_name, call)
            # Alternate which side runs first: the second finds small inputs in cache.
            if session.sklearn_first():
                theirs.run()
        try:
            with _inside(), session.metered() as box:
                result = impl.run(est, call)
        except Unsupported as e:
            reason = str(e)
        except (ValueError, TypeError) as e:
            # Kernels and checks raise these for inputs they do not take; scikit-learn's method
            # then decides (and raises its own error where the input is invalid).
            reason = f"lepton raised {_first_line(e)}"
        else:
            comparison = None
            if theirs is not None:
                theirs.run()
                comparison = theirs.comparison(result)
            session.log.add(
                CallRecord(row.label, name, impl.ran_on, None, box.cost, shape, dtype,
                           comparison=comparison)
            )  # fmt: skip
            return result
    error = None
    box = None
    try:
        with _inside(), session.timed() as box:
            return original(*bound.args, **bound.kwargs)
    except BaseException as e:
        error = _first_line(e)
        raise
    finally:
        cost = box.cost if box is not None else None
        if cost is not None:
            session.log.add(
                CallRecord(row.label, name, "sklearn", reason, cost, shape, dtype, error=error)
            )


def _reason(est: Any, impl: Implementation, call: Call) -> str | None:
    cls = type(est)
    if ORIGINAL not in cls.__dict__:
        return (
            f"{cls.__qualname__} subclasses the accelerated class: its own code may rely on "
            "scikit-learn's internals"
        )
    return common_reason(est, call.X) or impl.unsupported(est, call)


def _twin(est: Any, method: str) -> Any:
    """Who runs scikit-learn's side: a fresh scikit-learn estimator with the same parameters for
    a fitting method; for the others the fitted estimator itself (scikit-learn's transform and
    predict read the fitted state and leave it as it is)."""
    if method not in FITTING:
        return est
    original = type(est).__dict__[ORIGINAL]
    twin = original(**est.get_params(deep=False))
    config = getattr(est, "_sklearn_output_config", None)
    if config is not None:
        twin._sklearn_output_config = dict(config)
    return twin


class _SklearnSide:
    """scikit-learn's method on the same inputs (a copy of X where lepton's call writes into
    it), measured in its own window; run once, before or after lepton's call."""

    def __init__(
        self,
        session: Session,
        impl: Implementation,
        est: Any,
        original: Callable[..., Any],
        bound: inspect.BoundArguments,
        self_name: str,
        call: Call,
    ) -> None:
        self.session, self.impl, self.est, self.call = session, impl, est, call
        self.original = original
        self.twin = _twin(est, call.method)
        self.bound = inspect.BoundArguments(bound.signature, dict(bound.arguments))
        self.bound.arguments[self_name] = self.twin
        if impl.writes_input(est, call):
            self.bound.arguments["X"] = np.array(call.X, copy=True)
        self.done = False
        self.result: Any = None
        self.failed: str | None = None
        self.cost: Any = None

    def run(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            with _inside(), self.session.metered() as box:
                self.result = self.original(*self.bound.args, **self.bound.kwargs)
        except Exception as e:
            self.failed = f"scikit-learn raised {_first_line(e)} where lepton did not"
        self.cost = box.cost

    def comparison(self, ours: Any) -> Comparison:
        if self.failed is not None:
            return Comparison(self.cost, Agreement({}, False, self.failed))
        theirs = None if self.result is self.twin else self.result
        agreement = self.impl.agreement(
            self.est, self.twin, self.call, _plain(ours, self.est), _plain(theirs, self.twin)
        )
        return Comparison(self.cost, agreement)


def _plain(value: Any, est: Any) -> Any:
    """Outputs as arrays (scikit-learn's set_output may have made a DataFrame)."""
    if value is None or value is est:
        return None
    if hasattr(value, "to_numpy"):
        return value.to_numpy()
    return value
