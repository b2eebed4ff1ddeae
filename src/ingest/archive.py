"""Moving processed deliveries out of the landing zone, safely.

Files are recorded in delivery_log whatever happens to them; archiving keeps the landing folders
small and makes clear what is still to come. Nothing is ever moved outside the archive folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ingest.deliveries import is_hidden, sha256_of


def archive_loaded_files(
    landing_dir: Path | str,
    archive_dir: Path | str,
    loaded_relative_paths: Iterable[Path | str],
) -> list[Path]:
    """Move loaded files from `landing_dir/<partner>/<name>` to `archive_dir/<partner>/<name>`.

    Every path is checked before anything moves; ValueError (nothing moved) for a path that is
    absolute, holds `..`, is not inside a partner folder, is a symlink, resolves outside the
    landing folder, or whose destination would resolve outside the archive folder (for example
    through a symlinked folder in the archive). FileExistsError when the archive already holds a
    different file under that name (it is never overwritten); a file already archived with the
    same bytes is removed from the landing folder. Returns the archive paths, in input order.
    """
    landing_root = Path(landing_dir).resolve(strict=True)
    archive_root = Path(archive_dir).resolve()
    if archive_root == landing_root or (
        archive_root.is_relative_to(landing_root) and not is_hidden(archive_root.relative_to(landing_root))
    ):
        raise ValueError(
            f"The archive folder {archive_dir} lies in the landing folder {landing_dir}: the landing sensor "
            "would see archived files as new deliveries. Use a folder outside it (or a hidden one)."
        )

    plan: list[tuple[Path, Path, bool]] = []  # (source, destination, already archived)
    seen: set[Path] = set()
    for item in loaded_relative_paths:
        relative = Path(item)
        if relative.is_absolute() or relative.anchor:
            raise ValueError(f"{str(item)!r} is an absolute path: give paths relative to the landing folder.")
        if ".." in relative.parts:
            raise ValueError(f"{str(item)!r} holds '..': refused.")
        if len(relative.parts) < 2:
            raise ValueError(f"{str(item)!r} is not inside a partner folder (<partner>/<file>).")
        if relative in seen:
            continue
        seen.add(relative)
        source = Path(landing_dir) / relative
        if source.is_symlink():
            raise ValueError(f"{str(item)!r} is a symlink: refused.")
        resolved_source = source.resolve(strict=True)
        if not resolved_source.is_relative_to(landing_root):
            raise ValueError(f"{str(item)!r} resolves outside the landing folder: refused.")
        if not resolved_source.is_file():
            raise ValueError(f"{str(item)!r} is not a file.")
        destination = archive_root / relative
        if not destination.resolve().is_relative_to(archive_root):
            raise ValueError(f"{str(item)!r} would land outside the archive folder {archive_dir}: refused.")
        already = False
        if destination.exists() or destination.is_symlink():
            if (
                destination.is_symlink()
                or not destination.is_file()
                or sha256_of(destination) != sha256_of(resolved_source)
            ):
                raise FileExistsError(
                    f"The archive already holds a different {relative.as_posix()}; not overwritten. "
                    "Rename the delivery or move the archived file first."
                )
            already = True
        plan.append((resolved_source, destination, already))

    moved: list[Path] = []
    for source, destination, already in plan:
        if already:
            source.unlink()
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(os.fspath(source), os.fspath(destination))
        moved.append(destination)
    return moved
