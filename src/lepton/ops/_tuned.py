"""The run-time read side of the tuning cache: which config the tuner chose for this call.

The cache is one JSON file, ``tuning.json`` in ``$LEPTON_CACHE_DIR`` or else the platform's
user cache directory (``platformdirs``: ``$XDG_CACHE_HOME/lepton`` or ``~/.cache/lepton`` on
Linux). ``lepton.tune`` writes it; this module only reads, and never imports the tuner.

An entry is valid for exactly what its key names: package version, the config table's hash,
device kind, device name and driver (CPU: model and active ISA), op, input dtype, objective,
CPU thread count (``-`` on CUDA) and the exact shape tuned. ``lookup`` answers with, in order:
an entry for this exact shape, else the nearest tuned shape in the same power-of-two bucket
(each dimension in ``(2^(j-1), 2^j]``); within each, the ``energy`` entry before ``edp`` before
``time``: ``config=None`` prefers the configuration chosen for joules. Callers fall back to the
heuristic when the answer is ``None`` or cannot run their call.

The file is parsed again only when it changed (one ``stat`` per lookup); ops call ``lookup``
once per call signature and keep the answer (``lepton.ops._plan``), so a repeated call touches
no file. Files written by format 1 (keys by shape bucket, no objective or thread count) still
load: their entries are read under format 2 keys, CPU ones with an unknown thread count that
no call matches (``lepton tune show`` says so; re-tune to use them).
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from lepton import _configs, _core
from lepton._device import device_identity

FORMAT = "lepton-tuning"
FORMAT_VERSION = 2
READS_VERSIONS = (1, 2)
KEY_FIELDS = (
    "version", "table", "kind", "device", "driver", "op", "dtype", "objective", "threads",
    "shape",
)  # fmt: skip
OBJECTIVE_ORDER = ("energy", "edp", "time")  # what config=None prefers, first to last
UNKNOWN_THREADS = "?"  # format-1 CPU entries: never matches a call


class CacheWarning(UserWarning):
    """The tuning cache file was unusable (it is ignored, or set aside by a writer)."""


def cache_path() -> Path:
    """``tuning.json`` in ``$LEPTON_CACHE_DIR``, else in the platform's user cache dir."""
    root = os.environ.get("LEPTON_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("lepton", appauthor=False)
    return Path(root) / "tuning.json"


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(int(d)) for d in shape)


def shape_bucket(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Each dimension rounded up to a power of two: the bucket a tuned shape may serve."""
    return tuple(1 << max(int(d) - 1, 0).bit_length() for d in shape)


def bucket_range(shape: tuple[int, ...]) -> str:
    """The shapes a tuned ``shape`` may serve, e.g. ``"129..256 x 2049..4096"``."""
    return " x ".join(f"{b // 2 + 1}..{b}" if b > 1 else "1" for b in shape_bucket(shape))


def thread_count(device: str) -> str:
    """The key's thread field: the CPU kernels' thread count, ``-`` on a GPU."""
    return str(_core.num_threads()) if device == "cpu" else "-"


def key_parts(
    op: str,
    table_hash: str,
    shape: tuple[int, ...],
    dtype: str,
    device: str,
    objective: str,
) -> dict[str, str]:
    """The key of a result for ``op`` tuned on normalised ``device`` ("cpu" or "cuda:N")."""
    identity = device_identity(device)
    return {
        "version": str(_core.__version__),
        "table": table_hash,
        "kind": "cpu" if device == "cpu" else "cuda",
        "device": identity["name"],
        "driver": identity["driver"],
        "op": op,
        "dtype": str(dtype),
        "objective": objective,
        "threads": thread_count(device),
        "shape": shape_text(shape),
    }


def make_key(parts: dict[str, str]) -> str:
    return "|".join(parts[f] for f in KEY_FIELDS)


# --- the file format ----------------------------------------------------------------------------


def _migrate_v1(value: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """A format-1 entry under its format-2 key, or None when it lacks what a key needs."""
    old = value.get("key")
    shape = value.get("shape")
    if not isinstance(old, dict) or not isinstance(shape, list) or not shape:
        return None
    cpu = str(old.get("driver", "")).startswith("isa=")
    parts = {
        "version": str(old.get("version", "?")),
        "table": str(old.get("table", "?")),
        "kind": "cpu" if cpu else "cuda",
        "device": str(old.get("device", "?")),
        "driver": str(old.get("driver", "?")),
        "op": str(old.get("op", value.get("op", "?"))),
        "dtype": str(old.get("dtype", "?")),
        "objective": str(value.get("objective", "?")),
        "threads": UNKNOWN_THREADS if cpu else "-",
        "shape": shape_text(tuple(shape)),
    }
    migrated = {**value, "key": parts, "migrated_from_format": 1}
    return make_key(parts), migrated


def parse(text: str) -> dict[str, dict[str, Any]]:
    """The entries of a cache file (format 1 read as format 2); ``ValueError`` saying why when
    it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON ({exc.msg} at line {exc.lineno})"
        raise ValueError(msg) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = f"not a lepton tuning cache (no 'format': {FORMAT!r})"
        raise ValueError(msg)
    version = data.get("version")
    if version not in READS_VERSIONS:
        readable = " and ".join(map(str, READS_VERSIONS))
        msg = f"format version {version!r}, this lepton reads {readable}"
        raise ValueError(msg)
    entries = data.get("entries")
    if not isinstance(entries, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("config"), int) for v in entries.values()
    ):
        msg = "malformed 'entries'"
        raise ValueError(msg)
    if version == 2:
        return entries
    out: dict[str, dict[str, Any]] = {}
    for value in entries.values():
        moved = _migrate_v1(value)
        if moved is not None:
            out[moved[0]] = moved[1]
    return out


