"""Relevance ranking of the unscreened records (pure): determinism, no leakage, errors."""

from __future__ import annotations

import pytest

from review.errors import RankingError, ScreeningError
from review.records import Record
from review.screening.ranking import MODELS, Ranker, record_text

TEXTS = [
    "rituximab for calcinosis in systemic sclerosis: a case report",  # 0 relevant
    "calcinosis cutis treated with rituximab in a woman with scleroderma",  # 1 relevant
    "knee replacement outcomes in elderly patients",  # 2
    "rituximab response in refractory calcinosis of dermatomyositis",  # 3 relevant
    "hip fracture surgery and delirium in older adults",  # 4
    "statins and cardiovascular events in a cohort of men",  # 5
    "calcinosis and rituximab: two cases",  # 6 relevant
    "antibiotic prophylaxis before dental extraction",  # 7
]
LABELS = {0: True, 2: False, 4: False}


@pytest.mark.parametrize("model", MODELS)
def test_relevant_records_rank_first_and_order_holds_only_unlabelled(model: str) -> None:
    ranking = Ranker(TEXTS, model=model).rank(LABELS)  # type: ignore[arg-type]
    assert sorted(ranking.order) == [1, 3, 5, 6, 7]
    assert set(ranking.order[:2]) <= {1, 3, 6}
    assert ranking.order[-1] not in {1, 3, 6}
    assert len(ranking.scores) == len(TEXTS)
    assert all(0.0 <= s <= 1.0 for s in ranking.scores)
    assert ranking.model == model
    # the order is the scores', descending
    ordered = [ranking.scores[i] for i in ranking.order]
    assert ordered == sorted(ordered, reverse=True)


@pytest.mark.parametrize("model", MODELS)
def test_same_seed_same_ranking(model: str) -> None:
    first = Ranker(TEXTS, model=model, seed=7).rank(LABELS)  # type: ignore[arg-type]
    again = Ranker(TEXTS, model=model, seed=7).rank(LABELS)  # type: ignore[arg-type]
    assert first == again
    # and ranking twice on one ranker does not carry state from one call to the next
    ranker = Ranker(TEXTS, model=model, seed=7)  # type: ignore[arg-type]
    ranker.rank({0: True, 1: True, 2: False})
    assert ranker.rank(LABELS) == first


def test_ties_are_broken_by_position() -> None:
    texts = ["alpha beta", "gamma delta", "same words", "same words", "same words"]
    ranking = Ranker(texts).rank({0: True, 1: False})
    assert ranking.scores[2] == ranking.scores[3] == ranking.scores[4]
    assert ranking.order == (2, 3, 4)


@pytest.mark.parametrize("model", MODELS)
def test_the_order_labels_arrive_in_does_not_change_the_ranking(model: str) -> None:
    ranker = Ranker(TEXTS, model=model)  # type: ignore[arg-type]
    labels = {0: True, 2: False, 4: False, 6: True, 7: False}
    backwards = dict(reversed(list(labels.items())))
    first, second = ranker.rank(labels), ranker.rank(backwards)
    assert (first.order, first.scores) == (second.order, second.scores)


def test_a_refit_starts_from_the_last_fit_only_when_it_saw_a_subset_of_the_labels() -> None:
    """One more decision: the default model starts from the last solution and lands where a
    fit from nothing lands (to the solver's tolerance). Another reviewer's labels, or a
    revised decision: it starts from nothing, so its ranking is exactly a fresh ranker's and
    owes nothing to labels it may not see (blind screening)."""
    fresh = Ranker(TEXTS)
    reviewer_a = {0: True, 2: False, 4: False}
    reviewer_b = {1: True, 5: False}
    ranker = Ranker(TEXTS)
    assert ranker.rank(reviewer_a).started_from == 0
    more = ranker.rank({**reviewer_a, 6: True})
    assert more.started_from == 3
    cold = fresh.rank({**reviewer_a, 6: True})
    assert cold.started_from == 0
    assert more.order == cold.order
    assert more.scores == pytest.approx(cold.scores, abs=1e-4)

    for other in ({**reviewer_a, 6: False}, reviewer_b, {0: True, 2: False}):
        ranking = ranker.rank(other)
        assert ranking.started_from == 0
        assert ranking == Ranker(TEXTS).rank(other)


