"""What a person's screening so far says about relevance (pure), for the ranking model and
the stopping rule. Both read only what the person may see: while a stage is blind their
own decisions, never another reviewer's.

- ``training_labels``: include is relevant, exclude is not, ``maybe`` is no label. While
  the stage is blind: the reviewer's own decision in force. After unblinding: the agreed
  or resolved decision, else the reviewer's own. Clusters still in the reviewer's queue
  are left out, so the model never learns the label of a record it is ranking.
- ``screened``: each cluster screened (by the reviewer, or by anyone for the review as a
  whole) with whether it counts as relevant for the stopping rule: relevant unless it is
  excluded (agreed or resolved, or the reviewer's own exclusion). ``maybe``, pending and
  conflicting clusters count as relevant, which can only make the rule stop later.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from review.screening.state import ClusterState


def _own(state: ClusterState, reviewer: str) -> str | None:
    latest = state.latest_of(reviewer)
    if latest is None or state.split(reviewer):
        return None
    return latest.decision


def training_labels(
    states: Mapping[int, ClusterState],
    *,
    reviewer: str,
    blind: bool,
    queued: Collection[int] = (),
) -> dict[int, bool]:
    """``{cluster: relevant}`` the reviewer's model may learn from (see the module)."""
    out: dict[int, bool] = {}
    skip = set(queued)
    for cluster, state in states.items():
        if cluster in skip:
            continue
        decision: str | None = None
        if not blind and state.final is not None:
            decision = state.final.decision
        if decision is None:
            decision = _own(state, reviewer)
        if decision in ("include", "exclude"):
            out[cluster] = decision == "include"
    return out


@dataclass(frozen=True, slots=True)
class Screened:
    """A cluster screened: when it was first decided (an event id, so screening order) and
    whether it counts as relevant for the stopping rule."""

    first_event: int
    relevant: bool


def screened(states: Mapping[int, ClusterState], *, reviewer: str | None) -> dict[int, Screened]:
    """Each cluster screened by ``reviewer`` (None: by anyone, judged by the agreed or
    resolved decision) and whether it counts as relevant (see the module)."""
    out: dict[int, Screened] = {}
    for cluster, state in states.items():
        if reviewer is None:
            votes = state.votes
            if not votes and not state.resolutions:
                continue
            final = state.final
            relevant = final is None or final.decision != "exclude"
            first = min(v.event_id for v in (*votes, *state.resolutions))
        else:
            own = state.votes_of(reviewer)
            if not own:
                continue
            relevant = _own(state, reviewer) != "exclude"
            first = min(v.event_id for v in own)
        out[cluster] = Screened(first, relevant)
    return out
