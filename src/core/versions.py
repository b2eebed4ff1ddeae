"""The version of the pipeline's own logic: its source and configuration files, and the libraries
whose behaviour the results depend on. Whatever is built from it is built again when it changes."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from core.paths import REPO_ROOT

CODE_FOLDERS = ("src", "schemas", "pipelines", "config")
CODE_SUFFIXES = (".py", ".yaml", ".yml", ".csv", ".json")
#: Libraries that compute results (an upgrade may change a parse, a sort or a float).
RESULT_LIBRARIES = ("pandas", "numpy", "pyarrow", "duckdb", "pandera", "sqlalchemy", "python-calamine")


@lru_cache(maxsize=1)
def code_version(root: Path = REPO_ROOT) -> str:
    """SHA-256 over the project's source and configuration files (names and contents) and the
    versions of the libraries that compute results."""
    digest = hashlib.sha256()
    folders = [root / folder for folder in CODE_FOLDERS]
    partners = os.environ.get("ZORGSTROOM_PARTNERS_DIR")  # partner mappings kept outside config/ (the tests')
    if partners:
        folders.append(Path(partners))
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in CODE_SUFFIXES:
                name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
                digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in RESULT_LIBRARIES:
        try:
            digest.update(f"{name}=={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} absent\0".encode())
    return digest.hexdigest()
