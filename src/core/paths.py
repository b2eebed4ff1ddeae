"""Where the project's files live. Everything is relative to the repository root."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
PARTNERS_DIR = CONFIG_DIR / "partners"
REFERENCE_DIR = CONFIG_DIR / "reference"
DATA_DIR = REPO_ROOT / "data"
DOCS_DIR = REPO_ROOT / "docs"


def as_path(value: str | os.PathLike):
    """A local Path, or for a URL (`s3://bucket/landing`, `memory://...`) a universal-pathlib UPath
    over fsspec, so the landing zone can live in an object store."""
    if isinstance(value, Path) or hasattr(value, "protocol"):
        return value
    text = os.fspath(value)
    if "://" in text:
        from upath import UPath

        return UPath(text)
    return Path(text)
