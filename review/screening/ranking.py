"""Prioritisation (pure): rank the unscreened records by a relevance model trained on the
screening decisions so far, as ASReview's active learning does.

The text features (TF-IDF over title, abstract, keywords and MeSH terms) are fitted once on
every text, without labels, as ASReview does; each ``rank`` call then trains a linear
classifier on the labelled positions only and scores every position. A record's own label
is never seen before it is labelled: only the positions in ``labels`` are trained on.

scikit-learn is imported inside the functions that use it, so ``casepool --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from review.errors import RankingError
from review.records import Record

if TYPE_CHECKING:
    import numpy as np

ModelName = Literal["tfidf-svm", "elas-u4", "tfidf-logreg"]
"""``tfidf-svm``, the default: TF-IDF of words and word pairs (sublinear term frequency,
terms in more than 95% of the texts dropped) and a linear SVM (squared hinge, C 0.15) on
ASReview's balanced sample weights (ratio 9.8), solved by ``review.screening.svm`` so that
each refit starts from the last one (the problem liblinear solves, to a rank correlation of
the scores with liblinear's above 0.9999). ``elas-u4``: ASReview's default model ``elas_u4``
(ASReview 2.2 and 3.0, ``asreview/models/models.py``), the same with C 0.11; it replays
``asreview simulate``'s screening order exactly. ``tfidf-logreg``: the same
features with a class-balanced L2 logistic regression (C 10).

The default's C was chosen on all seven Cohen 2006 reviews and both of their labels, on
seeds other than the benchmark's 0-9, as the best mean WSS@95 among the settings no more
than 0.02 below elas_u4 on any review (the issue's two targets). On seeds 100-102: C 0.05,
0.11, 0.2 and 0.3, and beside it the balancer's ratio (3, 5, 20), the title counted twice,
character 3-5-grams added to the words and terms in one text only dropped (earlier, on
seeds 0-1: English stop words removed, logistic regression with C 1 and 10, an SVM +
logistic regression ensemble); none held on every review. On seeds 100-109, mean WSS@95
and the largest loss against elas_u4 (0.358): C 0.15 0.3625, -0.008; C 0.2 0.364, -0.022;
C 0.25 and 0.3 0.368, -0.028 (Triptans' final inclusions, where a larger C finds the
23rd of 24 relevant records about 20 records later). Solved by ``review.screening.svm``
from the last fit, on the private terms merged, a refit after one more decision takes less
than elas_u4's fit from nothing (benchmarks/screening.py --speed).
benchmarks/screening.py measures both against ``asreview simulate`` on seeds 0-9."""

MODELS: tuple[ModelName, ...] = get_args(ModelName)
DEFAULT: ModelName = "tfidf-svm"
SVM_C: Mapping[str, float] = {"tfidf-svm": 0.15, "elas-u4": 0.11}
SVM_BALANCE = 9.8
"""elas_u4's balancer ratio, for both SVMs (see ``_balanced_weights``)."""


def record_text(record: Record) -> str:
    """The text a model reads: title, abstract, keywords and MeSH terms, one per line."""
    parts = [record.title or "", record.abstract or ""]
    parts.append("; ".join(record.keywords))
    parts.append("; ".join(record.mesh))
    return "\n".join(p.strip() for p in parts if p and p.strip())


@dataclass(frozen=True)
class Ranking:
    """Positions (indexes into the texts) of the unlabelled texts, most relevant first, ties
    broken by position; one relevance score in [0, 1] per position (labelled ones too)."""

    order: tuple[int, ...]
    scores: tuple[float, ...]
    model: str
    started_from: int = 0
    """How many labels the fit this one started from was trained on (0: from nothing)."""


class Ranker:
    """Fits the text features once on all texts; each ``rank`` is a cheap refit on the
    labels so far, deterministic given ``seed`` and the labels of the calls before it.

    The default model starts each fit from the last one when every label that fit was
    trained on is among the new labels, unchanged (the screener's case: one more decision).
    Otherwise (a decision revised, or another reviewer's labels) it starts from nothing, so a
    fit never starts from a solution that saw a label the new one may not see: one Ranker
    can serve two blind reviewers in turn without one's decisions reaching the other's
    ranking."""

    def __init__(self, texts: Sequence[str], *, model: ModelName = DEFAULT, seed: int = 0) -> None:
        if model not in MODELS:
            raise RankingError(
                f"unknown ranking model {model!r}; choose one of {', '.join(MODELS)}"
            )
        if not texts:
            raise RankingError("there are no records to rank")
        self.model: ModelName = model
        self.seed = seed
        self._size = len(texts)
        self._features = _features(texts)
        if model == "tfidf-svm":
            self._features = _private_terms_merged(self._features)
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._size

    def forget(self) -> None:
        """Drop the last fit: the next ``rank`` starts from nothing."""
        self._last = None

    def rank(self, labels: Mapping[int, bool]) -> Ranking:
        """Train on ``labels`` (position -> included) and rank the positions not in it."""
        import numpy as np

        positions = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        _check_positions(positions, self._size)
        y = np.fromiter((bool(v) for v in labels.values()), dtype=bool, count=len(labels))
        by_position = np.argsort(positions, kind="stable")  # the order labels came in is moot
        positions, y = positions[by_position], y[by_position]
        included = int(y.sum())
        if included == 0 or included == len(y):
            raise RankingError(
                "ranking needs at least one include and one exclude; "
                f"there are {included} includes and {len(y) - included} excludes so far"
            )
        started_from = 0
        if self.model == "tfidf-svm":
            started_from, start = self._start(positions, y)
            solution = _svm_solution(self._features, positions, y, start)
            self._last = (positions, y, solution)
            scores = _logistic(self._features @ solution[:-1] + solution[-1])
        else:
            scores = _scores(self.model, self._features, positions, y, self.seed)
        unlabelled = np.ones(self._size, dtype=bool)
        unlabelled[positions] = False
        candidates = np.flatnonzero(unlabelled)
        # stable sort on the negated score: ties keep their position order
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return Ranking(
            order=tuple(int(i) for i in order),
            scores=tuple(float(s) for s in scores),
            model=self.model,
            started_from=started_from,
        )

    def _start(self, positions: np.ndarray, y: np.ndarray) -> tuple[int, np.ndarray | None]:
        """How many labels the last fit saw and its solution, if every one of them is among
        these, unchanged; else ``(0, None)``: start from nothing."""
        import numpy as np

        if self._last is None:
            return 0, None
        last_positions, last_y, solution = self._last
        where = np.searchsorted(positions, last_positions)  # both sorted
        if (
            last_positions.size > positions.size
            or (where.size and where.max() >= positions.size)
            or not np.array_equal(positions[where], last_positions)
            or not np.array_equal(y[where], last_y)
        ):
            return 0, None
        return int(last_positions.size), solution


def _check_positions(positions: np.ndarray, size: int) -> None:
    if positions.size and (positions.min() < 0 or positions.max() >= size):
        bad = int(positions[(positions < 0) | (positions >= size)][0])
        raise RankingError(f"label position {bad} is not one of the {size} records' positions")


def _features(texts: Sequence[str]) -> Any:
    """L2-normalised TF-IDF rows with elas_u4's settings, for every model: words and word
    pairs, sublinear term frequency, terms in more than 95% of the texts dropped (removing
    English stop words instead, or terms in one text only, lost WSS@95 on the Cohen
    reviews). The vectoriser sees texts only, never labels."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, max_df=0.95, min_df=1, dtype=np.float64
    )
    try:
        features = vectoriser.fit_transform(list(texts)).tocsr()
    except ValueError:  # sklearn's "empty vocabulary" or "no terms remain"
        raise RankingError(
            "the records have no words to tell them apart: every title and abstract is "
            "empty, or they all hold the same words"
        ) from None
    features.sort_indices()
    return features


def _private_terms_merged(features: Any) -> Any:
    """The same rows with the terms found in one text only merged into one column per text,
    valued at their norm: an exact change for the linear SVM, and a smaller one to solve.

    A term in one text only moves that text's margin alone, so the optimal weights of a
    text's private terms are, whatever the rest, a multiple of their values: together they
    act as one term of value ``|x_private|``. The inner products between rows, the SVM's
    objective and every score stay as they were; the columns drop (bigrams are mostly
    private: 868,000 to 236,000 on 10,000 synthetic records) and so do the stored values."""
    import numpy as np
    from scipy.sparse import csr_matrix

    rows, columns = features.shape
    counts = np.bincount(features.indices, minlength=columns)
    private = counts[features.indices] == 1
    shared = np.flatnonzero(counts > 1)
    renumbered = np.full(columns, -1, dtype=np.int64)
    renumbered[shared] = np.arange(shared.size)
    row_of = np.repeat(np.arange(rows), np.diff(features.indptr))
    norms = np.sqrt(
        np.bincount(row_of[private], weights=features.data[private] ** 2, minlength=rows)
    )
    has_private = norms > 0
    keep = ~private
    # per row: its shared terms (renumbered in order) and then its own merged column
    row_ids = np.concatenate([row_of[keep], np.flatnonzero(has_private)])
    column_ids = np.concatenate(
        [renumbered[features.indices[keep]], shared.size + np.flatnonzero(has_private)]
    )
    values = np.concatenate([features.data[keep], norms[has_private]])
    by_row = np.argsort(row_ids, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_ids, minlength=rows))])
    merged = csr_matrix(
        (values[by_row], column_ids[by_row], indptr), shape=(rows, shared.size + rows)
    )
    merged.has_sorted_indices = True
    return merged


def _balanced_weights(y: np.ndarray, ratio: float) -> np.ndarray:
    """Sample weights: each include 1, each exclude ``n_in / (ratio * n_ex)``, rescaled to sum
    to the number of samples, as ASReview's ``Balanced`` balancer (ratio 1 gives includes
    and excludes equal total weight, as sklearn's ``class_weight='balanced'``)."""
    import numpy as np

    n_in = int(y.sum())
    n_ex = len(y) - n_in
    weights = np.where(y, 1.0, n_in / (ratio * n_ex))
    return np.asarray(weights * (len(y) / weights.sum()), dtype=np.float64)


def _svm_solution(
    features: Any, positions: np.ndarray, y: np.ndarray, start: np.ndarray | None
) -> np.ndarray:
    """The default model's weights and bias (last), trained on the rows at ``positions``."""
    from review.screening import svm

    x = features[positions]
    return svm.fit_used_columns(
        x, y, _balanced_weights(y, SVM_BALANCE), SVM_C["tfidf-svm"], start=start
    )


def _logistic(margin: Any) -> np.ndarray:
    import numpy as np

    margin = np.asarray(margin, dtype=np.float64).ravel()
    return 1.0 / (1.0 + np.exp(-np.clip(margin, -500, 500)))


def _scores(
    model: ModelName, features: Any, positions: np.ndarray, y: np.ndarray, seed: int
) -> np.ndarray:
    """One relevance score in [0, 1] per row of ``features``, from a classifier trained on
    the rows at ``positions`` only."""
    x = features[positions]
    # rows of a matrix with sorted indices keep them sorted; saying so spares liblinear's
    # input check a sort of the training rows on every refit
    x.has_sorted_indices = True
    if model == "tfidf-logreg":
        weights = _balanced_weights(y, 1.0)
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(
            C=10.0, solver="liblinear", dual=True, random_state=seed, max_iter=1000
        )
        clf.fit(x, y, sample_weight=weights)
        margin = features @ clf.coef_.ravel() + clf.intercept_[0]
    else:
        from sklearn.svm import LinearSVC

        weights = _balanced_weights(y, SVM_BALANCE)
        svm = LinearSVC(C=SVM_C[model], loss="squared_hinge", random_state=seed, max_iter=5000)
        svm.fit(x, y, sample_weight=weights)
        margin = features @ svm.coef_.ravel() + svm.intercept_[0]
    return _logistic(margin)
