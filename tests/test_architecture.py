"""The layering of STYLE.md, as tests: meta stands alone, the pure core does no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Modules that must stay pure: no database, network or process I/O.
PURE_MODULES = [
    "review/records.py",
    "review/dedup/matching.py",
    "review/dedup/features.py",
    "extraction/rules.py",
    "extraction/forms.py",
    "meta/types.py",
    "meta/counts.py",
    "meta/results.py",
]
IO_MODULES = {"sqlite3", "requests", "socket", "urllib", "http", "subprocess", "psycopg"}


def imported_top_levels(path: Path) -> set[str]:
    """The top-level package names ``path`` imports, anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def forbidden_imports(package: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_top_levels(path) & forbidden
        if bad:
            found.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    return found


def test_meta_imports_nothing_from_review_or_extraction() -> None:
    assert forbidden_imports("meta", {"review", "extraction"}) == []


def test_extraction_imports_nothing_from_review() -> None:
    assert forbidden_imports("extraction", {"review"}) == []


def test_the_check_finds_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from review.store import open_store\n")
    assert imported_top_levels(bad) == {"review"}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_core_does_no_io(module: str) -> None:
    assert imported_top_levels(ROOT / module) & IO_MODULES == set()


def test_only_the_store_package_speaks_sql() -> None:
    offenders = []
    for package in ("review", "extraction", "meta"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.parent.name == "store" or "store" in path.relative_to(ROOT).parts:
                continue
            if "sqlite3" in imported_top_levels(path):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_help_imports_no_heavy_library() -> None:
    """``casepool --help`` stays fast: heavy libraries load only inside the commands."""
    code = (
        "import sys\n"
        "from review.cli import app\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(app, ['--help'])\n"
        "heavy = {'pandas', 'numpy', 'scipy', 'matplotlib', 'lxml', 'sklearn', 'pymare',"
        " 'pydantic', 'Bio', 'openpyxl', 'rapidfuzz', 'requests', 'statsmodels'}\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
