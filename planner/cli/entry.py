"""The console script's entry point: signal handlers first, the heavy command line after.

Importing the command line (pandas, typer, rich and the stages) takes a noticeable fraction of a
second; a Ctrl-C or SIGTERM in that time must end the run with one line and the conventional exit
status (130, 143), as it does later, not with a traceback or a silent death by signal. So this
module imports only the standard library, installs the SIGTERM handler, and only then imports
:mod:`planner.cli.root`.
"""

from __future__ import annotations

import signal
import sys
import threading

__all__ = ["Terminated", "main", "terminated"]

_SIGINT_STATUS = 128 + signal.SIGINT
_SIGTERM_STATUS = 128 + signal.SIGTERM


class Terminated(SystemExit):
    """Raised by the SIGTERM handler: unwinds like an exit, so clean-ups run."""


def terminated(signum: int, _frame: object) -> None:
    """SIGTERM handler: unwind like an exit, so clean-ups run (no half-written file)."""
    raise Terminated(128 + signum)


def _say(text: str) -> None:
    try:
        sys.stderr.write(f"qkdplan: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``qkdplan`` console script and of ``python -m planner``.

    Exit status: 0 on success, 2 on bad input or usage, 1 on an internal error or a failed
    write, 130 after Ctrl-C, 143 after SIGTERM (each with one line on standard error).

    Parameters
    ----------
    argv
        The arguments; ``None`` (the console script, ``python -m planner``) means this process
        is the command's own, and ``sys.argv`` is used.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminated) if in_main_thread else None
    try:
        from planner.cli.root import run_command_line  # the heavy imports, after the handler

        run_command_line(argv)
    except Terminated:
        _say("terminated")
        sys.exit(_SIGTERM_STATUS)
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(_SIGINT_STATUS)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if argv is None and in_main_thread:
            # the process is ours (console script, python -m planner) and its work is done:
            # while the interpreter shuts down Python's own SIGINT handler is gone, so a late
            # Ctrl-C would kill the finished run by signal; it has nothing left to interrupt
            signal.signal(signal.SIGINT, signal.SIG_IGN)
