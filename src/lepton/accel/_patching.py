"""Putting the accelerated classes where scikit-learn's are, and taking them away again.

Each table row's class is replaced in its defining module (``sklearn.decomposition._pca``) and in
the public module (``sklearn.decomposition``). Modules not imported yet are patched by an import
hook the moment they finish executing — before the package's ``from ._pca import PCA`` runs —
so every later import, the user's and scikit-learn's own, gets the accelerated class (the
approach of ``cuml.accel``'s module hook; ``sklearnex.patch_sklearn`` sets the attributes of
already-imported modules, which is what happens here for modules loaded before ``install``).
A name bound earlier (``from sklearn.decomposition import PCA`` run before ``install``) keeps
scikit-learn's class.

The accelerated class is a subclass of scikit-learn's with its module, name and docstring, so
``isinstance``, ``repr``, ``get_params``/``clone``, tags, ``set_output`` and metadata routing are
scikit-learn's; its metaclass also makes instances of scikit-learn's own class count as instances
of it. Pickles name scikit-learn's class: they load anywhere, accelerated where accel is on.
"""

from __future__ import annotations

import copyreg
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

from lepton._sklearn_original import ORIGINAL
from lepton.accel._dispatch import accelerated_method
from lepton.accel.table import Row

_accelerated: dict[type, type] = {}  # scikit-learn class -> its accelerated class (one each)
_metaclasses: dict[type, type] = {}
_lock = threading.RLock()


def _metaclass(base: type) -> type:
    """A metaclass over ``base`` for which scikit-learn's instances are instances of the
    accelerated class (only the accelerated class itself, not classes derived from it)."""
    meta = _metaclasses.get(base)
    if meta is None:
        # By the MRO, not by isinstance/issubclass on scikit-learn's class: ABCMeta answers
        # those by asking each subclass — this class among them — which would ask again.
        def __instancecheck__(cls: type, obj: Any) -> bool:
            original = cls.__dict__.get(ORIGINAL)
            if original is not None:
                return original in type(obj).__mro__
            return base.__instancecheck__(cls, obj)

        def __subclasscheck__(cls: type, sub: type) -> bool:
            original = cls.__dict__.get(ORIGINAL)
            if original is not None:
                return original in getattr(sub, "__mro__", ())
            return base.__subclasscheck__(cls, sub)

        meta = type(
            f"Accelerated{base.__name__.capitalize()}",
            (base,),
            {"__instancecheck__": __instancecheck__, "__subclasscheck__": __subclasscheck__},
        )
        _metaclasses[base] = meta
    return meta


def _is_bound(cls: type) -> bool:
    module = sys.modules.get(cls.__module__)
    return module is not None and module.__dict__.get(cls.__name__) is cls


def _reduce_ex(self: Any, protocol: Any) -> Any:
    """Pickle as scikit-learn's class whenever the accelerated one is not where its name points
    (accel uninstalled since): the state is scikit-learn's own fitted attributes either way."""
    rv = object.__reduce_ex__(self, protocol)
    cls = type(self)
    original = cls.__dict__.get(ORIGINAL)
    if original is None or _is_bound(cls) or not isinstance(rv, tuple) or len(rv) < 3:
        return rv
    # copyreg's own reconstructor: loads anywhere scikit-learn is, without lepton.
    return (copyreg._reconstructor, (original, object, None), *rv[2:])


def accelerated_class(row: Row, original: type) -> type:
    """The accelerated subclass of ``original`` (made once per scikit-learn class)."""
    with _lock:
        cls = _accelerated.get(original)
        if cls is not None:
            return cls
        namespace: dict[str, Any] = {
            "__module__": original.__module__,
            "__qualname__": original.__qualname__,
            "__doc__": original.__doc__,
            ORIGINAL: original,
            "_lepton_row": row,
            "__reduce_ex__": _reduce_ex,
        }
        for name in row.methods:
            namespace[name] = accelerated_method(row, original, name)
        cls = _metaclass(type(original))(original.__name__, (original,), namespace)
        _accelerated[original] = cls
        return cls


def is_accelerated_class(value: Any) -> bool:
    return isinstance(value, type) and ORIGINAL in value.__dict__


class _PostImportLoader(importlib.abc.Loader):
    """Runs the real loader, then ``callback(module)``; the module keeps the real loader."""

    def __init__(self, loader: Any, callback: Callable[[types.ModuleType], None]) -> None:
        self._loader = loader
        self._callback = callback

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._callback(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Watches the modules named in ``watched``; finds them with the other finders, then makes
    their loader call back once the module has executed."""

    def __init__(self, watched: set[str], callback: Callable[[types.ModuleType], None]) -> None:
        self.watched = watched
        self._callback = callback
        self._busy = threading.local()

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.watched or getattr(self._busy, "name", None) == fullname:
            return None
        self._busy.name = fullname
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._busy.name = None
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PostImportLoader(spec.loader, self._callback)
        return spec


class Patcher:
    """Patches the rows' classes into scikit-learn now and on import; restores them."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = tuple(rows)
        self._by_module: dict[str, list[Row]] = {}
        for row in self.rows:
            self._by_module.setdefault(row.module, []).append(row)
            self._by_module.setdefault(row.public, []).append(row)
        self._finder: _Finder | None = None

    def install(self) -> None:
        with _lock:
            self._finder = _Finder(set(self._by_module), self._patch_module)
            sys.meta_path.insert(0, self._finder)
            # Defining modules first: the public module then takes the class they now hold.
            for row in self.rows:
                for name in (row.module, row.public):
                    module = sys.modules.get(name)
                    if module is not None:
                        self._patch_module(module)

    def _patch_module(self, module: types.ModuleType) -> None:
        for row in self._by_module.get(module.__name__, ()):
            value = module.__dict__.get(row.name)
            if not isinstance(value, type) or is_accelerated_class(value):
                continue
            setattr(module, row.name, accelerated_class(row, value))

    def uninstall(self) -> None:
        """Remove the hook; every scikit-learn module holding an accelerated class gets
        scikit-learn's back (the user's own modules keep what they imported)."""
        with _lock:
            if self._finder is not None and self._finder in sys.meta_path:
                sys.meta_path.remove(self._finder)
            self._finder = None
            names = {row.name for row in self.rows}
            for mod_name, module in list(sys.modules.items()):
                if not (mod_name == "sklearn" or mod_name.startswith("sklearn.")):
                    continue
                namespace = getattr(module, "__dict__", None)
                if namespace is None:
                    continue
                for name in names:
                    value = namespace.get(name)
                    if is_accelerated_class(value):
                        setattr(module, name, value.__dict__[ORIGINAL])
