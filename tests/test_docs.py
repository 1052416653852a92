"""The documentation the code cites exists: every ``docs/<page>.md`` and ``docs/<page>.md §N``
named in the package, the tests, the README and the data files is a page of ``docs/`` with that
numbered section, and the pages' own links resolve.

References: the pages themselves (``docs/*.md``) are the only reference; nothing here runs the
planner.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Where citations live: the package, tests, README, data files, notebooks, benchmarks, docs.
SCANNED = ("planner", "tests", "README.md", "payloads.yaml", "ground_stations.yaml", "tle_data",
           "notebooks", "benchmarks", "docs")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".ipynb", ".tle", ".txt", ".toml", ".cfg",
                 ".html", ".j2", ".jinja", ".css", ".json", ".csv"}

_SECTION_RUN = r"(?:\s*(?:§\s*|section\s+)\d+(?:\s*(?:,|/|and|&)\s*(?=§|section))?)+"
CITATION = re.compile(r"docs/(?P<page>[A-Za-z0-9_-]+\.md)"
                      r"(?P<sections>" + _SECTION_RUN + r")?"
                      r"(?:\s+\"(?P<heading>[^\"\n]+)\")?")
NUMBERED_HEADING = re.compile(r"^#{1,6}\s+(?:§\s*)?(\d+)[.\s]", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
OLD_NAMES = re.compile(r"(?<![\w/.-])(?:DESIGN|REFERENCE)\.md\b")
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def _scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        files += [p for p in candidates
                  if p.is_file() and p.suffix in TEXT_SUFFIXES and p != Path(__file__).resolve()
                  and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts]
    return files


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def page_sections(text: str) -> set[str]:
    """Section numbers of a page: headings such as ``## 4. Link budget`` or ``## §4 ...``."""
    return set(NUMBERED_HEADING.findall(text))


def page_headings(text: str) -> set[str]:
    """Every heading of a page, lower case."""
    return {h.strip().lower() for h in HEADING.findall(text)}


def citation_problems(text: str, where: str, pages: dict[str, str]) -> list[str]:
    """What is wrong with the ``docs/...`` citations in ``text`` (empty if nothing).

    ``pages`` maps a page's file name (``reference.md``) to its text.
    """
    problems = []
    for match in CITATION.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        page = match["page"]
        if page not in pages:
            problems.append(f"{where}:{line}: docs/{page} does not exist")
            continue
        for number in re.findall(r"\d+", match["sections"] or ""):
            if number not in page_sections(pages[page]):
                problems.append(f"{where}:{line}: docs/{page} has no section {number}")
        heading = match["heading"]
        if heading and heading.strip().lower() not in page_headings(pages[page]):
            problems.append(f"{where}:{line}: docs/{page} has no heading {heading!r}")
    return problems


def _pages() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}


def test_every_cited_page_and_section_exists():
    pages = _pages()
    problems, found = [], 0
    for path in _scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found += len(CITATION.findall(text))
        problems += citation_problems(text, str(path.relative_to(ROOT)), pages)
    assert not problems, "\n".join(problems)
    # the scan must actually see the citations it guards (about a hundred when this was written)
    assert found >= 50


def test_no_citation_of_documents_outside_the_repository():
    offenders = []
    for path in _scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in OLD_NAMES.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not offenders, "cite docs/reference.md or docs/architecture.md:\n" + "\n".join(
        offenders)


def test_reference_keeps_sections_one_to_six_in_order():
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    assert NUMBERED_HEADING.findall(text) == ["1", "2", "3", "4", "5", "6"]


def test_cited_headings_of_architecture_exist():
    headings = page_headings((DOCS / "architecture.md").read_text(encoding="utf-8"))
    assert {"pass table", "key table"} <= headings


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_links_between_pages_resolve(page):
    pages = _pages()
    problems = []
    for match in LINK.finditer(pages[page]):
        target = match["target"]
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file_part, _, anchor = target.partition("#")
        resolved = (DOCS / file_part).resolve() if file_part else DOCS / page
        if not resolved.exists():
            problems.append(f"{page}: link to missing {target}")
            continue
        if anchor and resolved.suffix == ".md":
            anchors = {_slug(h) for h in HEADING.findall(resolved.read_text(encoding="utf-8"))}
            if anchor not in anchors:
                problems.append(f"{page}: link to missing anchor {target}")
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_missing_page_section_and_heading():
    pages = {"reference.md": "# R\n\n## 1. One\n\n## 2. Two\n",
             "architecture.md": "## Pass table\n"}
    cite = "docs/" + "reference.md"
    assert citation_problems(f"{cite} §1, §2 and section 2", "ok.py", pages) == []
    assert citation_problems(f"x\n{cite} §1/§3", "bad.py", pages) == [
        "bad.py:2: docs/reference.md has no section 3"]
    assert citation_problems("docs/" + "missing.md §1", "bad.py", pages) == [
        "bad.py:1: docs/missing.md does not exist"]
    assert citation_problems("docs/" + 'architecture.md "Key table"', "bad.py", pages) == [
        "bad.py:1: docs/architecture.md has no heading 'Key table'"]
    assert citation_problems("docs/" + 'architecture.md "Pass table"', "ok.py", pages) == []
