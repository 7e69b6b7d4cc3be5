"""The persistent tuning cache: ``$LEPTON_CACHE_DIR/tuning.json`` (default ``~/.cache/lepton``).

A key names everything a tuned choice depends on: package version, the op's config-table hash,
device name and driver (CPU: model name and active ISA), op, dtype and shape bucket. Writers
take a file lock, re-read, merge and replace the file atomically, so processes tuning at once
lose nothing and readers never see half a file. A file that is not a tuning cache is moved aside
with a warning, never silently overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from lepton import _core
from lepton.energy.devices import device_identity, normalize_device
from lepton.tune import registry

FORMAT = "lepton-tuning"
FORMAT_VERSION = 1
_KEY_FIELDS = ("version", "table", "device", "driver", "op", "dtype", "bucket")


class CacheWarning(UserWarning):
    """The tuning cache file was unusable and has been moved aside."""


def cache_path() -> Path:
    root = os.environ.get("LEPTON_CACHE_DIR") or Path.home() / ".cache" / "lepton"
    return Path(root) / "tuning.json"


def shape_bucket(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Each dimension rounded up to a power of two: shapes that tune alike share an entry."""
    return tuple(1 << max(int(d) - 1, 0).bit_length() for d in shape)


# Table hashes cannot change within a process (the tables are compiled in) unless the registry
# does: memoised per (op, device), dropped on registry changes.
_hashes: dict[tuple[str, str], str] = {}


def _table_hash(entry: registry.TunableOp, device: str) -> str:
    key = (entry.name, device)
    if key not in _hashes:
        _hashes[key] = entry.table_hash(device)
    return _hashes[key]


def key_parts(op: str, shape: tuple[int, ...], dtype: str, device: str) -> dict[str, str]:
    entry = registry.get(op)
    identity = device_identity(device)
    return {
        "version": str(_core.__version__),
        "table": _table_hash(entry, device),
        "device": identity["name"],
        "driver": identity["driver"],
        "op": entry.name,
        "dtype": str(dtype),
        "bucket": "x".join(str(d) for d in shape_bucket(shape)),
    }


def make_key(parts: dict[str, str]) -> str:
    return "|".join(parts[f] for f in _KEY_FIELDS)


def _parse(text: str) -> dict[str, dict[str, Any]]:
    """The entries of a cache file; ``ValueError`` saying why when it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON ({exc.msg} at line {exc.lineno})"
        raise ValueError(msg) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = f"not a lepton tuning cache (no 'format': {FORMAT!r})"
        raise ValueError(msg)
    if data.get("version") != FORMAT_VERSION:
        msg = f"format version {data.get('version')!r}, this lepton reads {FORMAT_VERSION}"
        raise ValueError(msg)
    entries = data.get("entries")
    if not isinstance(entries, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("config"), int) for v in entries.values()
    ):
        msg = "malformed 'entries'"
        raise ValueError(msg)
    return entries


class TuningCache:
    """One cache file. Reads need no lock (files are replaced whole); writes take it."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else cache_path()
        self._lock = FileLock(str(self.path) + ".lock")

    # --- reading ------------------------------------------------------------------------------
    def entries(self) -> dict[str, dict[str, Any]]:
        """Every entry (empty when there is no file; an unusable file is set aside first)."""
        try:
            return _parse(self.path.read_text(encoding="utf-8"))
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
            return _parse(text)
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


# --- the run-time lookup ------------------------------------------------------------------------
# Ops call this on every config=None call, so the common paths are a few dict lookups and one
# stat: the parsed file is kept per path and signature (mtime, size, inode: os.replace gives a
# new inode), and the key per (op, bucket, dtype, device, ISA, version).

_memo_lock = threading.Lock()
_files: dict[str, tuple[tuple[int, int, int], dict[str, dict[str, Any]]]] = {}
_keys: dict[tuple[Any, ...], str | None] = {}
_paths: dict[str | None, str] = {}


def forget_memos() -> None:
    """Drop memoised keys and hashes (the registry calls this when an op changes)."""
    with _memo_lock:
        _keys.clear()
        _hashes.clear()


registry.on_change(forget_memos)


def _path_text() -> str:
    env = os.environ.get("LEPTON_CACHE_DIR")
    text = _paths.get(env)
    if text is None:
        text = _paths[env] = str(cache_path())
    return text


def _entries_cached(path: str) -> dict[str, dict[str, Any]] | None:
    """The file's entries, parsed again only when the file changed; ``None`` without a file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    signature = (st.st_mtime_ns, st.st_size, st.st_ino)
    hit = _files.get(path)
    if hit is not None and hit[0] == signature:
        return hit[1]
    entries = TuningCache(path).entries()
    with _memo_lock:
        _files[path] = (signature, entries)
    return entries


def _key_for(op: str, bucket: tuple[int, ...], dtype: str, device: Any) -> str | None:
    isa = _core.active_isa() if device == "cpu" else ""
    memo = (op, bucket, dtype, device, isa, _core.__version__)
    if memo in _keys:
        return _keys[memo]
    key = None
    if op in registry.names(with_aliases=True):  # else nothing can have been stored for it
        try:
            key = make_key(key_parts(op, bucket, dtype, normalize_device(device)))
        except ValueError:
            key = None  # the op has no config table in this build
    with _memo_lock:
        _keys[memo] = key
    return key


def lookup(op: str, shape: tuple[int, ...], dtype: str, device: Any = "cpu") -> int | None:
    """The tuned config id for this call, or ``None`` (no entry: the op uses its heuristic)."""
    entries = _entries_cached(_path_text())
    if not entries:
        return None
    key = _key_for(op, shape_bucket(shape), dtype, device)
    entry = None if key is None else entries.get(key)
    return None if entry is None else int(entry["config"])
