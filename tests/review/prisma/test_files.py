"""Writing a PRISMA file atomically: whole or not at all, readable as the umask allows."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from review.errors import ExportError
from review.prisma.files import replacing


def test_the_file_appears_only_when_the_block_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "flow.csv"
    with replacing(out) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".flow.csv.")
        temporary.write_text("data,n\n")
        assert not out.exists()
    assert out.read_text() == "data,n\n"
    assert [p.name for p in tmp_path.iterdir()] == ["flow.csv"]


def test_a_failed_block_keeps_the_old_file_and_removes_the_part_file(tmp_path: Path) -> None:
    out = tmp_path / "flow.csv"
    out.write_text("before")
    with pytest.raises(ValueError), replacing(out) as temporary:
        temporary.write_text("half")
        raise ValueError("stopped")
    assert out.read_text() == "before"
    assert [p.name for p in tmp_path.iterdir()] == ["flow.csv"]


def test_the_file_is_as_readable_as_the_umask_allows(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "flow.svg"
    with replacing(out) as temporary:
        temporary.write_text("<svg/>")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~umask


def test_a_folder_is_not_a_file_name(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as error, replacing(tmp_path):
        pass
    assert str(error.value) == (
        f"{tmp_path}: is a folder; give a file name, e.g. {tmp_path / 'prisma.svg'}"
    )