# --- the lookup ---------------------------------------------------------------------------------


class _Index:
    """A parsed file: entries by key, and tuned shapes by (key without shape, bucket)."""

    def __init__(self, entries: dict[str, dict[str, Any]]) -> None:
        self.entries = entries
        self.buckets: dict[tuple[str, tuple[int, ...]], list[tuple[tuple[int, ...], int]]] = {}
        for key, value in entries.items():
            base, _, shape_field = key.rpartition("|")
            try:
                shape = tuple(int(d) for d in shape_field.split("x"))
            except ValueError:
                continue
            slot = self.buckets.setdefault((base, shape_bucket(shape)), [])
            slot.append((shape, int(value["config"])))

    def exact(self, base: str, shape: tuple[int, ...]) -> int | None:
        entry = self.entries.get(f"{base}|{shape_text(shape)}")
        return None if entry is None else int(entry["config"])

    def nearest(self, base: str, shape: tuple[int, ...]) -> int | None:
        """The config of the tuned shape in ``shape``'s bucket nearest to it (log distance)."""
        tuned = self.buckets.get((base, shape_bucket(shape)))
        if not tuned:
            return None

        def distance(item: tuple[tuple[int, ...], int]) -> tuple[float, tuple[int, ...]]:
            other = item[0]
            if len(other) != len(shape):
                return (math.inf, other)
            return (sum(abs(math.log2(a / b)) for a, b in zip(other, shape, strict=True)), other)

        best = min(tuned, key=distance)
        return None if distance(best)[0] == math.inf else best[1]


_lock = threading.Lock()
_file: tuple[str, tuple[int, int, int], _Index] | None = None
_warned: set[str] = set()


def forget() -> None:
    """Drop the parsed file: the next lookup reads it again."""
    global _file
    with _lock:
        _file = None


def _warn_once(message: str, category: type[Warning]) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, category, stacklevel=4)


def _index() -> _Index | None:
    """The parsed cache file (parsed again only when it changed); None without a usable one."""
    global _file
    path = str(cache_path())
    try:
        st = os.stat(path)
        signature = (st.st_mtime_ns, st.st_size, st.st_ino)  # os.replace gives a new inode
        hit = _file
        if hit is not None and hit[0] == path and hit[1] == signature:
            return hit[2]
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:  # an unreadable cache must never break the op: say so, fall back
        _warn_once(
            f"lepton: reading the tuning cache {path} failed ({exc}); using the heuristic",
            RuntimeWarning,
        )
        return None
    try:
        index = _Index(parse(text))
    except (ValueError, UnicodeDecodeError) as exc:
        _warn_once(
            f"tuning cache {path} is unusable ({exc}); ignoring it (the next tuning run sets "
            "it aside and starts a new one)",
            CacheWarning,
        )
        index = _Index({})
    with _lock:
        _file = (path, signature, index)
    return index


def lookup_hashed(
    op: str, table_hash: str, shape: tuple[int, ...], dtype: str, device: str
) -> int | None:
    """The tuned config id for ``op`` on ``device`` with a table of hash ``table_hash``."""
    index = _index()
    if index is None or not index.entries:
        return None
    shape = tuple(int(d) for d in shape)
    bases = [
        make_key(key_parts(op, table_hash, shape, dtype, device, objective)).rpartition("|")[0]
        for objective in OBJECTIVE_ORDER
    ]
    for find in (index.exact, index.nearest):
        for base in bases:
            found = find(base, shape)
            if found is not None:
                return found
    return None


def lookup(op: str, shape: tuple[int, ...], dtype: str, device: str = "cpu") -> int | None:
    """The tuned config id for a call of built-in op ``op`` ("int8_gemm", "preprocess") on
    ``device`` ("cpu" or "cuda:N"), or None: use the heuristic."""
    table = _configs.TUNED_TABLES[op]["cpu" if device == "cpu" else "cuda"]
    if table not in _configs.ops_with_configs():
        return None
    return lookup_hashed(op, _configs.config_table_hash(table), shape, dtype, device)
