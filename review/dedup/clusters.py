"""Clusters of duplicate records with ids that last, their primaries and merged view (pure).

``deduplicate`` clusters records by the pair verdicts of ``review.dedup.matching``:
confident pairs join in order of score as long as no veto holds between any two members
of the growing cluster (so a chain of similar records cannot join two papers), uncertain
pairs wait for a person. ``name_clusters`` gives each cluster its id.

A cluster is named by its anchor, a record of it, and the name outlives re-runs: a cluster
keeps the name of a member whose own cluster it was (the oldest if several joined); a
cluster whose anchor was withdrawn by its source keeps the name where most of its members
are; otherwise a new cluster is named by its smallest record id. So a name survives
re-running dedup, a new duplicate joining, and the undoing of a merge (the part holding
the anchor keeps it, the other records get their own names back); the record a name was
born with always tells where that name went.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from meta.progress import Progress
from review.dedup.decisions import Constraints, pair_key
from review.dedup.features import Features, features
from review.dedup.matching import THRESHOLDS, Match, Thresholds, candidate_pairs, compare, veto
from review.records import Record


@dataclass(frozen=True, slots=True)
class Cluster:
    """Records of one paper: ``members`` ascending, its id, its primary record, and why each
    member joined."""

    members: tuple[int, ...]
    primary: int
    reasons: tuple[tuple[int, str], ...]
    cluster_id: int


@dataclass(frozen=True, slots=True)
class DedupResult:
    """Clusters of two or more records (and single records named by another record), with
    the uncertain pairs for the review queue."""

    clusters: tuple[Cluster, ...]
    uncertain: tuple[Match, ...]
    n_records: int
    n_candidate_pairs: int

    @property
    def n_duplicates(self) -> int:
        """Records that are not the primary of their cluster (duplicates removed, PRISMA)."""
        return sum(len(c.members) - 1 for c in self.clusters)

    @property
    def n_clusters(self) -> int:
        """Clusters of two or more records."""
        return sum(1 for c in self.clusters if len(c.members) > 1)


@dataclass(frozen=True)
class Membership:
    """Which cluster each live record is in, and each cluster's primary record."""

    cluster_of: Mapping[int, int]
    primary_of: Mapping[int, int]

    @classmethod
    def from_rows(cls, live: Iterable[int], rows: Iterable[tuple[int, int, bool]]) -> Membership:
        """From the stored rows (record, cluster id, is primary) of live records; a live
        record without a row is its own cluster. A cluster whose primary was withdrawn has
        its smallest remaining member stand in (the cluster keeps its id)."""
        cluster_of = {rid: rid for rid in live}
        primary_of: dict[int, int] = {}
        for record_id, cluster_id, is_primary in rows:
            if record_id not in cluster_of:
                continue
            cluster_of[record_id] = cluster_id
            if is_primary:
                primary_of[cluster_id] = record_id
        for record_id, cluster_id in sorted(cluster_of.items()):
            primary_of.setdefault(cluster_id, record_id)
        return cls(cluster_of, primary_of)

    def members(self, cluster_id: int) -> tuple[int, ...]:
        """The live records of a cluster, ascending (empty if there is none by that id)."""
        return tuple(sorted(r for r, c in self.cluster_of.items() if c == cluster_id))

    def groups(self) -> dict[int, list[int]]:
        """Cluster id -> its records, ascending."""
        found: dict[int, list[int]] = defaultdict(list)
        for record_id in sorted(self.cluster_of):
            found[self.cluster_of[record_id]].append(record_id)
        return dict(found)

    def is_primary(self, record_id: int) -> bool:
        return self.primary_of.get(self.cluster_of[record_id]) == record_id

    def resolve(self, name: int) -> int | None:
        """Where the cluster once named ``name`` is now: that cluster if it still exists,
        else the cluster holding the record it was named by (None if that record is gone)."""
        if name in self.primary_of:
            return name
        return self.cluster_of.get(name)


def name_clusters(groups: Sequence[Sequence[int]], previous: Mapping[int, int]) -> list[int]:
    """The id of each group of record ids, given each record's cluster id before
    (``previous``; a record missing from it was its own cluster). See the module docstring."""
    before = previous.get
    names: list[int | None] = [None] * len(groups)
    present: set[int] = set()
    for group in groups:
        present.update(group)
    orphans: dict[int, Counter[int]] = defaultdict(Counter)
    for position, group in enumerate(groups):
        members = set(group)
        own = [name for name in (before(r, r) for r in group) if name in members]
        if own:
            names[position] = min(own)
        for record_id in group:
            name = before(record_id, record_id)
            if name not in present:
                orphans[name][position] += 1
    for name in sorted(orphans):
        votes = [(n, -min(groups[p]), p) for p, n in orphans[name].items() if names[p] is None]
        if votes:
            names[max(votes)[2]] = name
    return [min(group) if name is None else name for group, name in zip(groups, names, strict=True)]


