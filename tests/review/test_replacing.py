"""Files written whole or not at all (``review.replacing``, used by every export, diagram
and report), readable as the umask allows."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from review.errors import ExportError
from review.prisma.files import check_target
from review.replacing import replacing, write_whole


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


def test_the_part_file_keeps_the_suffix_for_writers_that_read_the_format_from_it(
    tmp_path: Path,
) -> None:
    with replacing(tmp_path / "prisma.svg") as temporary:
        assert temporary.name.startswith(".prisma.svg.") and temporary.suffix == ".svg"


def test_a_write_that_fails_in_the_block_names_the_file(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    with pytest.raises(ExportError) as error, replacing(out) as temporary:
        raise OSError(28, "No space left on device", str(temporary))
    assert str(error.value) == f"{out}: cannot write the file: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "report.md"
    with pytest.raises(ExportError) as error:
        write_whole(out, b"x")
    assert str(error.value) == (
        f"{out}: the folder {out.parent} does not exist; create it or choose another"
    )


def test_a_folder_is_not_a_file_name_for_a_prisma_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as error:
        check_target(tmp_path)
    assert str(error.value) == (
        f"{tmp_path}: is a folder; give a file name, e.g. {tmp_path / 'prisma.svg'}"
    )
