"""Full texts and studies, on the store: mark a report's full text found or not found, read
where it is, and link reports of the same study (the same patients), each change one
transaction that checks first.
"""

from __future__ import annotations

from collections import defaultdict

from review.errors import ScreeningError
from review.screening.events import Paper
from review.screening.state import Retrieval, retrievals
from review.screening.workflow import (
    NOTE_LIMIT,
    Settings,
    read_cluster,
    read_state,
    snapshot,
)
from review.store import Store
from review.store import screening as sql

LOCATION_LIMIT = 2000


def retrieve(
    store: Store,
    settings: Settings,
    *,
    cluster_id: int,
    found: bool,
    location: str | None = None,
    reason: str | None = None,
    at: str,
    by: str | None,
) -> Paper:
    """Mark a report's full text found (with the path or URL of its PDF, if given) or not
    found (with why: required)."""
    if "ft" not in settings.stages:
        settings.check_stage("ft")
    where = (location or "").strip() or None
    why = (reason or "").strip() or None
    if found and why:
        raise ScreeningError("a reason goes with a full text not retrieved only")
    if not found and where:
        raise ScreeningError("a full text not retrieved has no PDF to give")
    if not found and not why:
        raise ScreeningError("say why the full text could not be retrieved (--why TEXT)")
    for text, limit in ((where, LOCATION_LIMIT), (why, NOTE_LIMIT)):
        if text is not None and (len(text) > limit or any(ord(c) < 32 for c in text)):
            raise ScreeningError(
                f"{text[:40]!r} cannot be stored: at most {limit} characters on one line"
            )
    with store.transaction() as tx:
        paper, membership = read_cluster(tx, cluster_id)
        if "ta" in settings.stages:
            ta = read_state(tx, settings, "ta", paper, membership)
            if ta.outcome(settings.advance) != "advanced":
                raise ScreeningError(
                    f"cluster {paper.cluster_id} has not gone on to full text, so its report "
                    "is not sought"
                )
        sql.add_retrieval(
            tx,
            "retrieved" if found else "not_retrieved",
            paper,
            at=at,
            by=by,
            location=where,
            reason=why,
        )
    return paper


def link_study(
    store: Store, *, cluster_id: int, study: int | None, at: str, by: str | None
) -> tuple[Paper, Paper | None]:
    """Link a report to another report of the same study (the same patients), or with
    ``study=None`` make it its own study again."""
    with store.transaction() as tx:
        paper, _ = read_cluster(tx, cluster_id)
        other = None
        if study is not None:
            other, _ = read_cluster(tx, study)
            if other.cluster_id == paper.cluster_id:
                raise ScreeningError(
                    f"cluster {cluster_id} cannot be linked to itself"
                    + (f" (cluster {study} is now part of it)" if study != cluster_id else "")
                )
        sql.add_link(tx, "link" if other else "unlink", paper, other, at=at, by=by)
    return paper, other


def study_groups(store: Store, settings: Settings) -> dict[int, list[int]]:
    """Each study (named by its smallest report cluster) with its reports, for studies of
    two or more reports."""
    view = snapshot(store, settings)
    groups: dict[int, list[int]] = defaultdict(list)
    for cluster, root in view.study_of.items():
        groups[root].append(cluster)
    return {k: sorted(v) for k, v in sorted(groups.items()) if len(v) > 1}


def full_text(store: Store, cluster_id: int) -> Retrieval | None:
    """A cluster's full-text retrieval (where its PDF is), reading only that cluster."""
    with store.read() as tx:
        paper, membership = read_cluster(tx, cluster_id)
        found = retrievals(sql.retrieval_events(tx, records=paper.members), membership)
    return found.get(paper.cluster_id)
