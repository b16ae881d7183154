"""The protocol's include and exclude terms found in a title or abstract (pure), for the
screener to show in two colours.

A term matches whole words, case-insensitively; ``*`` at its end matches any ending
(``calcif*`` finds calcification and calcified); a phrase matches across any run of
spaces. Where an include and an exclude term overlap, the longer match wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

TermKind = Literal["include", "exclude"]


@dataclass(frozen=True, slots=True)
class Mark:
    """A found term: where it is in the text and which list it comes from."""

    start: int
    end: int
    kind: TermKind


def term_pattern(term: str) -> str:
    """The regular expression of one term (see the module docstring)."""
    text = term.strip()
    wildcard = text.endswith("*")
    words = text.rstrip("*").split()
    body = r"\s+".join(re.escape(w) for w in words)
    return rf"(?<!\w){body}\w*" if wildcard else rf"(?<!\w){body}(?!\w)"


class Highlighter:
    """Finds the include and exclude terms in a text."""

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self._patterns: list[tuple[re.Pattern[str], TermKind]] = []
        for kind, terms in (("include", include), ("exclude", exclude)):
            alternatives = [term_pattern(t) for t in terms if t.strip().rstrip("*")]
            if alternatives:
                self._patterns.append(
                    (re.compile("|".join(alternatives), re.IGNORECASE), kind)  # type: ignore[arg-type]
                )

    def marks(self, text: str) -> list[Mark]:
        """Every term found, in order, without overlaps."""
        found = [
            Mark(m.start(), m.end(), kind)
            for pattern, kind in self._patterns
            for m in pattern.finditer(text)
            if m.end() > m.start()
        ]
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        kept: list[Mark] = []
        for mark in sorted(found, key=lambda m: -(m.end - m.start)):
            if all(mark.end <= k.start or mark.start >= k.end for k in kept):
                kept.append(mark)
        return sorted(kept, key=lambda m: m.start)

    def pieces(self, text: str) -> list[tuple[str, TermKind | None]]:
        """The text cut into runs, each with the kind of term it is (None for plain text)."""
        out: list[tuple[str, TermKind | None]] = []
        at = 0
        for mark in self.marks(text):
            if mark.start > at:
                out.append((text[at : mark.start], None))
            out.append((text[mark.start : mark.end], mark.kind))
            at = mark.end
        if at < len(text):
            out.append((text[at:], None))
        return out
