"""The console script's entry point: signal handlers first, the heavy command line after.

Importing the command line (pandas, typer, rich and the stages) takes a noticeable fraction of a
second; a Ctrl-C or SIGTERM in that time must end the run with one line and the conventional exit
status (130, 143), as it does later, not with a traceback or a silent death by signal. So this
module imports only the standard library, installs the SIGINT and SIGTERM handlers, and only then
imports :mod:`planner.cli.root`.

SIGINT raises :class:`Interrupted`, a subclass of ``KeyboardInterrupt``, not Python's own
``KeyboardInterrupt``: when a ``KeyboardInterrupt`` of that exact type leaves code that CPython
runs through ``PyRun_String`` (Cython modules run such code as they are imported), CPython notes
it as unhandled in a process-wide flag that nothing resets, even once the planner has caught it;
``python -m planner`` then ended the process by SIGINT after its one line and status 130. A
subclass is not noted. The handlers also remember the signal (:func:`signal_received`): a
signal that lands inside a library's import can leave a module half-imported, or be swallowed by
a bare ``except:`` there, and the error it causes later is the signal's doing.
"""

from __future__ import annotations

import signal
import sys
import threading

__all__ = ["Interrupted", "Terminated", "interrupted", "main", "signal_received", "terminated"]

_SIGINT_STATUS = 128 + signal.SIGINT
_SIGTERM_STATUS = 128 + signal.SIGTERM
_received: list[int] = []  # the signals this run's handlers caught
_swallowed: list[int] = []  # of those, the ones raised where Python could only print them


class Interrupted(KeyboardInterrupt):
    """Raised by the SIGINT handler: a ``KeyboardInterrupt`` that CPython does not take for
    an unhandled one once it is caught (see the module docstring)."""


class Terminated(SystemExit):
    """Raised by the SIGTERM handler: unwinds like an exit, so clean-ups run."""


def interrupted(signum: int, _frame: object) -> None:
    """SIGINT handler: remember the signal and raise :class:`Interrupted`."""
    _received.append(signum)
    raise Interrupted


def terminated(signum: int, _frame: object) -> None:
    """SIGTERM handler: unwind like an exit, so clean-ups run (no half-written file)."""
    _received.append(signum)
    raise Terminated(128 + signum)


def signal_received() -> BaseException | None:
    """The exception that ends the run as the first signal it received (SIGINT or SIGTERM)
    would have, if any: :func:`main` turns it into the one line and exit status."""
    return _signal_exception(_received[0]) if _received else None


def _signal_exception(signum: int) -> BaseException:
    return Terminated(_SIGTERM_STATUS) if signum == signal.SIGTERM else Interrupted()


def _unraisable(hook):
    """A ``sys.unraisablehook`` that keeps quiet about this run's own signal exceptions.

    A signal handled while Python runs a callback it cannot raise from (a weak-reference
    callback of the import system, a finaliser) has its exception printed with a traceback
    and dropped, and the run goes on; it is remembered instead, and the run ends as
    interrupted (or terminated) when it would have ended well. Other errors go to ``hook``.
    """
    def unraisable(info) -> None:
        if isinstance(info.exc_value, (Interrupted, Terminated)) and _received:
            _swallowed.append(_received[-1])
            return
        hook(info)

    return unraisable


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
    _received.clear()
    _swallowed.clear()
    previous = _install_handlers() if in_main_thread else {}
    hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(hook)
    try:
        from planner.cli.root import run_command_line  # the heavy imports, after the handler

        try:
            run_command_line(argv)
        except SystemExit as done:
            if _swallowed and done.code in (0, None):
                raise _signal_exception(_swallowed[0]) from None
            raise
    except Terminated:
        _say("terminated")
        sys.exit(_SIGTERM_STATUS)
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(_SIGINT_STATUS)
    finally:
        sys.unraisablehook = hook
        if argv is None and in_main_thread:
            # the process is ours (console script, python -m planner), its work is done and
            # its exit status settled: a late Ctrl-C or SIGTERM has nothing left to stop, and
            # with the default handlers back it would kill the finished run by signal while
            # the interpreter shuts down (SIGKILL still ends a shutdown that hangs)
            previous[signal.SIGINT] = previous[signal.SIGTERM] = signal.SIG_IGN
        _restore_handlers(previous)


def _install_handlers() -> dict[int, object]:
    """Install the SIGINT and SIGTERM handlers; return the handlers they replace."""
    return {signal.SIGINT: signal.signal(signal.SIGINT, interrupted),
            signal.SIGTERM: signal.signal(signal.SIGTERM, terminated)}


def _restore_handlers(handlers: dict[int, object]) -> None:
    """Put ``handlers`` back. A signal caught meanwhile (``signal.signal`` runs a pending
    handler first) comes after the command's work: it is dropped, and the exit under way
    stands."""
    for _attempt in range(3):
        try:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            return
        except (KeyboardInterrupt, Terminated):
            continue
