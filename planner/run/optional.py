"""Optional dependencies of the parallel runs: ``dask[distributed]`` and ``pyarrow``.

They are imported only when a run asks for them (``pip install 'qkdplan[dask]'``).
"""

from __future__ import annotations

import importlib

from planner.errors import OptionError

INSTALL_HINT = "install qkdplan[dask] (pip install 'qkdplan[dask]')"


def require(module: str, what: str):
    """Import an optional dependency or raise OptionError saying how to install it.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"pyarrow.parquet"``.
    what : str
        The option or parameter that needs it; the error's field.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise OptionError(f"{what} needs the {module.split('.')[0]} package: {INSTALL_HINT}",
                          field=what) from None
