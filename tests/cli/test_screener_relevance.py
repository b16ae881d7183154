"""The terminal screener in relevance order, driven through Textual's Pilot on both stores:
each record's predicted relevance on screen, the queue reordered when a ranking is ready,
and the model trained in a background thread that never holds up a key."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from relevance_papers import relevance_review

from review.api import Review
from review.cli.screener import RETRAIN_AFTER, ScreenerApp, ScreenerSession
from review.screening.ranking import DEFAULT, Ranker, Ranking
from review.screening.relevance import TrainingSet, make_ranker

Steps = Callable[[Any, ScreenerApp], Awaitable[None]]


def drive(
    review_dir: Path, steps: Steps, ranker: Callable[[TrainingSet], Any] | None = None
) -> None:
    async def main() -> None:
        with Review.open(review_dir) as rv:
            session = ScreenerSession(
                rv.screening, stage="ta", reviewer="ana", order="relevance", ranker=ranker
            )
            app = ScreenerApp(rv, session)
            async with app.run_test(size=(110, 40)) as pilot:
                await steps(pilot, app)

    asyncio.run(main())


def text(app: ScreenerApp, selector: str) -> str:
    return str(app.query_one(selector).content)  # type: ignore[attr-defined]


async def trained(pilot: Any, app: ScreenerApp) -> None:
    """Wait as a reviewer reading the record would: the retrain starts, then is applied."""
    await pilot.pause(RETRAIN_AFTER + 0.1)
    await app.workers.wait_for_complete()
    await pilot.pause()


def decisions(review_dir: Path) -> list[tuple[int, str]]:
    with Review.open(review_dir) as rv:
        return [
            (c, v.decision)
            for c in rv.clusters().primary_of
            for v in rv.screening.state(c, stage="ta", viewer="ana").votes
        ]


def test_relevance_is_shown_and_the_queue_reorders_once_trained(review_dir: Path) -> None:
    relevant, other = relevance_review(review_dir)
    with Review.open(review_dir) as rv:
        rv.screening.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        rv.screening.decide(other[0], stage="ta", reviewer="ana", decision="exclude")
    shown: list[str] = []

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await trained(pilot, app)
        line = text(app, "#relevance")
        assert line.startswith("Predicted relevance: 0.")
        assert line.endswith(f"(model {DEFAULT}, trained on 1 includes and 1 excludes)")
        for _ in range(4):
            await pilot.press("i")
            await trained(pilot, app)
            shown.append(text(app, "#title"))
        # in cluster order the next one would be a mouse study; ranked, the case reports
        # come first (the one on screen when the ranking came stays put)
        assert all(t.startswith("Calcinosis cutis") for t in shown)
        await pilot.press("e", "0")
        await trained(pilot, app)
        assert text(app, "#title").startswith("Murine model")

    drive(review_dir, steps)
    assert len(decisions(review_dir)) == 2 + 5


def test_training_runs_in_the_background_and_never_holds_up_a_key(review_dir: Path) -> None:
    relevant, other = relevance_review(review_dir)
    with Review.open(review_dir) as rv:
        rv.screening.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        rv.screening.decide(other[0], stage="ta", reviewer="ana", decision="exclude")
    gate = threading.Event()

    class Held:
        """A ranker whose every ranking waits until the test opens the gate."""

        def __init__(self, inner: Ranker) -> None:
            self.inner = inner
            self.model = inner.model

        def rank(self, labels: Mapping[int, bool]) -> Ranking:
            gate.wait(timeout=60)
            return self.inner.rank(labels)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        try:
            await pilot.pause()
            assert text(app, "#relevance") == "Predicted relevance: the model is training..."
            first = text(app, "#title")
            await pilot.press("i")
            # committed and moved on while the model is still held
            assert text(app, "#title") != first
            assert (relevant[1], "include") in decisions(review_dir)
            assert text(app, "#title").startswith("Murine model")  # cluster order so far
            await pilot.press("e", "0")
            assert (other[1], "exclude") in decisions(review_dir)
        finally:
            gate.set()
        await trained(pilot, app)
        await pilot.press("i")
        await trained(pilot, app)
        assert text(app, "#title").startswith("Calcinosis cutis")
        assert text(app, "#relevance").startswith("Predicted relevance: 0.")

    drive(review_dir, steps, ranker=lambda t: Held(make_ranker(t)))


def test_without_an_include_and_an_exclude_the_screener_says_why_then_ranks(
    review_dir: Path,
) -> None:
    relevance_review(review_dir)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await trained(pilot, app)
        assert text(app, "#relevance") == (
            "Predicted relevance: none yet (relevance order needs at least one include and "
            "one exclude among the decisions the model may learn from (0 includes, 0 "
            "excludes so far); showing the default order)"
        )
        await pilot.press("i")  # a case report
        await trained(pilot, app)
        await pilot.press("e", "0")  # a mouse study
        await trained(pilot, app)
        assert text(app, "#relevance").startswith("Predicted relevance: 0.")

    drive(review_dir, steps)


def test_an_undone_decision_is_no_longer_learned(review_dir: Path) -> None:
    relevant, other = relevance_review(review_dir)
    with Review.open(review_dir) as rv:
        rv.screening.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        rv.screening.decide(other[0], stage="ta", reviewer="ana", decision="exclude")

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await trained(pilot, app)
        head = app.session.queue[0]
        await pilot.press("i")
        relevance = app.session.relevance
        assert relevance is not None and relevance.training.labels.get(head) is True
        await pilot.press("u")
        await trained(pilot, app)
        assert head not in relevance.training.labels
        assert head in relevance.training.queue
        assert app.session.queue[0] == head
        assert text(app, "#relevance").startswith("Predicted relevance: 0.")

    drive(review_dir, steps)
