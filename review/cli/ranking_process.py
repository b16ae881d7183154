"""The screener's relevance model in a child process, so that training never competes with
drawing the next record for Python's one interpreter lock (a model trained in a thread
doubled the time from a key to the next record; ``benchmarks/screener_relevance.py``).

The child builds the ``Ranker`` once on the texts (the TF-IDF fit) and then answers each
set of labels with a ``Ranking``; a lock keeps one request on the pipe at a time. It is
started with ``spawn`` (never ``fork``, which is unsafe in a process with threads) and is a
daemon that ``close`` ends, so it never outlives the screener.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from review.screening.ranking import ModelName, Ranking


def _serve(conn: Connection, texts: Sequence[str], model: ModelName, seed: int) -> None:
    """The child: one thread of numerical work at a lower priority, so that the screener's
    own process keeps a core for drawing the next record."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # before numpy is imported here
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)
    from review.screening.ranking import Ranker

    ranker = Ranker(texts, model=model, seed=seed)
    while True:
        labels = conn.recv()
        if labels is None:
            break
        try:
            reply: Any = ranker.rank(labels)
        except Exception as exc:  # handed back, to be raised in the parent
            reply = exc
        conn.send(reply)
    conn.close()


class RankingProcess:
    """A ``Ranker`` that lives in a child process (same ``model`` and ``rank``)."""

    def __init__(
        self, texts: Sequence[str], *, model: ModelName | None = None, seed: int = 0
    ) -> None:
        from review.screening.ranking import DEFAULT

        self.model: ModelName = model or DEFAULT
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child, tuple(texts), self.model, seed),
            daemon=True,
            name="casepool-ranker",
        )
        self._process.start()
        child.close()
        self._lock = threading.Lock()

    def rank(self, labels: Mapping[int, bool]) -> Ranking:
        """Rank in the child; blocks (releasing the lock the interpreter holds) until done."""
        with self._lock:
            self._conn.send(dict(labels))
            reply = self._conn.recv()
        if isinstance(reply, Exception):
            raise reply
        return reply

    def close(self) -> None:
        """End the child (after the ranking under way, if any; killed if it lingers)."""
        if self._lock.acquire(timeout=5):  # a ranking under way finishes first
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(None)
            self._lock.release()
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=2)
        self._conn.close()
