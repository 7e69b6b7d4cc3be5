"""The kernel families the tuner knows: one entry per op.

An entry says what a problem's dimensions are called, where the op's configuration table and its
hash come from, how to build inputs for a shape and run one configuration on them, and how much
work one call does. A new kernel family plugs in with ``register(TunableOp(...))``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton._configs import config_table, config_table_hash, tuned_table
from lepton.tune.problem import Problem  # the inputs an entry's prepare() builds


@dataclass(frozen=True)
class TunableOp:
    name: str
    dims: tuple[str, ...]  # problem dimension names, in shape order: ("m", "n", "k")
    configs: Callable[[str], list[dict[str, Any]]]  # device -> config table
    table_hash: Callable[[str], str]  # device -> hash of that table (part of cache keys)
    prepare: Callable[[tuple[int, ...], str, int | None], Problem]  # (shape, device, seed)
    dtype: str = "int8"
    aliases: tuple[str, ...] = ()
    efficiency_unit: str = "TOPS/J"  # work_ops / joules / efficiency_scale
    efficiency_scale: float = 1e12
    description: str = ""


_REGISTRY: dict[str, TunableOp] = {}
_ALIASES: dict[str, str] = {}


def register(entry: TunableOp, *, replace: bool = False) -> None:
    """Make ``entry`` tunable under its name and aliases."""
    names = (entry.name, *entry.aliases)
    taken = [n for n in names if (n in _REGISTRY or n in _ALIASES) and not replace]
    if taken:
        msg = f"op: {', '.join(taken)} already registered (pass replace=True)"
        raise ValueError(msg)
    if replace:
        unregister(entry.name)
    _REGISTRY[entry.name] = entry
    for alias in entry.aliases:
        _ALIASES[alias] = entry.name


def unregister(name: str) -> None:
    entry = _REGISTRY.pop(_ALIASES.get(name, name), None)
    if entry is None:
        return
    for alias in entry.aliases:
        _ALIASES.pop(alias, None)


def get(name: str) -> TunableOp:
    """The entry for ``name`` or one of its aliases."""
    entry = _REGISTRY.get(_ALIASES.get(name, name)) if isinstance(name, str) else None
    if entry is None:
        msg = f"op: expected one of {', '.join(repr(n) for n in names())}, got {name!r}"
        raise ValueError(msg)
    return entry


def names(*, with_aliases: bool = False) -> list[str]:
    return sorted([*_REGISTRY, *_ALIASES] if with_aliases else _REGISTRY)


def parse_shape(entry: TunableOp, problem: Any) -> tuple[int, ...]:
    """A problem as ``{"m": 256, ...}`` or a sequence in ``entry.dims`` order -> shape tuple."""
    if isinstance(problem, Mapping):
        missing = [d for d in entry.dims if d not in problem]
        extra = [k for k in problem if k not in entry.dims]
        if missing or extra:
            msg = (
                f"problem: {entry.name} needs dimensions {', '.join(entry.dims)}"
                f"{'; missing ' + ', '.join(missing) if missing else ''}"
                f"{'; unknown ' + ', '.join(map(str, extra)) if extra else ''}"
            )
            raise ValueError(msg)
        values: Sequence[Any] = [problem[d] for d in entry.dims]
    elif isinstance(problem, Sequence) and not isinstance(problem, str):
        values = problem
    else:
        msg = (
            f"problem: expected a mapping of {', '.join(entry.dims)} or a sequence, got {problem!r}"
        )
        raise TypeError(msg)
    if len(values) != len(entry.dims):
        msg = f"problem: {entry.name} has {len(entry.dims)} dimensions ({', '.join(entry.dims)})"
        raise ValueError(msg)
    shape = []
    for dim, value in zip(entry.dims, values, strict=True):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            msg = f"problem: {dim} must be an int, got {value!r}"
            raise TypeError(msg)
        if value < 1:
            msg = f"problem: {dim} must be >= 1, got {value}"
            raise ValueError(msg)
        shape.append(operator.index(value))
    return tuple(shape)


# --- INT8 GEMM ----------------------------------------------------------------------------------


def _gemm_configs(device: str) -> list[dict[str, Any]]:
    return config_table(tuned_table("int8_gemm", device))


def _gemm_hash(device: str) -> str:
    return config_table_hash(tuned_table("int8_gemm", device))


def _gemm_prepare(shape: tuple[int, ...], device: str, seed: int | None) -> Problem:
    from lepton import ops

    m, n, k = shape
    if device != "cpu":  # inputs on the device, launches batched when calls are short
        from lepton.tune.cuda_problem import gemm_problem

        return gemm_problem(shape, device, seed)
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
    b = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
    work = 2.0 * m * n * k
    return Problem(shape, "int8", lambda config: ops.int8_gemm(a, b, config=config), None, work)


register(
    TunableOp(
        name="int8_gemm",
        dims=("m", "n", "k"),
        configs=_gemm_configs,
        table_hash=_gemm_hash,
        prepare=_gemm_prepare,
        dtype="int8",
        aliases=("gemm",),
        description="int8 A (M, K) × B (N, K)ᵀ -> int32 (M, N)",
    )
)


# --- Fused preprocessing (CPU table "preprocess", CUDA table "preprocess_cuda") ---------------


def _preprocess_configs(device: str) -> list[dict[str, Any]]:
    return config_table(tuned_table("preprocess", device))


def _preprocess_hash(device: str) -> str:
    return config_table_hash(tuned_table("preprocess", device))


def _preprocess_prepare(shape: tuple[int, ...], device: str, seed: int | None) -> Problem:
    from lepton import ops

    tuned_table("preprocess", device)  # a build without the table says so before any work
    rows, cols = shape
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, size=(rows, cols)).astype(np.float32)
    x[rng.random(x.shape) < 0.01] = np.nan  # the imputing path runs as in real data
    # Bytes moved per call: the statistics pass reads x, the apply pass reads x and writes out.
    work = float(3 * x.nbytes)
    if device != "cpu":
        from lepton.tune.cuda_problem import preprocess_problem

        return preprocess_problem(x, device, work)
    # One output buffer for every call: a fresh one would time the OS zeroing its pages.
    out = np.empty_like(x)

    def run(config: int) -> Any:
        return ops.preprocess(x, clip_sigma=3.0, out=out, config=config)

    return Problem(shape, "float32", run, None, work)


register(
    TunableOp(
        name="preprocess",
        dims=("m", "n"),
        configs=_preprocess_configs,
        table_hash=_preprocess_hash,
        prepare=_preprocess_prepare,
        dtype="float32",
        aliases=("prep",),
        efficiency_unit="GB/J",
        efficiency_scale=1e9,
        description="impute -> clip -> standard-scale float32 (M rows, N columns), both passes "
        "(CPU or CUDA)",
    )
)
