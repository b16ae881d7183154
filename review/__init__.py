"""casepool review: protocol, records, search, import, dedup, screening, PRISMA, report."""

from __future__ import annotations

__version__ = "0.1.0"
