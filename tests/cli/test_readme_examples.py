"""The README's example commands run as printed (its code blocks of ``qkdplan`` lines)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import run

ROOT = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    """Every line starting ``qkdplan `` inside a fenced code block of the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip().startswith("qkdplan ")]


def test_the_readme_has_examples():
    assert len(readme_commands()) >= 5


@pytest.mark.parametrize("command", readme_commands())
def test_readme_example_runs(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tle_data").symlink_to(ROOT / "tle_data")
    args = shlex.split(command)[1:]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert out or "wrote" in err
