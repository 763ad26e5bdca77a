"""Every reference a comment cites can be looked up in the repository.

The code cites sections (`§4.9`) and numbered gotchas (`G16`) of the Polymarket API reference,
which the repository keeps as `docs/polymarket_api.md`. A bare `§x.y` or `Gnn` names nothing
a reader can open, so each must come with the document's name shortly before it (the same
sentence or the comment line above), and the section or gotcha must exist in the document.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = "docs/polymarket_api.md"
CITE = re.compile(r"§(\d+(?:\.\d+)?)|\bG(\d{1,2})\b")
WINDOW = 240  # characters before a citation where the document must be named


def _sources() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py", "*.toml", "*.md"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    skip = ("tests/fixtures/", DOC, "tests/test_references.py")
    return [ROOT / n for n in listed if not n.startswith(skip) and (ROOT / n).exists()]


def _doc() -> str:
    return (ROOT / DOC).read_text(encoding="utf-8")


def _sections(doc: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", doc, re.M)}


def _gotchas(doc: str) -> set[str]:
    part = doc[doc.index("## 8. Gotchas") : doc.index("## 9.")]
    return set(re.findall(r"\bG(\d{1,2})\b", part))


def test_every_citation_names_the_document_it_cites() -> None:
    bare = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for m in CITE.finditer(text):
            before = text[max(0, m.start() - WINDOW) : m.start()]
            if DOC not in before and "polymarket_api.md" not in before:
                line = text.count("\n", 0, m.start()) + 1
                bare.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)}")
    assert bare == [], "citations with no document named before them:\n" + "\n".join(bare)


def test_every_cited_section_and_gotcha_exists_in_the_document() -> None:
    doc = _doc()
    sections, gotchas = _sections(doc), _gotchas(doc)
    missing = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for m in CITE.finditer(text):
            section, gotcha = m.group(1), m.group(2)
            if section is not None and section not in sections:
                missing.append(f"{path.relative_to(ROOT)}: §{section}")
            if gotcha is not None and gotcha not in gotchas:
                missing.append(f"{path.relative_to(ROOT)}: G{gotcha}")
    assert missing == [], "cited but not in " + DOC + ":\n" + "\n".join(missing)


def test_the_rule_catches_a_bare_citation() -> None:
    sample = "x = 1  # the server drops it (§5.2)\n"
    m = CITE.search(sample)
    assert m is not None and DOC not in sample[: m.start()]
    assert {"5.2", "4.9", "2.8"} <= _sections(_doc()) and "16" in _gotchas(_doc())
