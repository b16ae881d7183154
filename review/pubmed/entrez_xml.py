"""ESearch and EPost replies parsed into plain objects; pure (bytes in, dataclasses out).

lxml with no DTD loading, no network and no entity resolution; and any reply that carries
an internal DTD subset (where entity declarations live: XML bombs, external entities) is
refused before parsing, since real E-utilities replies never have one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from review.errors import SearchError

ESEARCH_MESSAGES = ("PhraseNotFound", "FieldNotFound", "QuotedPhraseNotFound", "OutputMessage")
_PROLOG_WITH_SUBSET = re.compile(
    rb"^\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*)*<!DOCTYPE\s+[^\[>]*\[", re.DOTALL
)


class MalformedResponse(Exception):
    """A reply that is not the XML the endpoint promises (truncated, an HTML page...)."""


@dataclass(frozen=True)
class HistoryRef:
    """A result set on NCBI's history server."""

    webenv: str
    query_key: str


@dataclass(frozen=True)
class ESearchResult:
    """One ESearch reply: the hit count, a slice of ids, history and PubMed's messages.

    ``warnings`` holds PubMed's ``ErrorList`` and ``WarningList`` entries as
    ``'PhraseNotFound: abcXYZ'``; PubMed still runs the rest of the query when it reports
    them, so they are kept for the search log rather than raised.
    """

    count: int
    retstart: int
    retmax: int
    ids: tuple[str, ...]
    webenv: str | None
    query_key: str | None
    query_translation: str | None
    warnings: tuple[str, ...]


def refuse_internal_dtd(body: bytes, what: str) -> None:
    """Raise ``SearchError`` if ``body`` declares an internal DTD subset (entities, XML bombs)."""
    if _PROLOG_WITH_SUBSET.match(body[:65536]):
        raise SearchError(
            f"{what}: the reply declares its own DTD (entities), which E-utilities never "
            "sends; refused without expanding it. Check CASEPOOL_EUTILS_URL"
        )


def _safe_root(body: bytes, expected: str) -> Any:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(f"malformed {expected} reply ({exc})") from None
    if root.tag != expected:
        raise MalformedResponse(f"expected <{expected}>, got <{root.tag}>")
    return root


def _text(root: Any, path: str) -> str | None:
    node = root.find(path)
    if node is None:
        return None
    return "".join(node.itertext()).strip()


def _int(root: Any, path: str, default: int | None = None) -> int:
    value = _text(root, path)
    if value is None or not value.isdigit():
        if default is not None:
            return default
        raise MalformedResponse(f"ESearch reply has no numeric <{path}>")
    return int(value)


def parse_esearch(body: bytes) -> ESearchResult:
    """An ``eSearchResult`` reply; a top-level ``ERROR`` (an invalid query) raises SearchError."""
    root = _safe_root(body, "eSearchResult")
    error = _text(root, "ERROR")
    if error:
        raise SearchError(f"PubMed refused the search: {error}; check the query and its limits")
    messages = []
    for list_tag in ("ErrorList", "WarningList"):
        for node in root.findall(list_tag + "/*"):
            text = "".join(node.itertext()).strip()
            messages.append(f"{node.tag}: {text}" if text else str(node.tag))
    return ESearchResult(
        count=_int(root, "Count"),
        retstart=_int(root, "RetStart", 0),
        retmax=_int(root, "RetMax", 0),
        ids=tuple(t.strip() for t in root.xpath("IdList/Id/text()")),
        webenv=_text(root, "WebEnv"),
        query_key=_text(root, "QueryKey"),
        query_translation=_text(root, "QueryTranslation"),
        warnings=tuple(messages),
    )


def parse_epost(body: bytes) -> HistoryRef:
    """An ``ePostResult`` reply; its ``ERROR`` elements raise SearchError."""
    root = _safe_root(body, "ePostResult")
    errors = ["".join(e.itertext()).strip() for e in root.findall("ERROR")]
    if errors:
        raise SearchError("EPost refused: " + "; ".join(errors))
    webenv, query_key = _text(root, "WebEnv"), _text(root, "QueryKey")
    if not webenv or not query_key:
        raise MalformedResponse("EPost reply has no WebEnv or QueryKey")
    return HistoryRef(webenv, query_key)
