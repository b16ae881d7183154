"""The protocol's include and exclude terms, found in a title or abstract (pure)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from review.screening.highlight import Highlighter

BUNDLED = Highlighter(
    ["rituximab", "anti-CD20", "calcinosis", "calcif*", "systemic sclerosis", "CREST"],
    ["review", "mice", "rat", "in vitro"],
)


def found(h: Highlighter, text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.kind) for m in h.marks(text)]


def test_whole_words_any_case_and_a_wildcard_ending() -> None:
    text = "Rituximab for calcified nodules and CALCINOSIS: a Review of rats in vitro"
    assert found(BUNDLED, text) == [
        ("Rituximab", "include"),
        ("calcified", "include"),
        ("CALCINOSIS", "include"),
        ("Review", "exclude"),
        ("in vitro", "exclude"),
    ]  # 'rats' is not the word 'rat'


def test_a_phrase_matches_across_line_breaks_and_hyphens_stay_part_of_a_term() -> None:
    text = "limited systemic\n  sclerosis treated with anti-CD20 therapy"
    assert found(BUNDLED, text) == [
        ("systemic\n  sclerosis", "include"),
        ("anti-CD20", "include"),
    ]


def test_a_term_inside_another_word_is_not_found() -> None:
    assert found(BUNDLED, "preview of crestal bone in ratios") == []


def test_the_longer_of_overlapping_terms_wins() -> None:
    h = Highlighter(["lung"], ["lung fibrosis"])
    assert found(h, "lung fibrosis and lung") == [("lung fibrosis", "exclude"), ("lung", "include")]


def test_empty_and_bare_wildcard_terms_find_nothing() -> None:
    h = Highlighter(["", "*", "  "], [])
    assert h.marks("anything at all") == []
    assert h.pieces("anything at all") == [("anything at all", None)]


@given(st.text(alphabet="rituxmabcalnosRVIEW vitro-\n", max_size=80))
def test_pieces_rebuild_the_text_and_marks_never_overlap(text: str) -> None:
    pieces = BUNDLED.pieces(text)
    assert "".join(piece for piece, _ in pieces) == text
    marks = BUNDLED.marks(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(marks))
