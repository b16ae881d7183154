"""Errors the review package raises; the CLI turns each into one line on stderr."""

from __future__ import annotations

from dataclasses import dataclass


class ReviewError(Exception):
    """Base of every error a user can cause in the review package."""


@dataclass(frozen=True)
class ProtocolProblem:
    """One problem of a protocol file, where it is: the line (and column, for TOML syntax),
    the dotted key path ('' when it concerns the whole file) and what is wrong."""

    file: str
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None

    @property
    def section(self) -> str | None:
        """The top-level table the problem is in ('analysis'), or None for the whole file."""
        head = self.path.split(".")[0].split("[")[0]
        return head if head and not head.startswith("(") else None

    def __str__(self) -> str:
        if not self.path:
            where = f"line {self.line}, column {self.column}: " if self.line else ""
            return f"{self.file}: {where}{self.message}"
        place = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{place}: {self.path}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
        }


class ProtocolError(ReviewError):
    """The protocol file cannot be read or does not validate; ``problems`` lists each."""

    def __init__(self, message: str, problems: tuple[ProtocolProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems

    @classmethod
    def of(cls, problems: tuple[ProtocolProblem, ...]) -> ProtocolError:
        """One problem as its own message, several as a count then one per line."""
        if len(problems) == 1:
            return cls(str(problems[0]), problems)
        lines = "\n".join(str(p) for p in problems)
        return cls(f"{problems[0].file}: {len(problems)} problems:\n{lines}", problems)


class WorkspaceError(ReviewError):
    """The review folder is missing, not a review, or cannot be created."""


class StoreError(ReviewError):
    """The review store cannot be opened, migrated or written."""


class SearchError(ReviewError):
    """A PubMed search cannot run or failed after its retries."""


class ParseError(ReviewError):
    """A record file (XML, RIS, nbib, CSV, XLSX) is malformed; the message names the place."""


class NotTextError(ParseError):
    """A record file that should be text holds binary data (a program, an image, a database)."""


class ImportFileError(ReviewError):
    """A file cannot be imported; nothing was written."""


class OptionError(ReviewError):
    """An option that does not apply to the input it came with: a usage error in a front end."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


class DedupError(ReviewError):
    """A deduplication command cannot be carried out."""


class TruncatedXMLError(ParseError):
    """An XML document or download stops in the middle; fetching it again may help."""


class UnsafeXMLError(ParseError):
    """An XML document declares entities (XML bomb, external entity); refused unread."""


class ExportError(ReviewError):
    """Records cannot be written to the file or format asked for."""


class ScreeningError(ReviewError):
    """A screening command cannot be carried out (unknown cluster, stage, reason, reviewer)."""


class BlindError(ScreeningError):
    """The stage is blind: others' decisions are hidden until the lead unblinds it."""


class SheetError(ScreeningError):
    """A screening spreadsheet has problems; ``problems`` lists each with its row and column."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class StoppingError(ScreeningError):
    """A stopping check was asked with impossible parameters (recall, confidence, sample)."""


class ExtractError(ReviewError):
    """An extraction command cannot be carried out (unknown study, field, value)."""


class ExtractImportError(ExtractError):
    """Extraction rows have problems; ``problems`` lists each with its place. Nothing was
    written."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class AlreadyDecided(ScreeningError):
    """A first decision was asked for, but the reviewer has decided the paper already."""


class RankingError(ScreeningError):
    """Records cannot be ranked by relevance (no include or no exclude yet, unknown model)."""


class TeamError(ReviewError):
    """A team-mode account or session cannot be created or used."""


class LoginError(TeamError):
    """A login was refused: an unknown name or a wrong password (never said which)."""


class LoginRateLimited(LoginError):
    """Too many failed logins for a name or from an address in the window; wait."""


class SimulationError(ScreeningError):
    """A screening simulation cannot run: the labelled data or its settings are unusable."""
