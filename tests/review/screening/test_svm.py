"""The default model's SVM solver against liblinear (scikit-learn's LinearSVC) on the problem
both solve, from nothing and from a start."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from review.errors import RankingError
from review.screening import svm


def objective(x: sp.csr_matrix, y: np.ndarray, s: np.ndarray, c: float, w: np.ndarray) -> float:
    """liblinear's -s 2 with the bias as a regularised feature of value 1."""
    sign = np.where(y, 1.0, -1.0)
    margin = np.maximum(0.0, 1.0 - sign * (x @ w[:-1] + w[-1]))
    return 0.5 * float(w @ w) + c * float(np.sum(s * margin**2))


def problem(rows: int = 300, columns: int = 2_000, seed: int = 3) -> tuple:
    """Sparse L2-normalised rows whose label follows a few of the columns, with noise."""
    rng = np.random.default_rng(seed)
    x = sp.random(rows, columns, density=0.02, random_state=rng, format="csr")
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.csr_matrix(x.multiply(1.0 / np.maximum(norms, 1e-12)[:, None]))
    truth = x @ rng.normal(size=columns)
    y = truth + rng.normal(scale=0.05, size=rows) > np.quantile(truth, 0.8)
    s = np.where(y, 1.0, 0.3)
    return x, y, s


@pytest.mark.parametrize("c", [0.11, 0.3, 3.0])
def test_the_solution_is_liblinears(c: float) -> None:
    x, y, s = problem()
    ours = svm.fit(x, y, s, c, tol=1e-8)
    reference = LinearSVC(C=c, tol=1e-10, max_iter=100_000).fit(x, y, sample_weight=s)
    theirs = np.append(reference.coef_.ravel(), reference.intercept_[0])
    assert objective(x, y, s, c, ours) == pytest.approx(objective(x, y, s, c, theirs), rel=1e-7)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_a_start_changes_the_time_not_the_answer() -> None:
    x, y, s = problem()
    cold = svm.fit(x, y, s, 0.3)
    nearby = svm.fit(x[:-5], y[:-5], s[:-5], 0.3)
    warm = svm.fit(x, y, s, 0.3, start=nearby)
    # both stop at the same relative gradient norm, so both are this close to the optimum
    exact = svm.fit(x, y, s, 0.3, tol=1e-10)
    for w in (cold, warm):
        assert objective(x, y, s, 0.3, w) == pytest.approx(objective(x, y, s, 0.3, exact), rel=1e-6)
        np.testing.assert_allclose(x @ w[:-1] + w[-1], x @ exact[:-1] + exact[-1], atol=1e-3)
    # started at the optimum, it stays there
    np.testing.assert_array_equal(svm.fit(x, y, s, 0.3, start=exact), exact)


def test_mismatched_shapes_are_refused() -> None:
    x, y, s = problem(rows=10, columns=50)
    with pytest.raises(RankingError) as caught:
        svm.fit(x, y[:9], s, 0.3)
    assert str(caught.value) == "10 training rows but 9 labels and 10 weights"
    with pytest.raises(RankingError) as caught:
        svm.fit(x, y, s, 0.3, start=np.zeros(50))
    assert str(caught.value) == "a start of 50 weights for 51"
