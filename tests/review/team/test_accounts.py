"""Accounts and the login rate limit, pure: roles, password rules, the window's arithmetic."""

from __future__ import annotations

import pytest

from review.errors import TeamError
from review.team.accounts import (
    FAILURES_PER_ADDRESS,
    FAILURES_PER_USER,
    User,
    check_password,
    parse_role,
    rate_limit_message,
    shifted,
)


def test_a_lead_is_a_lead_account_or_a_lead_the_protocol_names() -> None:
    assert User("lee", "lead", "t").is_lead(())
    assert User("ana", "reviewer", "t").is_lead(("ana",))
    assert not User("ana", "reviewer", "t").is_lead(("lee",))


def test_roles_and_passwords_are_checked_with_one_line_messages() -> None:
    assert parse_role(" Lead ") == "lead"
    with pytest.raises(TeamError, match=r"^'admin' is not a role; use lead or reviewer$"):
        parse_role("admin")
    assert check_password("x" * 10) == "x" * 10
    with pytest.raises(TeamError, match=r"^the password has 9 characters; use at least 10$"):
        check_password("x" * 9)
    with pytest.raises(TeamError, match=r"^a password cannot hold a line break$"):
        check_password("long enough\npassword")


def test_times_move_across_midnight_in_the_same_form() -> None:
    assert shifted("2026-12-01T23:50:00Z", minutes=15) == "2026-12-02T00:05:00Z"
    assert shifted("2026-12-01T10:00:00Z", hours=12) == "2026-12-01T22:00:00Z"


def test_the_limit_starts_at_the_fifth_failure_for_a_name_and_the_twentieth_for_an_address() -> (
    None
):
    assert rate_limit_message("ana", FAILURES_PER_USER - 1, FAILURES_PER_ADDRESS - 1) is None
    assert rate_limit_message("ana", FAILURES_PER_USER, 0) == (
        "too many failed logins for ana (5 in 15 minutes); wait 15 minutes or ask a lead to "
        "reset the password"
    )
    assert rate_limit_message("ana", 0, FAILURES_PER_ADDRESS) == (
        "too many failed logins from this address (20 in 15 minutes); wait 15 minutes"
    )
