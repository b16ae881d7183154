"""Normalisation for deduplication: folded titles, pages, journals and kinds of record."""

from __future__ import annotations

import dataclasses

import pytest
from dedup_examples import ARTICLE

from review.dedup.features import (
    features,
    fold,
    journal_tokens,
    journals_compatible,
    looks_like_abstract,
    normalise_title,
    page_range,
)

# --- normalisation -------------------------------------------------------------------------


def test_fold_removes_case_accents_html_and_punctuation() -> None:
    assert fold("Hémolytic–Uremic <i>Syndrome</i> &amp; ADAMTS-13") == (
        "hemolytic uremic syndrome adamts 13"
    )


def test_title_drops_language_notes_brackets_and_review_notes() -> None:
    assert normalise_title("[The role of complement in pathology]. [Polish]") == (
        "the role of complement in pathology"
    )
    assert normalise_title("Foo bar. [Article in Spanish]") == "foo bar"
    assert normalise_title("Screening update. [Review] [33 refs]") == "screening update"
    assert normalise_title("Eculizumab.[Erratum appears in N Engl J Med. 2009;360:1]") == (
        "eculizumab"
    )


def test_page_ranges_expand_abbreviations_and_ignore_mangled_supplements() -> None:
    assert page_range("822-9") == ("822", "829")
    assert page_range("822-829") == ("822", "829")
    assert page_range("47--65") == ("47", "65")
    assert page_range("S417-S429") == ("s417", "s429")
    assert page_range("Suppl-29") == ("", "")
    assert page_range(None) == ("", "")
    assert page_range('"52-4, 64"') == ("52", "54")
    assert page_range("0822-0829") == ("822", "829")
    assert page_range("01-Jun") == ("", "")


def test_article_numbers_are_not_mistaken_for_one_page_abstracts() -> None:
    assert looks_like_abstract(*page_range("1514"), None)
    assert looks_like_abstract(*page_range("57-58"), "Suppl. 1")
    assert not looks_like_abstract(*page_range("CD008173"), None)
    assert not looks_like_abstract(*page_range("e12724"), None)
    assert not looks_like_abstract(*page_range("122-9"), "3")


def test_journal_abbreviations_match_their_full_titles_only() -> None:
    full = journal_tokens("The Journal of Clinical Pathology (London)")
    assert journals_compatible(journal_tokens("J Clin Pathol"), full)
    assert journals_compatible(
        journal_tokens("N Engl J Med"), journal_tokens("New England Journal of Medicine")
    )
    assert journals_compatible(
        journal_tokens("Thromb Haemost"), journal_tokens("Thrombosis & Haemostasis")
    )
    assert not journals_compatible(journal_tokens("Cancer"), journal_tokens("Cancer Cytopathology"))
    assert not journals_compatible(journal_tokens("J Clin Pathol"), journal_tokens("J Clin Oncol"))


@pytest.mark.parametrize(
    ("title", "types", "kind"),
    [
        ("Erratum: Rituximab for calcinosis", (), "erratum"),
        ("Correction to: Rituximab for calcinosis", (), "erratum"),
        ("Rituximab for calcinosis (vol 25, pg 122, 2019)", (), "erratum"),
        ("Comment on: Rituximab for calcinosis", (), "comment"),
        ("Re: Rituximab for calcinosis", (), "comment"),
        ("Rituximab for calcinosis - Reply", (), "reply"),
        ("Reply to Smith et al.", (), "reply"),
        ("Retraction note: Rituximab for calcinosis", (), "retraction"),
        ("Rituximab for calcinosis", ("Published Erratum",), "erratum"),
        ("Rituximab for calcinosis", ("Comment",), "comment"),
        ("Rituximab for calcinosis", ("Retraction of Publication",), "retraction"),
        ("Rituximab for calcinosis", ("Congress",), "conference"),
        ("Retracted: Rituximab for calcinosis", (), "article"),
        ("Rituximab for calcinosis", ("Journal Article", "Case Reports"), "article"),
    ],
)
def test_kind_of_record_from_title_and_publication_types(
    title: str, types: tuple[str, ...], kind: str
) -> None:
    record = dataclasses.replace(ARTICLE, title=title, publication_types=types)
    assert features(record).kind == kind
