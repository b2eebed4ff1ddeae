"""Where the project's files live. Everything is relative to the repository root."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
PARTNERS_DIR = CONFIG_DIR / "partners"
REFERENCE_DIR = CONFIG_DIR / "reference"
DATA_DIR = REPO_ROOT / "data"
DOCS_DIR = REPO_ROOT / "docs"