class _Clusters:
    """Union-find over positions that checks vetoes against every member before a merge."""

    def __init__(self, feats: Sequence[Features], keep_apart: set[tuple[int, int]]) -> None:
        self.feats = feats
        self.keep_apart = keep_apart
        self.root = list(range(len(feats)))
        self.members: dict[int, list[int]] = {i: [i] for i in range(len(feats))}

    def find(self, i: int) -> int:
        while self.root[i] != i:
            self.root[i] = self.root[self.root[i]]
            i = self.root[i]
        return i

    def blocker(self, i: int, j: int, *, human: bool) -> str | None:
        """Why the clusters of i and j cannot join (a veto between any two members), or None."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return None
        for x in self.members[ri]:
            for y in self.members[rj]:
                if (min(x, y), max(x, y)) in self.keep_apart:
                    return "kept apart by a person"
                if not human:
                    reason = veto(self.feats[x], self.feats[y])
                    if reason:
                        return reason
        return None

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return
        if len(self.members[ri]) < len(self.members[rj]):
            ri, rj = rj, ri
        self.root[rj] = ri
        self.members[ri].extend(self.members.pop(rj))


def primary_rank(record: Record, f: Features) -> tuple[int, int, str]:
    """Sort key of the primary: a PubMed record first, then the most complete, then content."""
    pubmed = record.source.lower() == "pubmed" or bool(f.pmid)
    return (0 if pubmed else 1, -f.completeness, f.fingerprint)


_STEP = 2000
"""Records (or pairs, times 2.5) between two progress reports."""


def _prepare(
    records: Sequence[tuple[int, Record]], progress: Progress | None
) -> list[tuple[Features, int, Record]]:
    """Each record's comparable features (a tenth of the time of a large run)."""
    prepared = []
    for n, (rid, rec) in enumerate(records):
        if progress is not None and n % _STEP == 0:
            progress("preparing records", n, len(records))
        prepared.append((features(rec), rid, rec))
    if progress is not None:
        progress("preparing records", len(records), len(records))
    return mark_recurring(prepared)


RECURRING_PLACES = 3
"""A title printed at this many different places in one bibliography is a recurring one."""


def mark_recurring(
    prepared: list[tuple[Features, int, Record]],
) -> list[tuple[Features, int, Record]]:
    """Mark as repeated every title that the bibliography itself shows at several places
    (different years, volumes or first pages): a column or notice the patterns of
    ``features.recurring_title`` do not know, such as "Images in cardiology". Issue numbers
    are not places here: exports fill that field with anything."""
    places: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for f, _, _ in prepared:
        if f.compact and not f.recurring and f.first_page:
            places[f.compact].add((f.year, f.volume, f.first_page))
    repeated = {title for title, seen in places.items() if len(seen) >= RECURRING_PLACES}
    if not repeated:
        return prepared
    return [
        (dataclasses.replace(f, repeated=True), rid, rec) if f.compact in repeated else item
        for item in prepared
        for f, rid, rec in (item,)
    ]


