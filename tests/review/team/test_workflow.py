"""Accounts and sessions on the store (SQLite and PostgreSQL), with the time as an argument:
a session ends after 12 hours, old failed logins stop counting, a login never reuses a
session, and a refused login writes only its failure."""

from __future__ import annotations

import pytest
from stores import store_snapshot

from review.errors import LoginError, LoginRateLimited, TeamError
from review.team.workflow import add_user, login, logout, session, users

AT = "2026-12-02T08:00:00Z"
PASSWORD = "a long test password"


@pytest.fixture
def team(store):  # type: ignore[no-untyped-def]
    add_user(store, "ana", role="reviewer", password=PASSWORD, at=AT, by="lee")
    return store


def test_a_session_lasts_twelve_hours(team) -> None:  # type: ignore[no-untyped-def]
    opened = login(team, "ana", PASSWORD, address="10.0.0.5", at=AT)
    assert opened.expires_at == "2026-12-02T20:00:00Z"
    assert session(team, opened.token, at="2026-12-02T19:59:59Z").user.name == "ana"  # type: ignore[union-attr]
    assert session(team, opened.token, at="2026-12-02T20:00:00Z") is None


def test_each_login_is_a_new_session_and_logout_ends_only_its_own(team) -> None:  # type: ignore[no-untyped-def]
    first = login(team, "ana", PASSWORD, address="a", at=AT)
    second = login(team, "ana", PASSWORD, address="b", at=AT)
    assert first.token != second.token and first.csrf_token != second.csrf_token
    logout(team, first.token)
    assert session(team, first.token, at=AT) is None
    assert session(team, second.token, at=AT) is not None


def test_failures_older_than_the_window_stop_counting(team) -> None:  # type: ignore[no-untyped-def]
    for minute in range(5):
        with pytest.raises(LoginError):
            login(team, "ana", "wrong", address="a", at=f"2026-12-02T08:0{minute}:00Z")
    with pytest.raises(LoginRateLimited):
        login(team, "ana", PASSWORD, address="a", at="2026-12-02T08:14:00Z")
    assert login(team, "ana", PASSWORD, address="a", at="2026-12-02T08:15:30Z").user.name == "ana"


def test_a_refused_login_writes_only_its_failure(team) -> None:  # type: ignore[no-untyped-def]
    before = store_snapshot(team)
    with pytest.raises(LoginError, match=r"^wrong name or password$"):
        login(team, "nobody", PASSWORD, address="a", at=AT)
    after = store_snapshot(team)
    assert after["web_sessions"] == before["web_sessions"] == []
    assert [(r["user_name"], r["address"]) for r in after["web_login_failures"]] == [
        ("nobody", "a")
    ]


def test_users_are_listed_by_name_and_a_name_is_taken_once(team) -> None:  # type: ignore[no-untyped-def]
    add_user(team, "ben", role="lead", password=PASSWORD, at=AT, by=None)
    assert [(u.name, u.role) for u in users(team)] == [("ana", "reviewer"), ("ben", "lead")]
    with pytest.raises(TeamError, match=r"^there is already an account ana; "):
        add_user(team, "ana", role="lead", password=PASSWORD, at=AT, by=None)
