"""Resolve once, launch many: what a call needs beyond its arrays, kept per call signature.

An op's plan for a signature (shapes, dtypes, device, requested config, and on the CPU the
active ISA and thread count) holds what does not depend on the arrays' contents: the config
id to run, chosen by ``resolve_config`` from the caller's id, the tuning cache's answer or the
heuristic, and on CUDA the workspace size. The first call of a signature resolves it (one
tuning-cache lookup, the core's checks); a repeated call finds it in a dict, validates its
arrays cheaply and launches: no file, NVML or device-attribute query (the flashinfer
plan/run and CUTLASS can_implement/initialize/run split).

Plans are dropped by ``forget_plans``: the tuner calls it when it stores or clears results (the
next call of each signature sees the new winner); call it after another process has tuned.
Changing the ISA cap or thread count needs nothing: both are part of a CPU plan's key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lepton.ops import _tuned

MAX_PLANS = 4096  # per op; a caller cycling through more signatures starts over (rare)

_all_plans: list[dict[Any, Any]] = []


def plans() -> dict[Any, Any]:
    """A new plan cache for one op (a dict: ``get`` on the hot path, ``remember`` on a miss)."""
    cache: dict[Any, Any] = {}
    _all_plans.append(cache)
    return cache


def remember(cache: dict[Any, Any], key: Any, plan: Any) -> Any:
    if len(cache) >= MAX_PLANS:
        cache.clear()
    cache[key] = plan
    return plan


def forget_plans() -> None:
    """Drop every op's resolved plans and the parsed tuning cache: the next call of each
    signature resolves again (reads the tuning cache anew)."""
    for cache in _all_plans:
        cache.clear()
    _tuned.forget()


def config_arg(config: Any, table: str) -> int:
    """An explicit config id, checked to be an int id of ``table`` (the core checks it exists)."""
    if isinstance(config, bool) or not hasattr(config, "__index__"):
        article = "an" if table[0] in "aeiou" else "a"
        msg = f"config: expected {article} {table} config id (int) or None, got {config!r}"
        raise TypeError(msg)
    value = int(config)
    if not 0 <= value < 2**31:
        msg = f"config: unknown {table} config id {value}; ids are >= 0"
        raise ValueError(msg)
    return value


def resolve_config(
    config: Any,
    table: str,
    tuned: Callable[[], int | None],
    check: Callable[[int], int] | None = None,
    default: int = -1,
) -> int:
    """The config id to run.

    ``config`` is the caller's id (checked by ``config_arg``, then by ``check``: its errors
    propagate) or None: the tuning cache's id (``tuned()``), or ``default`` (-1: the core's
    heuristic). ``check(id)`` is the core's "can this id run this call" (it returns the id to
    run, the heuristic's choice for -1); a tuned id it refuses falls back to ``default``, as
    does one the tuner stored for a neighbouring shape that this shape cannot use.
    """
    if config is not None:
        cfg = config_arg(config, table)
        return cfg if check is None else check(cfg)
    cached = tuned()
    if cached is not None:
        try:
            return cached if check is None else check(cached)
        except ValueError:
            pass  # tuned for another build, output or neighbouring shape: not for this call
    return default if check is None else check(default)
