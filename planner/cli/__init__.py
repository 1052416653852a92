"""The ``qkdplan`` command line: parse options, call the pipeline, print or write.

``main`` (the console script) is importable without the heavy command line, so that its signal
handlers are in place before pandas, typer and the stages load; ``app`` loads it on first use,
with every command registered (a run of ``main`` registers only the command it runs).
"""

from typing import Any

from planner.cli.entry import main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from planner.cli.root import app, register_commands

        register_commands()
        return app
    raise AttributeError(f"module 'planner.cli' has no attribute {name!r}")
