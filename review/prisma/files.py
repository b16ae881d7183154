"""Where the diagram and the CSV may be written: a file name (not a folder) in a folder
that exists, checked before any work; the writing itself is ``review.replacing``'s."""

from __future__ import annotations

from pathlib import Path

from review.errors import ExportError
from review.replacing import refuse_folder


def check_target(path: Path) -> None:
    """Refuse, before any work, a file name that is a folder or lies in no folder."""
    refuse_folder(path, "prisma.svg")
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(
            f"{path}: the folder {folder} does not exist; create it or choose another"
        )
