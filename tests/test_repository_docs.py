"""The repository stands alone: no file names a document or path outside it, and every relative link
in the docs points at a file that exists in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from core.paths import REPO_ROOT

#: What a reference to something outside the repository looks like: the team's shared notes, a
#: parent folder holding documents, or an absolute path of the machine the code was written on.
OUTSIDE = re.compile(
    r"(?:\.\./)+(?:shared|\.library)\b|\bshared/(?:BRIEF|STACK|STYLE)\b|\b(?:BRIEF|STACK|STYLE)\.md\b|/work/\w|/root/"
)
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    files = []
    for name in names:
        path = REPO_ROOT / name
        if path.is_file() and path.suffix not in {".xlsx", ".png", ".duckdb"}:
            files.append(path)
    return files


def test_the_file_list_is_the_repository():
    files = {p.relative_to(REPO_ROOT).as_posix() for p in tracked_text_files()}
    assert {"README.md", "docs/architecture.md", "docs/domain.md", "pyproject.toml"} <= files


def test_no_file_names_a_path_outside_the_repository():
    found = []
    for path in tracked_text_files():
        if path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()[:100]}")
    assert not found, "references to files outside the repository:\n" + "\n".join(found)


def test_the_pattern_would_catch_the_usual_ways_of_pointing_outside():
    for line in ("see ../shared/BRIEF.md", "as shared/STACK.md measured", "STYLE.md sums up", "/work/main/src"):
        assert OUTSIDE.search(line), line
    for line in ("docs/domain.md", "config/partners/threewise.yaml", "zorggroep_haaglanden/../../outside.csv"):
        assert not OUTSIDE.search(line), line


def test_every_relative_link_in_the_docs_resolves_inside_the_repository():
    broken = []
    for path in tracked_text_files():
        if path.suffix != ".md":
            continue
        for target in MARKDOWN_LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(REPO_ROOT.resolve()) or not resolved.exists():
                broken.append(f"{path.relative_to(REPO_ROOT)} -> {target}")
    assert not broken, "links that do not resolve inside the repository:\n" + "\n".join(broken)
