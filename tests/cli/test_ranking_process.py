"""The screener's model in a child process ranks exactly as the model in the process does,
hands its errors back, and ends when closed."""

from __future__ import annotations

import pytest

from review.cli.ranking_process import RankingProcess
from review.errors import RankingError
from review.screening.ranking import DEFAULT, Ranker

TEXTS = [
    "calcinosis cutis treated with rituximab in systemic sclerosis",
    "bleomycin lung fibrosis in mice",
    "rituximab for calcinosis in a woman with scleroderma",
    "macrophage signalling in murine lung",
    "calcinosis regressed after rituximab",
]


def test_the_child_ranks_as_the_ranker_and_hands_errors_back() -> None:
    child = RankingProcess(TEXTS)
    try:
        labels = {0: True, 1: False}
        assert child.rank(labels) == Ranker(TEXTS).rank(labels)
        assert child.model == DEFAULT
        with pytest.raises(RankingError) as caught:
            child.rank({0: True})
        assert str(caught.value) == (
            "ranking needs at least one include and one exclude; there are 1 includes and 0 "
            "excludes so far"
        )
        assert set(child.rank(labels).order[:2]) == {2, 4}  # still answering after an error
    finally:
        child.close()
    assert not child._process.is_alive()
