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
terms in more than 95% of the texts dropped) and a linear SVM (squared hinge, C 0.3) on
ASReview's balanced sample weights (ratio 9.8). ``elas-u4``: ASReview's default model
``elas_u4`` (ASReview 2.2 and 3.0, ``asreview/models/models.py``), the same with C 0.11;
it replays ``asreview simulate``'s screening order exactly. ``tfidf-logreg``: the same
features with a class-balanced L2 logistic regression (C 10).

The default's C was tuned on all seven Cohen 2006 reviews and both of their labels, on
seeds 100-102 (not the benchmark's seeds 0-9): over C 0.05, 0.11, 0.2 and 0.3, and beside
it the balancer's ratio (3, 5, 20), the title counted twice, character 3-5-grams added to
the words and terms in one text only dropped (earlier, on seeds 0-1: English stop words
removed, logistic regression with C 1 and 10, an SVM + logistic regression ensemble). C 0.3
gave the best mean WSS@95 (0.368 against elas_u4's 0.357 on those seeds), though not on
every review: its largest loss was on Triptans' final inclusions (-0.028). It costs time:
liblinear needs about twice elas_u4's iterations on a large training set.
benchmarks/screening.py measures both against ``asreview simulate`` on seeds 0-9."""

MODELS: tuple[ModelName, ...] = get_args(ModelName)
DEFAULT: ModelName = "tfidf-svm"
SVM_C: Mapping[str, float] = {"tfidf-svm": 0.3, "elas-u4": 0.11}


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


class Ranker:
    """Fits the text features once on all texts; each ``rank`` is a cheap refit on the
    labels so far, deterministic given ``seed``."""

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

    def __len__(self) -> int:
        return self._size

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
        )


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


def _balanced_weights(y: np.ndarray, ratio: float) -> np.ndarray:
    """Sample weights: each include 1, each exclude ``n_in / (ratio * n_ex)``, rescaled to sum
    to the number of samples, as ASReview's ``Balanced`` balancer (ratio 1 gives includes
    and excludes equal total weight, as sklearn's ``class_weight='balanced'``)."""
    import numpy as np

    n_in = int(y.sum())
    n_ex = len(y) - n_in
    weights = np.where(y, 1.0, n_in / (ratio * n_ex))
    return np.asarray(weights * (len(y) / weights.sum()), dtype=np.float64)


def _scores(
    model: ModelName, features: Any, positions: np.ndarray, y: np.ndarray, seed: int
) -> np.ndarray:
    """One relevance score in [0, 1] per row of ``features``, from a classifier trained on
    the rows at ``positions`` only."""
    import numpy as np

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

        weights = _balanced_weights(y, 9.8)  # elas_u4's balancer ratio
        svm = LinearSVC(C=SVM_C[model], loss="squared_hinge", random_state=seed, max_iter=5000)
        svm.fit(x, y, sample_weight=weights)
        margin = features @ svm.coef_.ravel() + svm.intercept_[0]
    margin = np.asarray(margin, dtype=np.float64).ravel()
    return 1.0 / (1.0 + np.exp(-np.clip(margin, -500, 500)))
