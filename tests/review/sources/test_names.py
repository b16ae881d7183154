"""Author names: the forms databases write, and the round trip through format_name."""

from __future__ import annotations

import pytest

from review.records import Author
from review.sources.names import format_name, parse_name


@pytest.mark.parametrize(
    ("text", "author"),
    [
        ("Smith, John A.", Author(last_name="Smith", fore_name="John A.", initials="JA")),
        ("Smith JA", Author(last_name="Smith", initials="JA")),
        ("J A Smith", Author(last_name="Smith", initials="JA")),
        ("Calcinosis Study Group", Author(collective_name="Calcinosis Study Group")),
        ("van der Berg,", Author(last_name="van der Berg")),
    ],
)
def test_names_read_and_write_back_as_the_same_author(text: str, author: Author) -> None:
    assert parse_name(text) == author
    assert parse_name(format_name(author)) == author


def test_a_surname_alone_keeps_its_comma_only_when_it_needs_it() -> None:
    assert format_name(Author(last_name="van der Berg")) == "van der Berg,"
    assert format_name(Author(last_name="0 0")) == "0 0,"
    assert format_name(Author(last_name="Smith")) == "Smith"
    assert format_name(Author(collective_name="WHO Group")) == "WHO Group"
