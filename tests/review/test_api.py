"""The review handle: creating and opening a review (by folder or database URL, on SQLite
and PostgreSQL), the lookup order, protocol amendments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from review.api import Review
from review.errors import ProtocolError, WorkspaceError
from review.protocol.loading import sha256_text
from review.workspace import resolve_review_dir


def init_review(folder: Path, protocol: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return Review.create(folder, protocol, **kwargs)  # type: ignore[arg-type]


def open_review(folder: Path | str | None, env: dict[str, str] | None = None) -> Review:
    return Review.open(folder, env=env)


def test_init_creates_the_store_and_records_the_protocol(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    result = init_review(tmp_path / "rv", bundled_protocol)
    assert result.created
    assert (tmp_path / "rv" / "review.db").is_file()
    assert (tmp_path / "rv" / "protocol.toml").read_bytes() == bundled_protocol.read_bytes()
    with open_review(tmp_path / "rv") as review:
        (version,) = review.protocol_history()
        assert version.kind == "original"
        assert version.sha256 == sha256_text(bundled_protocol.read_text(encoding="utf-8"))
        assert review.protocol.outcomes[0].name == "clinical_response"


def test_init_twice_with_the_same_protocol_changes_nothing(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    init_review(tmp_path / "rv", bundled_protocol)
    again = init_review(tmp_path / "rv", bundled_protocol)
    assert not again.created and not again.amended


def test_an_edited_protocol_is_recorded_as_a_dated_amendment(review_dir: Path) -> None:
    path = review_dir / "protocol.toml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("blind = true", "blind = false"), encoding="utf-8")
    with open_review(review_dir) as review:
        assert review.amended is not None
        assert not review.protocol.screening.blind
        versions = review.protocol_history()
    assert [v.kind for v in versions] == ["original", "amendment"]
    assert versions[0].text == original  # the original is never replaced
    assert versions[1].recorded_at.endswith("Z")
    with open_review(review_dir) as review:  # opening again records nothing new
        assert review.amended is None
        assert len(review.protocol_history()) == 2


def test_an_invalid_edit_is_refused_and_not_recorded(review_dir: Path) -> None:
    path = review_dir / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('method = "GLMM"', 'method = "X"'))
    with pytest.raises(ProtocolError, match=r"analysis\.primary\.method: 'X' is not one of"):
        open_review(review_dir)
    shutil.copyfile(
        Path(__file__).resolve().parents[2] / "protocols" / "rtx-ssc-calcinosis.toml", path
    )
    with open_review(review_dir) as review:
        assert len(review.protocol_history()) == 1


def test_init_with_a_changed_protocol_records_an_amendment(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    init_review(tmp_path / "rv", bundled_protocol)
    changed = tmp_path / "changed.toml"
    changed.write_text(bundled_protocol.read_text().replace("blind = true", "blind = false"))
    result = init_review(tmp_path / "rv", changed)
    assert result.amended and result.version.kind == "amendment"


def test_init_refuses_an_invalid_protocol_and_creates_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("x = \n")
    with pytest.raises(ProtocolError):
        init_review(tmp_path / "rv", bad)
    assert not (tmp_path / "rv").exists()


def test_lookup_order_is_option_then_environment_then_current_folder(tmp_path: Path) -> None:
    env = {"CASEPOOL_REVIEW": str(tmp_path / "env")}
    assert resolve_review_dir(tmp_path / "opt", env, tmp_path) == tmp_path / "opt"
    assert resolve_review_dir(None, env, tmp_path) == tmp_path / "env"
    assert resolve_review_dir(None, {}, tmp_path) == tmp_path


def test_a_folder_that_is_not_a_review_says_how_it_was_found(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as caught:
        open_review(None, {"CASEPOOL_REVIEW": str(tmp_path)})
    assert str(caught.value) == (
        f"{tmp_path} (from $CASEPOOL_REVIEW) is not a review folder (no review.db); "
        "create one with 'casepool init DIR --protocol FILE' or point to it with --review DIR"
    )
    with pytest.raises(WorkspaceError, match=r"given with --review\): no such folder"):
        open_review(tmp_path / "missing", {})


def test_init_in_a_folder_with_files_but_no_review_keeps_them(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("read papers\n", encoding="utf-8")
    assert init_review(folder, bundled_protocol).created
    assert (folder / "todo.txt").read_text(encoding="utf-8") == "read papers\n"


def test_init_refuses_a_foreign_protocol_file_and_a_file_as_folder(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "protocol.toml").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(WorkspaceError) as caught:
        init_review(folder, bundled_protocol)
    assert str(caught.value) == (
        f"{folder / 'protocol.toml'} exists but {folder} has no review.db; move it away or "
        "initialise in a new folder"
    )
    assert not (folder / "review.db").exists()
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(WorkspaceError) as caught:
        init_review(tmp_path / "file", bundled_protocol)
    assert str(caught.value) == f"{tmp_path / 'file'}: exists and is not a folder"


def test_init_over_a_store_without_a_protocol_reports_it_created(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    """A failed init can leave review.db without a protocol; the next init records it."""
    from review.store import open_store, sqlite_url

    (tmp_path / "rv").mkdir()
    open_store(sqlite_url(tmp_path / "rv" / "review.db"), create=True).close()
    result = init_review(tmp_path / "rv", bundled_protocol)
    assert result.created and not result.amended
    assert result.version.kind == "original"


def test_the_actor_and_the_clock_are_recorded_with_the_protocol(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    result = Review.create(
        tmp_path / "rv", bundled_protocol, clock=lambda: "2026-12-01T09:00:00Z", actor="ana"
    )
    assert result.version.recorded_at == "2026-12-01T09:00:00Z"
    assert result.version.recorded_by == "ana"


def test_a_review_on_postgresql_is_named_by_the_folder_and_opened_by_url(
    tmp_path: Path, bundled_protocol: Path, postgres_url: str
) -> None:
    result = Review.create(tmp_path / "rv", bundled_protocol, db=postgres_url)
    assert result.created and result.store.startswith("postgresql://casepool@")
    assert not (tmp_path / "rv" / "review.db").exists()
    named = (tmp_path / "rv" / "database.url").read_text(encoding="utf-8").strip()
    assert named.startswith("postgresql+psycopg://casepool@")
    with Review.open(tmp_path / "rv") as review:
        assert review.store.backend == "postgresql"
        assert review.protocol.review.title.startswith("Rituximab")
    with Review.open(postgres_url) as review:  # no folder: the protocol in force is stored
        assert review.folder is None
        assert review.protocol_version.number == 1


def test_a_database_password_is_never_written_into_the_folder(tmp_path: Path) -> None:
    from review.store import url_without_password

    assert url_without_password("postgresql://ana:s3cret@db.example/rv") == (
        "postgresql://ana@db.example/rv"
    )


def test_casepool_db_in_the_environment_chooses_the_store(
    tmp_path: Path, bundled_protocol: Path, postgres_url: str
) -> None:
    Review.create(tmp_path / "rv", bundled_protocol, env={"CASEPOOL_DB": postgres_url})
    assert not (tmp_path / "rv" / "review.db").exists()
    with Review.open(tmp_path / "rv", env={"CASEPOOL_DB": postgres_url}) as review:
        assert review.store.backend == "postgresql"


def test_opening_an_empty_database_by_url_says_what_to_do(postgres_url: str) -> None:
    from review.errors import StoreError

    with pytest.raises(StoreError, match=r"no review store here; create one with 'casepool init"):
        Review.open(postgres_url)


def test_a_saved_result_loaded_into_a_review_is_logged_with_the_protocols_query(
    review_dir: Path,
) -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "pubmed" / "pubmed1.xml"
    with Review.open(review_dir) as review:
        summary = review.load_search_file(path)
        assert review.protocol.search.pubmed is not None
        assert summary.log.query == review.protocol.search.pubmed.query
        assert review.load_search_file(path, query="x[ti]").log.query == "x[ti]"
        assert [e.query for e in review.search_log()][-1] == "x[ti]"


def test_a_review_opens_despite_problems_in_sections_the_caller_does_not_use(
    review_dir: Path,
) -> None:
    path = review_dir / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('method = "GLMM"', 'method = "X"'))
    with pytest.raises(ProtocolError):  # strict by default
        Review.open(review_dir)
    with pytest.raises(ProtocolError):
        Review.open(review_dir, uses={"analysis"})
    with Review.open(review_dir, uses={"search"}) as review:
        assert review.protocol.analysis.primary.method == "GLMM"  # the version in force
        assert review.amended is None and len(review.protocol_history()) == 1
        (warning,) = review.warnings
        assert "in [analysis]" in warning and "protocol version 1" in warning


def test_a_toml_syntax_error_is_tolerated_only_by_a_command_that_uses_no_section(
    review_dir: Path,
) -> None:
    (review_dir / "protocol.toml").write_text("[review\n", encoding="utf-8")
    with pytest.raises(ProtocolError):
        Review.open(review_dir, uses={"search"})
    with Review.open(review_dir, uses=()) as review:
        assert "has 1 problem in the file" in review.warnings[0]
