"""Author names as record files write them, read into ``Author`` and written back.

Pure. One name string in the forms databases use: ``'Smith, John A.'`` (RIS, Zotero),
``'Smith J.A.'`` (Embase), ``'Smith JA'`` (MEDLINE ``AU``), ``'J A Smith'`` (some CSV
sets); a string that fits none of them is kept whole as a collective name, so nothing is
guessed and the name round-trips: ``parse_name(format_name(a)) == a`` for every ``a`` that
``parse_name`` returns.
"""

from __future__ import annotations

import re

from review.records import Author

_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_SINGLE_INITIAL = re.compile(r"^[A-Z]\.?$")
_SPLIT_FORE = re.compile(r"[\s.\-]+")


def is_initials(token: str) -> bool:
    """True for 'J', 'JA', 'J.A.', 'J.-P.': upper-case letters with optional dots."""
    return bool(_INITIALS.match(token))


def initials_of(fore_name: str) -> str:
    """The initials of a fore name as PubMed writes them: 'John Albert' -> 'JA'."""
    return "".join(part[0].upper() for part in _SPLIT_FORE.split(fore_name) if part)


def _person(last: str, given: str) -> Author:
    if not given:
        return Author(last_name=last)
    if is_initials(given.replace(" ", "")):
        return Author(last_name=last, initials=re.sub(r"[.\s-]", "", given))
    return Author(last_name=last, fore_name=given, initials=initials_of(given) or None)


def parse_name(text: str) -> Author:
    """Read one author name (see the module docstring for the forms understood)."""
    name = " ".join(text.split())
    if "," in name:
        last, _, given = name.partition(",")
        if last.strip():
            return _person(last.strip(), given.strip())
        return Author(collective_name=name)
    tokens = name.split(" ")
    if len(tokens) == 1:
        return Author(last_name=name) if name else Author()
    tail = _trailing_initials(tokens)
    if tail:
        return _person(" ".join(tokens[: len(tokens) - len(tail)]), " ".join(tail))
    head = _leading_initials(tokens)
    if head:
        return _person(" ".join(tokens[len(head) :]), " ".join(head))
    return Author(collective_name=name)


def _trailing_initials(tokens: list[str]) -> list[str]:
    tail: list[str] = []
    for token in reversed(tokens[1:]):
        if not is_initials(token):
            break
        tail.insert(0, token)
    return tail


def _leading_initials(tokens: list[str]) -> list[str]:
    head: list[str] = []
    for token in tokens[:-1]:
        if not _SINGLE_INITIAL.match(token):
            break
        head.append(token)
    return head


def format_name(author: Author) -> str:
    """The name as RIS and CSV files write it ('Last, Fore' or 'Last, Initials'); a surname
    alone that would read back as a collective name ('van der Berg') keeps its comma."""
    text = author.display
    surname_only = not (author.collective_name or author.fore_name or author.initials)
    if author.last_name and surname_only and parse_name(text) != author:
        return f"{text},"
    return text
