"""Lepton: joule-aware INT8 GEMM, fused preprocessing and PCA kernels.

``lepton.ops`` holds the array-level kernels; estimators, inference, energy measurement and the
tuner live in their own modules and are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from lepton import ops
from lepton._core import __version__
from lepton._runtime import get_isa, get_num_threads, isa, set_isa, set_num_threads

__all__ = [
    "__version__",
    "get_isa",
    "get_num_threads",
    "isa",
    "ops",
    "set_isa",
    "set_num_threads",
]

# Heavier pieces load on first touch so `import lepton` stays cheap.
_LAZY = {
    "energy": "lepton.energy",
    "tune": "lepton.tune",
    "PCA": "lepton.estimators",
    "Preprocessor": "lepton.estimators",
    "StandardScaler": "lepton.estimators",
    "MinMaxScaler": "lepton.estimators",
    "SimpleImputer": "lepton.estimators",
    "Lepton": "lepton.inference",
    "measure": "lepton.energy",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        msg = f"module 'lepton' has no attribute {name!r}"
        raise AttributeError(msg)
    module = importlib.import_module(module_name)
    return module if module_name.endswith(name) else getattr(module, name)
