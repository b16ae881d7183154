"""Page ranges: MEDLINE's abbreviated last pages written in full, other ranges kept."""

from __future__ import annotations

import pytest

from review.pages import full_last_page, split_pages


@pytest.mark.parametrize(
    ("pages", "split"),
    [
        ("244-55", ("244", "255")),
        ("113-25", ("113", "125")),
        ("1021-4", ("1021", "1024")),
        ("1099-100", ("1099", "1100")),
        ("2451-2455", ("2451", "2455")),
    ],
)
def test_abbreviated_last_pages_are_written_in_full(pages: str, split: tuple[str, str]) -> None:
    assert split_pages(pages) == split


@pytest.mark.parametrize(
    ("pages", "split"),
    [
        ("e24", ("e24", None)),
        ("S1-S2", ("S1", "S2")),
        ("A-F24_1-10", ("A", "F24_1-10")),
        ("12-345", ("12", "345")),
        ("-12", ("-12", None)),
        ("", ("", None)),
    ],
)
def test_other_page_fields_are_kept_as_they_are(pages: str, split: tuple[str, str | None]) -> None:
    assert split_pages(pages) == split


def test_a_range_that_would_run_backwards_is_not_an_abbreviation() -> None:
    assert full_last_page("255", "50") == "50"
    assert full_last_page("1021", "04") == "04"
