"""The protocol's recorded versions: the original and each dated amendment (pure)."""

from __future__ import annotations

from dataclasses import dataclass


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
