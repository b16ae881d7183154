"""Errors the review package raises; the CLI turns each into one line on stderr."""

from __future__ import annotations


class ReviewError(Exception):
    """Base of every error a user can cause in the review package."""


class ProtocolError(ReviewError):
    """The protocol file cannot be read or does not validate."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


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
