"""The protocol's recorded versions: the original and each dated amendment (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from review.errors import ProtocolError


@dataclass(frozen=True)
class ProtocolVersion:
    """One recorded version of the protocol text."""

    number: int
    kind: str
    file_name: str
    sha256: str
    recorded_at: str
    text: str
    recorded_by: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json`` (without the text)."""
        return {
            "version": self.number,
            "kind": self.kind,
            "recorded_at": self.recorded_at,
            "recorded_by": self.recorded_by,
            "file_name": self.file_name,
            "sha256": self.sha256,
        }


def pick(versions: Sequence[ProtocolVersion], number: int) -> ProtocolVersion:
    """The version numbered ``number``; ProtocolError naming the versions there are."""
    for version in versions:
        if version.number == number:
            return version
    known = (
        f"versions {versions[0].number} to {versions[-1].number}"
        if len(versions) > 1
        else f"version {versions[0].number}"
        if versions
        else "no versions"
    )
    raise ProtocolError(
        f"there is no protocol version {number}; the review has {known} (casepool protocol history)"
    )


def diff(first: ProtocolVersion, second: ProtocolVersion) -> str:
    """The change from ``first`` to ``second`` as a unified diff ('' when the same text)."""
    lines = difflib.unified_diff(
        first.text.splitlines(keepends=True),
        second.text.splitlines(keepends=True),
        fromfile=f"protocol version {first.number} ({first.kind}, {first.recorded_at})",
        tofile=f"protocol version {second.number} ({second.kind}, {second.recorded_at})",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
