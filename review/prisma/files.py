"""Writing the diagram and the CSV atomically: the file appears whole or not at all, and
a failed or killed run leaves what was there before."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from review.errors import ExportError


def check_target(path: Path) -> None:
    """Refuse, before any work, a file name that is a folder or lies in no folder."""
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name, e.g. {path / 'prisma.svg'}")
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(
            f"{path}: the folder {folder} does not exist; create it or choose another"
        )


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A new temporary file beside ``path`` that replaces it when the block succeeds and is
    removed when it fails. The file is created with the umask's permissions (not
    ``mkstemp``'s ``rw-------``), so a shared review folder's team can read it."""
    check_target(path)
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
