"""Modules loaded on first use, so that ``qkdplan --help`` does not import pandas and friends.

A command module may write ``pd = lazy_module("pandas")`` at its top: the name is bound at once,
the import happens when a command first touches ``pd.<something>``.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, imported on first attribute access (:class:`importlib.util.LazyLoader`).

    An already imported module is returned as it is.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