def deduplicate(
    records: Sequence[tuple[int, Record]],
    constraints: Constraints = Constraints(),
    progress: Progress | None = None,
    previous: Mapping[int, int] | None = None,
    limits: Thresholds = THRESHOLDS,
) -> DedupResult:
    """Cluster duplicate records; ``records`` are (record id, record) with unique ids, and
    ``previous`` each record's cluster id before this run (``name_clusters``).

    The result depends only on the records and the constraints, not on their order: records
    are ordered by content and candidate pairs by score, then content.
    """
    ids = [rid for rid, _ in records]
    if len(set(ids)) != len(ids):
        raise ValueError("record ids must be unique")
    prepared = sorted(_prepare(records, progress), key=lambda t: (t[0].fingerprint, t[1]))
    feats = [p[0] for p in prepared]
    rid_of = [p[1] for p in prepared]
    pos_of = {rid: i for i, rid in enumerate(rid_of)}
    keep_apart = {
        (min(pos_of[a], pos_of[b]), max(pos_of[a], pos_of[b]))
        for a, b in constraints.keep_apart
        if a in pos_of and b in pos_of
    }
    clusters = _Clusters(feats, keep_apart)
    reasons: dict[int, str] = {}
    for a, b in constraints.merge:
        if (
            a in pos_of
            and b in pos_of
            and clusters.blocker(pos_of[a], pos_of[b], human=True) is None
        ):
            clusters.union(pos_of[a], pos_of[b])
            reasons.setdefault(pos_of[a], "merged by a person")
            reasons.setdefault(pos_of[b], "merged by a person")

    pairs = sorted(candidate_pairs(feats))
    confident: list[tuple[float, int, int, str]] = []
    maybe: list[tuple[float, int, int, str]] = []
    for n, (i, j) in enumerate(pairs):
        if progress is not None and n % (5 * _STEP // 2) == 0:
            progress("comparing candidate pairs", n, len(pairs), "pairs")
        result = compare(feats[i], feats[j], limits)
        if result.verdict == "same":
            confident.append((-result.score, i, j, result.reason))
        elif result.verdict == "maybe":
            maybe.append((-result.score, i, j, result.reason))
    if progress is not None:
        progress("comparing candidate pairs", len(pairs), len(pairs), "pairs")

    confident.sort()
    for neg_score, i, j, reason in confident:
        if clusters.find(i) == clusters.find(j):
            continue
        blocked = clusters.blocker(i, j, human=False)
        if blocked is None:
            clusters.union(i, j)
            reasons.setdefault(j, reason)
            reasons.setdefault(i, reason)
        else:
            maybe.append((neg_score, i, j, f"{reason}, but {blocked} in the cluster"))
    return _result(
        records, prepared, clusters, reasons, maybe, keep_apart, len(pairs), previous or {}
    )


def _result(
    records: Sequence[tuple[int, Record]],
    prepared: list[tuple[Features, int, Record]],
    clusters: _Clusters,
    reasons: dict[int, str],
    maybe: list[tuple[float, int, int, str]],
    keep_apart: set[tuple[int, int]],
    n_pairs: int,
    previous: Mapping[int, int],
) -> DedupResult:
    groups = [sorted(prepared[p][1] for p in members) for members in clusters.members.values()]
    names = name_clusters(groups, previous)
    out: list[Cluster] = []
    for members, ids, name in zip(clusters.members.values(), groups, names, strict=True):
        if len(members) < 2 and name == ids[0]:
            continue
        best = min(members, key=lambda p: primary_rank(prepared[p][2], prepared[p][0]))
        why = tuple(
            sorted(
                (prepared[p][1], "primary" if p == best else reasons.get(p, "linked"))
                for p in members
            )
        )
        out.append(Cluster(tuple(ids), prepared[best][1], why, name))
    out.sort(key=lambda c: c.members[0])
    queued: dict[tuple[int, int], Match] = {}
    for neg_score, i, j, reason in sorted(maybe):
        if (i, j) in keep_apart or clusters.find(i) == clusters.find(j):
            continue
        if clusters.blocker(i, j, human=True) is not None:
            continue
        a, b = pair_key(prepared[i][1], prepared[j][1])
        queued.setdefault((a, b), Match(a, b, round(-neg_score, 4), reason))
    return DedupResult(
        clusters=tuple(out),
        uncertain=tuple(sorted(queued.values(), key=lambda m: (-m.score, m.a, m.b))),
        n_records=len(records),
        n_candidate_pairs=n_pairs,
    )


_TUPLE_FIELDS = ("authors", "publication_types", "mesh", "keywords")


def merged_view(records: Sequence[Record]) -> Record:
    """The cluster as one record: the primary (``records[0]``) with each field it lacks filled
    from the first other member that has it (an abstract from Embase when PubMed has none).
    ``extra`` pairs are united, primary first; ``raw`` stays the primary's."""
    if not records:
        raise ValueError("merged_view needs at least one record")
    primary, others = records[0], records[1:]
    changes: dict[str, object] = {}
    for fld in dataclasses.fields(Record):
        name = fld.name
        if name in ("source", "source_id", "raw", "extra"):
            continue
        if getattr(primary, name) in (None, "", ()):
            for other in others:
                value = getattr(other, name)
                if value not in (None, "", ()):
                    changes[name] = value
                    break
    extra = list(primary.extra)
    seen = {k for k, _ in extra}
    for other in others:
        for key, value in other.extra:
            if key not in seen:
                extra.append((key, value))
                seen.add(key)
    changes["extra"] = tuple(extra)
    return dataclasses.replace(primary, **changes)  # type: ignore[arg-type]
