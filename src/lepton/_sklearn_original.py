"""scikit-learn's own class behind a class ``lepton.accel`` put in its place.

``lepton.accel`` replaces scikit-learn's classes in their modules by subclasses that route
calls to lepton (:mod:`lepton.accel._patching`); each keeps the class it replaced under
:data:`ORIGINAL`. Code that must build on scikit-learn's class itself — lepton's drop-in
estimators subclass it and call its methods for the calls lepton does not take — resolves it
here, so that a drop-in imported while accel is installed neither inherits the routing nor calls
back into it.
"""

from __future__ import annotations

__all__ = ["ORIGINAL", "original_class"]

# The attribute of an accelerated class naming the scikit-learn class it replaced (set in the
# class's own namespace: classes derived from it do not count as accelerated).
ORIGINAL = "_lepton_original"


def original_class(cls: type) -> type:
    """scikit-learn's class behind ``cls`` when ``cls`` is an accelerated class, else ``cls``."""
    return cls.__dict__.get(ORIGINAL, cls)