def test_a_records_score_does_not_depend_on_its_own_label() -> None:
    """Ranking record 3 among the unlabelled: its score is the same whether it is truly
    relevant or not, because its label is not among the training labels; once labelled, it
    is trained on, and its (in-sample) score moves towards its label."""
    ranker = Ranker(TEXTS)
    unlabelled = ranker.rank(LABELS).scores[3]
    as_include = ranker.rank({**LABELS, 3: True}).scores[3]
    as_exclude = ranker.rank({**LABELS, 3: False}).scores[3]
    assert as_exclude < unlabelled < as_include


def test_features_are_fitted_on_texts_not_labels() -> None:
    """The vocabulary covers every text, so a word seen only in unlabelled texts counts
    once such a text is labelled (as ASReview fits TF-IDF on all records)."""
    ranker = Ranker(TEXTS)
    before = ranker.rank(LABELS)
    after = ranker.rank({**LABELS, 5: True})  # 'statins' only in record 5
    assert after.scores[5] > before.scores[5]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            {0: True, 1: True},
            "ranking needs at least one include and one exclude; "
            "there are 2 includes and 0 excludes so far",
        ),
        (
            {2: False},
            "ranking needs at least one include and one exclude; "
            "there are 0 includes and 1 excludes so far",
        ),
        (
            {},
            "ranking needs at least one include and one exclude; "
            "there are 0 includes and 0 excludes so far",
        ),
        ({0: True, 8: False}, "label position 8 is not one of the 8 records' positions"),
        ({0: True, -1: False}, "label position -1 is not one of the 8 records' positions"),
    ],
)
def test_rank_refuses_labels_it_cannot_train_on(labels: dict[int, bool], message: str) -> None:
    with pytest.raises(RankingError) as caught:
        Ranker(TEXTS).rank(labels)
    assert str(caught.value) == message
    assert isinstance(caught.value, ScreeningError)


def test_unknown_model_and_no_texts_are_refused() -> None:
    with pytest.raises(RankingError) as caught:
        Ranker(TEXTS, model="bert")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "unknown ranking model 'bert'; choose one of tfidf-svm, elas-u4, tfidf-logreg"
    )
    with pytest.raises(RankingError) as caught:
        Ranker([])
    assert str(caught.value) == "there are no records to rank"


def test_every_text_labelled_gives_an_empty_order() -> None:
    ranking = Ranker(TEXTS[:2]).rank({0: True, 1: False})
    assert ranking.order == ()
    assert len(ranking.scores) == 2


def test_record_text_reads_title_abstract_keywords_and_mesh() -> None:
    record = Record(
        source="pubmed",
        title="Calcinosis and rituximab",
        abstract="  A case.  ",
        keywords=("calcinosis", "B cells"),
        mesh=("Rituximab", "Scleroderma, Systemic"),
        journal="Not read",
    )
    assert record_text(record) == (
        "Calcinosis and rituximab\nA case.\ncalcinosis; B cells\nRituximab; Scleroderma, Systemic"
    )
    assert record_text(Record(source="x")) == ""


def test_the_default_model_scores_as_liblinear_on_the_plain_features() -> None:
    """Merging each text's private terms and solving by Newton's method change the time,
    not the model: the scores are LinearSVC's (C 0.15, balanced weights) on TF-IDF."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    texts = [*TEXTS, "calcinosis rituximab unique-word-here", "dental fracture statins"]
    labels = {0: True, 2: False, 4: False, 8: True, 9: False, 5: False}
    ranking = Ranker(texts).rank(labels)
    x = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.95).fit_transform(texts)
    positions = sorted(labels)
    y = np.array([labels[p] for p in positions])
    n_in, n_ex = int(y.sum()), int((~y).sum())
    weights = np.where(y, 1.0, n_in / (9.8 * n_ex))
    weights *= len(y) / weights.sum()
    svm = LinearSVC(C=0.15, tol=1e-10, max_iter=100_000).fit(x[positions], y, sample_weight=weights)
    margin = x @ svm.coef_.ravel() + svm.intercept_[0]
    assert ranking.scores == pytest.approx(1 / (1 + np.exp(-margin)), abs=1e-4)
