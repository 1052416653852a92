"""The ``qkdplan`` command line: parse options, call the pipeline, print or write."""

from planner.cli.root import app, main

__all__ = ["app", "main"]
