"""``casepool db migrate`` and ``casepool db copy`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from stores import store_snapshot
from typer.testing import CliRunner

from review.cli import app
from review.store.migrate import HEAD, REVISIONS

runner = CliRunner()


def test_db_commands_have_help() -> None:
    for args in (["db", "--help"], ["db", "migrate", "--help"], ["db", "copy", "--help"]):
        assert runner.invoke(app, args).exit_code == 0


def test_migrate_of_a_current_store_says_there_is_nothing_to_do(review_dir: Path) -> None:
    result = runner.invoke(app, ["db", "migrate", "--review", str(review_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f": already at schema {HEAD}; nothing to do.\n")
    result = runner.invoke(app, ["db", "migrate", "--review", str(review_dir), "--json"])
    assert json.loads(result.stdout)["applied"] == []


def test_a_shared_postgresql_store_is_migrated_only_on_request(postgres_url: str) -> None:
    from sqlalchemy import create_engine

    from review.store import store_url
    from review.store.migrate import upgrade

    engine = create_engine(store_url(postgres_url))
    with engine.begin() as connection:  # a store made by an older casepool
        from alembic import command

        from review.store.migrate import _config

        command.upgrade(_config(connection), "0001")
    engine.dispose()
    del upgrade
    refused = runner.invoke(app, ["protocol", "history", "--db", postgres_url])
    assert refused.exit_code == 1
    assert f"older than this casepool's {HEAD}; upgrade it with 'casepool db migrate'" in (
        refused.stderr
    )
    done = runner.invoke(app, ["db", "migrate", "--db", postgres_url, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["applied"] == list(REVISIONS[1:])


def test_copy_moves_a_review_to_a_new_file_and_refuses_to_overwrite(
    review_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "moved.db"
    result = runner.invoke(app, ["db", "copy", "--from", str(review_dir), "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Copied ") and "checked row for row" in result.stdout
    from stores import folder_store

    with folder_store(review_dir) as original:
        expected = store_snapshot(original)
    from review.store import open_store, sqlite_url

    with open_store(sqlite_url(target)) as copied:
        assert store_snapshot(copied) == expected
    again = runner.invoke(app, ["db", "copy", "--from", str(review_dir), "--to", str(target)])
    assert again.exit_code == 1
    assert again.stderr == f"Error: {target}: exists; copy into a new file or an empty database\n"
