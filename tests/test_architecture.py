"""The layers of docs/ARCHITECTURE.md, as tests: each fails on a forbidden import.

review/ has four layers, each importing only from itself and the layers below it:

    front ends  review/cli/, review/web/       parse, call the API, format
    api         review/api/                    the review handle and its parts
    use cases   *workflow*, importing, ...     compose the pure core and the store
    store       review/store/                  the only code that speaks SQL
    pure core   everything else                no I/O, no clock, no database, no network

extraction/ and meta/ sit below all of review/; meta imports nothing of the others.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FRONT_ENDS = ("review/cli/", "review/web/", "review/report/", "review/run/")
# the report reads the API; the run composes the API's use cases and the report
API = ("review/api/",)
USE_CASES = (
    "review/workspace.py",
    "review/pubmed/search.py",
    "review/sources/importing.py",
    "review/sources/exporting.py",
    "review/dedup/workflow.py",
    "review/screening/workflow.py",
    "review/screening/round_trip.py",
    "review/screening/fulltexts.py",
    "review/screening/progress.py",
    "review/extract/workflow.py",
    "review/extract/outcomes.py",
    "review/extract/sheets.py",
    "review/extract/export.py",
    "review/extract/appraisal.py",
    "review/screening/stop_sample.py",
    "review/screening/relevance.py",
    "review/team/workflow.py",
)
STORE = ("review/store/",)
EDGES = ("review/pubmed/entrez.py", "review/clock.py")
"""Modules that do their own kind of I/O (the network, the clock) and nothing else."""

NETWORK_EDGES = ("review/pubmed/entrez.py", "review/web/serve.py")
"""The E-utilities client, and the web server's listening socket."""

DATABASE = {"sqlite3", "sqlalchemy", "alembic", "psycopg", "psycopg2"}
NETWORK = {"requests", "urllib3", "socket", "http", "urllib"}
TERMINAL = {"typer", "click", "rich"}
IO = DATABASE | NETWORK | {"subprocess"}


def modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def in_group(path: Path, group: tuple[str, ...]) -> bool:
    name = relative(path)
    return any(name == g or (g.endswith("/") and name.startswith(g)) for g in group)


def layer(path: Path) -> int:
    """4 front ends, 3 api, 2 use cases, 1 store, 0 pure core (and edges)."""
    for rank, group in ((4, FRONT_ENDS), (3, API), (2, USE_CASES), (1, STORE)):
        if in_group(path, group):
            return rank
    return 0


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (dotted names), anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def top_levels(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imports(path)}


def layer_of_module(name: str) -> int | None:
    """The layer of an imported review module, or None if it is not one of ours."""
    if not name.startswith("review."):
        return None
    parts = name.split(".")
    for end in range(len(parts), 1, -1):
        candidate = ROOT / Path(*parts[:end])
        for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if path.is_file():
                return layer(path)
    return None


def test_meta_imports_nothing_from_review_or_extraction() -> None:
    bad = [relative(p) for p in modules("meta") if top_levels(p) & {"review", "extraction"}]
    assert bad == []


def test_extraction_imports_nothing_from_review() -> None:
    assert [relative(p) for p in modules("extraction") if "review" in top_levels(p)] == []


def test_each_layer_imports_only_from_itself_and_below() -> None:
    offenders = []
    for path in modules("review"):
        own = layer(path)
        for name in imports(path):
            other = layer_of_module(name)
            if other is not None and other > own:
                offenders.append(f"{relative(path)} (layer {own}) imports {name} ({other})")
    assert offenders == []


def test_only_the_store_imports_a_database_library() -> None:
    offenders = [
        f"{relative(p)}: {sorted(top_levels(p) & DATABASE)}"
        for p in modules("review", "extraction", "meta")
        if top_levels(p) & DATABASE and not in_group(p, STORE)
    ]
    assert offenders == []


def test_only_the_entrez_client_touches_the_network() -> None:
    offenders = [
        relative(p)
        for p in modules("review", "extraction", "meta")
        if top_levels(p) & NETWORK and relative(p) not in NETWORK_EDGES
    ]
    assert offenders == []


def test_only_front_ends_import_typer_or_rich() -> None:
    offenders = [
        relative(p)
        for p in modules("review", "extraction", "meta")
        if top_levels(p) & TERMINAL and not in_group(p, FRONT_ENDS)
    ]
    assert offenders == []


def test_front_ends_never_reach_the_store() -> None:
    offenders = [
        f"{relative(p)} imports {name}"
        for p in modules(*FRONT_ENDS)
        if (ROOT / p).exists()
        for name in imports(p)
        if name.startswith("review.store") or name.split(".")[0] in DATABASE
    ]
    assert offenders == []


def test_nothing_outside_the_store_uses_a_transactions_connection() -> None:
    offenders = []
    for path in modules("review"):
        if in_group(path, STORE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("connection", "conn", "engine"):
                offenders.append(f"{relative(path)}:{node.lineno} .{node.attr}")
    assert offenders == []


def pure_modules() -> list[Path]:
    return [
        p
        for p in modules("review", "extraction", "meta")
        if layer(p) == 0 and not in_group(p, EDGES)
    ]


@pytest.mark.parametrize("path", pure_modules(), ids=relative)
def test_the_pure_core_does_no_io_and_reads_no_clock(path: Path) -> None:
    assert top_levels(path) & IO == set()
    calls = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            calls.add(f"{node.value.id}.{node.attr}")
    assert calls & {"datetime.now", "datetime.utcnow", "date.today", "time.time"} == set()


def test_the_check_finds_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from review.store import open_store\n")
    assert top_levels(bad) == {"review"} and "review.store.open_store" in imports(bad)
    assert layer_of_module("review.store.records") == 1
    assert layer_of_module("review.api") == 3


def test_help_imports_no_heavy_library() -> None:
    """``casepool --help`` stays fast: heavy libraries load only inside the commands."""
    code = (
        "import sys\n"
        "from review.cli import app\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(app, ['--help'])\n"
        "heavy = {'pandas', 'numpy', 'scipy', 'matplotlib', 'lxml', 'sklearn', 'pymare',"
        " 'pydantic', 'Bio', 'openpyxl', 'rapidfuzz', 'requests', 'statsmodels', 'sqlalchemy',"
        " 'alembic', 'psycopg'}\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_pool_without_a_review_loads_no_database_or_plotting_library(tmp_path: Path) -> None:
    """``casepool pool`` on a counts table needs neither the store nor matplotlib."""
    table = tmp_path / "counts.csv"
    table.write_text("s,e,n\nA,4,8\nB,1,1\nC,0,1\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from review.cli import app\n"
        "from typer.testing import CliRunner\n"
        f"r = CliRunner().invoke(app, ['pool', '--input', {str(table)!r}, '--events', 'e',"
        " '--total', 'n'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = {'pandas', 'matplotlib', 'sqlalchemy', 'alembic', 'lxml', 'scipy.stats',"
        " 'openpyxl'}\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
