"""``casepool user`` (accounts for the web pages) and ``casepool serve`` (where it listens,
that it is loopback only, and its refusals: one line, exit 1; bad flags exit 2)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import requests
from stores import store_snapshot
from typer.testing import CliRunner
from web import PASSWORD, Process

from review.api import Review
from review.cli import app

runner = CliRunner()


def user(review_dir: Path, *args: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["user", *args, "--review", str(review_dir)], input=password + "\n")


def test_user_add_stores_an_argon2_hash_and_user_list_shows_the_team(review_dir: Path) -> None:
    done = user(review_dir, "add", "ana")
    assert done.exit_code == 0, done.output
    assert done.stdout == "Added reviewer ana; they can log in at casepool serve's page.\n"
    assert user(review_dir, "add", "lee", "--role", "lead").exit_code == 0
    listed = runner.invoke(app, ["user", "list", "--json", "--review", str(review_dir)])
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["role"], r["lead"]) for r in rows] == [
        ("ana", "reviewer", False),
        ("lee", "lead", True),
    ]
    stored = store_snapshot(review_dir)["web_users"]
    assert all(r["password_hash"].startswith("$argon2id$") for r in stored)
    assert PASSWORD not in str(stored)
    with Review.open(review_dir) as review:
        assert review.team.login("ana", PASSWORD, address="test").user.name == "ana"


def test_user_add_refuses_a_second_account_of_the_same_name(review_dir: Path) -> None:
    assert user(review_dir, "add", "ana").exit_code == 0
    before = store_snapshot(review_dir)
    again = user(review_dir, "add", "ana")
    assert again.exit_code == 1
    assert again.stderr == (
        "Error: there is already an account ana; 'casepool user list' shows them\n"
    )
    assert store_snapshot(review_dir) == before


def test_user_add_refuses_a_short_password_and_a_bad_name(review_dir: Path) -> None:
    short = user(review_dir, "add", "ana", password="short")
    assert (short.exit_code, short.stderr) == (
        1,
        "Error: the password has 5 characters; use at least 10\n",
    )
    bad = user(review_dir, "add", "ana, ben")
    assert bad.exit_code == 1
    assert bad.stderr == (
        "Error: reviewer name 'ana, ben' cannot be used: names may not hold commas, "
        "semicolons or control characters\n"
    )
    assert store_snapshot(review_dir)["web_users"] == []


def test_an_unknown_role_is_a_usage_error(review_dir: Path) -> None:
    bad = user(review_dir, "add", "ana", "--role", "admin")
    assert bad.exit_code == 2
    assert "Invalid value for '--role': 'admin' is not a role; use lead or reviewer" in bad.stderr


def test_a_new_password_ends_the_old_sessions(review_dir: Path) -> None:
    user(review_dir, "add", "ana")
    with Review.open(review_dir) as review:
        session = review.team.login("ana", PASSWORD, address="test")
    done = user(review_dir, "password", "ana", password="another long password")
    assert done.stdout == "New password for ana; their open sessions were ended.\n"
    with Review.open(review_dir) as review:
        assert review.team.session(session.token) is None
    nobody = user(review_dir, "password", "bob")
    assert (nobody.exit_code, nobody.stderr) == (
        1,
        "Error: there is no account bob; 'casepool user list' shows them\n",
    )


def test_serve_says_where_it_listens_and_that_it_is_loopback_only(sqlite_review_dir: Path) -> None:
    server = Process(sqlite_review_dir)
    try:
        assert server.first == (f"Serving {sqlite_review_dir / 'review.db'} at {server.url}/\n")
        assert server.second == (
            "Loopback only: other machines cannot reach it (--host 0.0.0.0 serves the "
            "network, behind a TLS proxy).\n"
        )
        assert requests.get(server.url + "/login", timeout=10).status_code == 200
    finally:
        server.stop()


def test_serve_refuses_a_port_in_use(sqlite_review_dir: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        result = runner.invoke(
            app, ["serve", "--port", str(port), "--review", str(sqlite_review_dir)]
        )
    finally:
        taken.close()
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port\n"
    )


def test_serve_help_names_its_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--review", "--db"):
        assert option in result.stdout
