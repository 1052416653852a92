"""Optional dependencies of the parallel runs: ``dask[distributed]`` and ``pyarrow``.

They are imported only when a run asks for them (``pip install 'qkdplan[dask]'``).
"""

from __future__ import annotations

import importlib

from planner.errors import OptionError

INSTALL_HINT = "install qkdplan[dask] (pip install 'qkdplan[dask]')"


def require(module: str, what: str, field: str | None = None):
    """Import an optional dependency or raise OptionError saying how to install it.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"pyarrow.parquet"``.
    what : str
        What needs it, in words (``"Parquet output"``); the message starts with it.
    field : str, optional
        The parameter whose value asked for it (``"dask"``); the error's field.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise OptionError(f"{what} needs the {module.split('.')[0]} package: {INSTALL_HINT}",
                          field=field) from None
