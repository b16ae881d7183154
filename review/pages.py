"""Page ranges as MEDLINE abbreviates them (``244-55`` for pages 244 to 255), written in full.

Pure. One rule, used where a range is compared (``review.dedup.features.page_range``) and
where it is split into a first and a last page (RIS ``SP``/``EP`` in ``review.sources.ris``):
NLM's citation style drops the leading digits the last page shares with the first
(Patrias, *Citing Medicine*, 2nd ed., chapter 1, "Location (Pagination)").
"""

from __future__ import annotations


def full_last_page(first: str, last: str) -> str:
    """The last page with the digits it shares with the first put back ("244", "55" -> "255";
    "1021", "4" -> "1024"); anything else ("S2", "e24", a longer or backwards end) as given."""
    if not (first.isdigit() and last.isdigit()) or len(last) >= len(first):
        return last
    full = first[: len(first) - len(last)] + last
    return full if int(full) >= int(first) else last


def split_pages(pages: str | None) -> tuple[str, str | None]:
    """A pages field as (first page, last page in full), or (the field, None) when it is not
    one ``first-last`` range ("e24", "S1-S2" -> ("S1", "S2"), "244-55" -> ("244", "255"))."""
    text = pages or ""
    first, dash, last = text.partition("-")
    if dash and first.strip() and last.strip() and first == first.strip() and last == last.strip():
        return first, full_last_page(first, last)
    return text, None
