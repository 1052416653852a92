"""A run registers only the command it runs (start-up), and the registry misses no command.

``planner.cli.root.COMMAND_MODULES`` names the modules of each command; ``qkdplan NAME`` imports
only those. These tests run in fresh interpreters, since this process has imported every
command module already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from planner.cli.root import COMMAND_MODULES, command_word

#: Run in a fresh interpreter: register the commands for argv[1] (JSON: a word or null), then
#: print the command names the parser knows, each group's sub-commands, and the command
#: modules imported.
_PROBE = """
import json, sys
import typer.main
from planner.cli.root import app, register_commands
register_commands(json.loads(sys.argv[1]))
group = typer.main.get_command(app)
print(json.dumps({
    "commands": list(group.commands),
    "groups": {name: sorted(getattr(c, "commands", {})) for name, c in group.commands.items()},
    "modules": sorted(m for m in sys.modules if m.startswith("planner.cli.")),
}))
"""


def _registered(word: str | None) -> dict:
    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(word)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_command_is_in_the_registry_in_help_order():
    everything = _registered(None)
    assert everything["commands"] == list(COMMAND_MODULES)
    assert everything["groups"]["tle"] == ["check", "fetch"]
    assert everything["groups"]["constellation"] == ["passes", "walker"]


@pytest.mark.parametrize("word", list(COMMAND_MODULES))
def test_a_command_registers_itself_and_imports_only_its_own_modules(word):
    alone = _registered(word)
    assert word in alone["commands"]
    others = {f"planner.cli.{m}" for ms in COMMAND_MODULES.values() for m in ms}
    others -= {f"planner.cli.{m}" for m in COMMAND_MODULES[word]}
    # (a command module may import another on purpose: plan reuses the pass and plan tables)
    allowed = ({"planner.cli.passes", "planner.cli.schedule"} if word in ("plan", "report")
               else set())
    assert not (set(alone["modules"]) & others) - allowed


def test_an_unknown_word_registers_everything_so_the_parser_can_suggest():
    assert _registered("pases")["commands"] == list(COMMAND_MODULES)


@pytest.mark.parametrize(("args", "word"), [
    (["passes", "--days", "1"], "passes"),
    (["--config", "passes", "keys"], "keys"),      # "passes" here is the config file's name
    (["--config=x.toml", "plan"], "plan"),
    (["--version"], None),
    ([], None),
    (["--", "passes"], None),
    (["tle", "check", "x.tle"], "tle"),
])
def test_the_command_word_skips_root_options_and_their_values(args, word):
    assert command_word(args) == word
