"""The tuner's side of the tuning cache: writing results, listing, clearing, and saying which
entries this build and machine can still use.

The file, its format and its keys are :mod:`lepton.ops._tuned`'s (the ops read it at run time
without importing the tuner); a key names everything a tuned choice depends on: package
version, the op's config-table hash, device kind, name and driver (CPU: model name and active
ISA), op, dtype, objective, CPU thread count and the exact shape. Writers take a file lock,
re-read, merge and replace the file atomically, so processes tuning at once lose nothing and
readers never see half a file; every write drops the ops' resolved plans, so this process's next
``config=None`` call sees the new choice. A file that is not a tuning cache is moved aside with
a warning, never silently overwritten; a format-1 file is rewritten as format 2 on the first
write, its entries kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from lepton import _core
from lepton._device import device_identity, normalize_device
from lepton.ops import _plan, _tuned
from lepton.ops._tuned import (
    FORMAT,
    FORMAT_VERSION,
    UNKNOWN_THREADS,
    CacheWarning,
    cache_path,
    make_key,
    shape_bucket,
)
from lepton.tune import registry

__all__ = [
    "CacheWarning",
    "TuningCache",
    "cache_path",
    "key_parts",
    "lookup",
    "make_key",
    "shape_bucket",
    "unusable_reason",
]


def key_parts(
    op: str, shape: tuple[int, ...], dtype: str, device: Any, objective: str
) -> dict[str, str]:
    """The cache key's parts for a result of registered ``op`` (or an alias) tuned on ``device``
    for ``objective``."""
    entry = registry.get(op)
    device = normalize_device(device)
    return _tuned.key_parts(
        entry.name, entry.table_hash(device), tuple(shape), dtype, device, objective
    )


def lookup(op: str, shape: tuple[int, ...], dtype: str, device: Any = "cpu") -> int | None:
    """What ``config=None`` would run for registered ``op`` (any, not only the built-in ops:
    the table hash comes from the registry), or ``None``."""
    if op not in registry.names(with_aliases=True):
        return None  # nothing can have been stored for it
    entry = registry.get(op)
    device = normalize_device(device)
    try:
        table_hash = entry.table_hash(device)
    except ValueError:
        return None  # the op has no config table in this build
    return _tuned.lookup_hashed(entry.name, table_hash, tuple(shape), dtype, device)


def unusable_reason(entry: dict[str, Any]) -> str | None:
    """Why this build on this machine cannot use a stored entry, or None when it can.

    Compared with the running lepton: package version, the op's config table (hash and, on
    CUDA, whether the config's kernel is built), the device (a visible GPU of that name and
    driver; on the CPU this model, the active ISA and thread count).
    """
    key = entry.get("key")
    if not isinstance(key, dict):
        return "no key recorded"
    if key.get("version") != str(_core.__version__):
        return f"tuned by lepton {key.get('version')}, this is {_core.__version__}"
    op = key.get("op", "")
    if op not in registry.names(with_aliases=True):
        return f"op {op!r} is not tunable in this process"
    kind = key.get("kind")
    if kind == "cpu":
        device = "cpu"
    else:
        device = _visible_gpu(key.get("device", ""), key.get("driver", ""))
        if device is None:
            return f"no visible GPU is a {key.get('device')} with {key.get('driver')}"
    try:
        table_hash = registry.get(op).table_hash(device)
    except ValueError as exc:
        return str(exc)
    if key.get("table") != table_hash:
        return "the op's config table changed since (its ids may name other kernels)"
    if device == "cpu":
        here = device_identity("cpu")
        if key.get("device") != here["name"]:
            return f"tuned on {key.get('device')}, this CPU is {here['name']}"
        if key.get("driver") != here["driver"]:
            return f"tuned for {key.get('driver')}, the CPU kernels now run {here['driver']}"
        if key.get("threads") == UNKNOWN_THREADS:
            return "tuned by a lepton that did not record the thread count: re-tune"
        if key.get("threads") != _tuned.thread_count("cpu"):
            return (
                f"tuned with {key.get('threads')} threads, lepton now runs "
                f"{_tuned.thread_count('cpu')}"
            )
    elif op == "int8_gemm" and not _cuda_config_built(int(entry["config"])):
        return f"config {entry['config']}'s kernel is not in this build (LEPTON_CUDA_CONFIGS)"
    return None


def _visible_gpu(name: str, driver: str) -> str | None:
    """The first visible ``"cuda:N"`` with this name and driver, or None."""
    if not getattr(_core, "cuda_compiled", False):
        return None
    for index in range(_core.cuda_device_count()):
        here = device_identity(f"cuda:{index}")
        if here["name"] == name and here["driver"] == driver:
            return f"cuda:{index}"
    return None


def _cuda_config_built(config: int) -> bool:
    from lepton.ops._gemm_cuda import built_config_ids

    return config in built_config_ids()


class TuningCache:
    """One cache file. Reads need no lock (files are replaced whole); writes take it."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else cache_path()
        self._lock = FileLock(str(self.path) + ".lock")

    # --- reading ------------------------------------------------------------------------------
    def entries(self) -> dict[str, dict[str, Any]]:
        """Every entry (empty when there is no file; an unusable file is set aside first)."""
        try:
            return _tuned.parse(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError):
            with self._locked():
                return self._read_locked()

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries().get(key)

    # --- writing ------------------------------------------------------------------------------
    def put(self, key: str, value: dict[str, Any]) -> None:
        """Add or replace one entry, keeping every entry other processes wrote meanwhile."""
        if not isinstance(value.get("config"), int):
            msg = f"value: expected a dict with an int 'config', got {value!r}"
            raise ValueError(msg)
        with self._locked():
            entries = self._read_locked()
            entries[key] = value
            self._write_locked(entries)

    def remove(self, op: str | None = None) -> int:
        """Drop every entry, or those of ``op``; returns how many were dropped."""
        with self._locked():
            entries = self._read_locked()
            name = None if op is None else registry.get(op).name
            keep = {k: v for k, v in entries.items() if name is not None and v.get("op") != name}
            if len(keep) != len(entries):
                self._write_locked(keep)
            return len(entries) - len(keep)

    # --- under the lock -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            yield

    def _read_locked(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            return _tuned.parse(text)
        except (ValueError, UnicodeDecodeError) as exc:
            self._set_aside(str(exc))
            return {}

    def _set_aside(self, why: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.bad-{stamp}-{os.getpid()}")
        os.replace(self.path, target)
        warnings.warn(
            CacheWarning(
                f"tuning cache {self.path} is unusable ({why}); moved it to {target} and "
                "starting an empty cache"
            ),
            stacklevel=4,
        )

    def _write_locked(self, entries: dict[str, dict[str, Any]]) -> None:
        data = {"format": FORMAT, "version": FORMAT_VERSION, "entries": entries}
        fd, tmp = tempfile.mkstemp(prefix=".tuning-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        finally:
            _plan.forget_plans()  # this process's next config=None call reads the new file
