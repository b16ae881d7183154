"""Each reviewer's queue, read once and then checked at its head (pure bookkeeping; the
calls go to the ``Screening`` handle).

Reading a queue replays every event of the review; doing that on every "next record" would
cost a full replay per key press. As the terminal screener does, the queue is read once per
reviewer and stage, and the next record is the first cluster of it that is still to screen
(``Screening.to_screen`` reads only that cluster, so a decision taken in another tab or on
another server process is seen). An empty or old queue is read again, so records that came
back (an undo elsewhere, a new dedup run) are found.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from review.api import Screening
    from review.screening.events import Stage

FRESH_SECONDS = 120.0


@dataclass
class _Queue:
    clusters: deque[int]
    read_at: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class Queues:
    """The queues of one server process, by reviewer and stage."""

    def __init__(self, fresh_seconds: float = FRESH_SECONDS) -> None:
        self.fresh_seconds = fresh_seconds
        self._queues: dict[tuple[str, Stage], _Queue] = {}
        self._lock = threading.Lock()

    def _entry(self, screening: Screening, stage: Stage, reviewer: str) -> _Queue:
        with self._lock:
            entry = self._queues.get((reviewer, stage))
            if entry is None:
                entry = _Queue(deque(), 0.0)
                self._queues[(reviewer, stage)] = entry
        return entry

    def next(self, screening: Screening, stage: Stage, reviewer: str) -> tuple[int | None, int]:
        """The reviewer's next cluster (None when none is left) and how many are left."""
        entry = self._entry(screening, stage, reviewer)
        with entry.lock:
            if time.monotonic() - entry.read_at > self.fresh_seconds:
                self._read(entry, screening, stage, reviewer)
            for attempt in range(2):
                while entry.clusters:
                    head = entry.clusters[0]
                    if screening.to_screen(head, stage=stage, reviewer=reviewer):
                        return head, len(entry.clusters)
                    entry.clusters.popleft()
                if attempt == 0:
                    self._read(entry, screening, stage, reviewer)
            return None, 0

    def decided(self, stage: Stage, reviewer: str, cluster: int) -> None:
        """A decision was recorded: the cluster leaves the head of the queue."""
        entry = self._queues.get((reviewer, stage))
        if entry is not None:
            with entry.lock:
                if entry.clusters and entry.clusters[0] == cluster:
                    entry.clusters.popleft()

    def back(self, stage: Stage, reviewer: str, cluster: int) -> None:
        """An undo put a cluster back: it is the next one shown."""
        entry = self._queues.get((reviewer, stage))
        if entry is not None:
            with entry.lock:
                if cluster in entry.clusters:
                    entry.clusters.remove(cluster)
                entry.clusters.appendleft(cluster)

    @staticmethod
    def _read(entry: _Queue, screening: Screening, stage: Stage, reviewer: str) -> None:
        entry.clusters = deque(screening.queue(stage, reviewer))
        entry.read_at = time.monotonic()
