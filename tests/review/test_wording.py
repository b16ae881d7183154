"""Counts in messages: thousands separated, singular for one."""

from __future__ import annotations

from review.wording import count


def test_one_is_singular_and_thousands_are_separated() -> None:
    assert count(1, "record") == "1 record"
    assert count(0, "record") == "0 records"
    assert count(30000, "record") == "30,000 records"
    assert count(1, "primary record") == "1 primary record"
    assert count(2, "analysis", "analyses") == "2 analyses"
