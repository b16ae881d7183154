"""How casepool words a count in what it tells a person: thousands separated, singular for one.

Pure. Every message that counts something (import, export, search, dedup, the search log,
a database copy) says ``count(n, "record")``, so one file reads "1 record" and another
"30,000 records", never "1 records" or "read 30000 records".
"""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``'1 record'``, ``'30,000 records'``; ``plural`` for a noun that does not add -s
    (``count(2, "analysis", "analyses")``)."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {plural or noun + 's'}"
