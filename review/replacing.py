"""Files written whole or not at all: a temporary file beside the target, renamed over it
when the writing succeeds and removed when it fails, so a failed or killed command leaves
what was there before. The one implementation every export, diagram and report uses."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from review.errors import ExportError


def refuse_folder(path: Path, example: str) -> None:
    """Refuse, before any work, a target that is a folder (``example``: a file name to
    suggest in it)."""
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name, e.g. {path / example}")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A new temporary file beside ``path`` (``.NAME.<8 hex digits>.part.SUFFIX``: the suffix kept,
    for writers that read the format from it) that replaces ``path`` when the block
    succeeds and is removed when it fails. An OSError in the block or in the rename is an
    ExportError naming ``path``. The file is created with the umask's permissions (not
    ``mkstemp``'s ``rw-------``), so a shared review folder's team can read it."""
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(
            f"{path}: the folder {folder} does not exist; create it or choose another"
        )
    temporary = _new_file(path)
    try:
        yield temporary
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ExportError(f"{path}: cannot write the file: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_whole(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through :func:`replacing`; the path."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)
    return path


def _new_file(path: Path) -> Path:
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part{path.suffix}")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as error:
            raise ExportError(f"{path}: cannot write here: {error.strerror or error}") from None
        return candidate
    raise ExportError(f"{path}: cannot write here: no free temporary name beside it")
