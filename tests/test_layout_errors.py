"""Library errors name parameters, not command-line flags (docs/architecture.md, conventions).

Outside ``planner/cli`` no error may name a ``--flag``: the library is called from notebooks and
other programs, whose users set parameters; the command line maps parameter names to its flags
(``planner/cli/flags.py``). The check reads the source with :mod:`ast` and looks at the text
that ends up in an error:

- every string in a ``raise`` statement (the message and the field);
- strings passed as ``field=``, ``option=`` or ``field_name=`` to any call, given as a default
  to parameters of those names, or assigned to variables of those names (they become an error's
  field later, e.g. ``as_utc_datetime(start, option="--start")``), or returned by functions
  and properties of those names;
- a string argument of any call that starts with a flag (``_worker_count(text, "--dask")``).

A command line the user is told to run (``qkdplan tle fetch --catnr 41731``) is not a flag name
and is allowed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PLANNER = Path(__file__).resolve().parents[1] / "planner"

FIELD_NAMES = {"field", "option", "field_name"}
"""Keywords, parameters and variables whose string value becomes an error's field."""

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND_LINE = re.compile(r"qkdplan(?: [a-z][\w-]*)+(?: --?[a-z][\w-]*(?: [^\s,;)]+)?)*")

def _strings(node: ast.AST) -> list[str]:
    """The literal text inside ``node``: string constants, and the fixed parts of f-strings."""
    return [n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _flags_in(node: ast.AST) -> list[str]:
    found = []
    for text in _strings(node):
        found += FLAG.findall(COMMAND_LINE.sub("", text))
    return found


def _starts_with_flag(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and FLAG.match(node.value) is not None)


def _field_values(tree: ast.AST):
    """Nodes whose value becomes an error's field (see the module docstring)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from (k.value for k in node.keywords if k.arg in FIELD_NAMES)
            yield from (a for a in node.args if _starts_with_flag(a))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            positional = [*arguments.posonlyargs, *arguments.args]
            defaults = dict(zip([a.arg for a in positional[len(positional)
                                                            - len(arguments.defaults):]],
                                arguments.defaults, strict=True))
            defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs,
                                                      arguments.kw_defaults, strict=True) if d})
            yield from (value for name, value in defaults.items() if name in FIELD_NAMES)
            if node.name in FIELD_NAMES:  # a property such as Demand.field_name
                yield from (n.value for n in ast.walk(node)
                            if isinstance(n, ast.Return) and n.value is not None)
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id in FIELD_NAMES for t in node.targets):
                yield node.value
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name) and node.target.id in FIELD_NAMES and node.value:
                yield node.value


def flags_named_by_errors(path: Path) -> list[str]:
    """``line: --flag`` for every flag an error of the module ``path`` could name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            found += [f"{node.lineno}: {flag}" for flag in _flags_in(node.exc)]
    for value in _field_values(tree):
        found += [f"{value.lineno}: {flag}" for flag in _flags_in(value)]
    return sorted(set(found), key=lambda item: (int(item.split(":")[0]), item))


def library_modules() -> list[Path]:
    return sorted(p for p in PLANNER.rglob("*.py") if "cli" not in p.relative_to(PLANNER).parts)


def _name(path: Path) -> str:
    return path.relative_to(PLANNER.parent).as_posix()


def test_library_errors_name_parameters_not_flags():
    offenders = {}
    for path in library_modules():
        flags = flags_named_by_errors(path)
        if flags:
            offenders[_name(path)] = flags
    assert not offenders, ("errors outside planner/cli name command-line flags; name the "
                           f"function's parameter and map it in planner/cli/flags.py: {offenders}")


def test_the_check_sees_flags_in_each_place_an_error_gets_its_text(tmp_path):
    """The scanner itself, on a module written to break the rule in every way it looks for."""
    module = tmp_path / "bad.py"
    module.write_text('''
from planner.errors import OptionError
from planner.timebase import as_utc_datetime


def a(days):
    raise OptionError(f"{days} is not after --start", field="days")


def b(value):
    raise OptionError("bad", field="--dask")


def c(value, option="--output"):
    return value


def d(text):
    field = f"--fibre {text!r}"
    return as_utc_datetime(text, option="--end"), field, int(text, "--processes")


def e():
    raise OptionError("not cached; fetch it with: qkdplan tle fetch --catnr 41731",
                      field="norad")


def field_name(label):
    return f"--demand {label!r}"
''')
    assert flags_named_by_errors(module) == ["7: --start", "11: --dask", "14: --output",
                                             "19: --fibre", "20: --end", "20: --processes",
                                             "29: --demand"]


def test_the_check_covers_the_library():
    names = {_name(p) for p in library_modules()}
    assert "planner/run/pipeline.py" in names and "planner/errors.py" in names
    assert not any(name.startswith("planner/cli/") for name in names)
    assert {"planner/relay/demands.py", "planner/relay/fibre.py"} <= names
