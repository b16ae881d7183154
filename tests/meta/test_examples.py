"""Published worked examples, one test each, with the tolerance the publication's rounding allows.

Sources are cited in each test. Counts are typed in from the publications (or from the
metadat package, which reproduces them) so the tests need no R.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from meta.counts import make_counts
from meta.measures import escalc, harmonic_mean, ipft
from meta.pooling import pool
from meta.tau2 import estimate_tau2, qprofile_ci

# Values printed to 4 decimals agree within half a unit of the last digit
FOUR_DECIMALS = 5e-5
# Values printed to 3 decimals
THREE_DECIMALS = 5e-4

# Miller (1978), The American Statistician 32(4):138, the four studies of the worked example
MILLER_EVENTS = (3, 6, 10, 1)
MILLER_TOTALS = (11, 17, 21, 6)

# BCG vaccine trials (Colditz et al. 1994) as in van Houwelingen, Arends & Stijnen (2002),
# Statistics in Medicine 21:589-624, Table I (p. 594): treated TB+/TB-, control TB+/TB-
BCG = np.array(
    [
        (4, 119, 11, 128),
        (6, 300, 29, 274),
        (3, 228, 11, 209),
        (62, 13536, 248, 12619),
        (33, 5036, 47, 5761),
        (180, 1361, 372, 1079),
        (8, 2537, 10, 619),
        (505, 87886, 499, 87892),
        (29, 7470, 45, 7232),
        (17, 1699, 65, 1600),
        (186, 50448, 141, 27197),
        (5, 2493, 3, 2338),
        (27, 16886, 29, 17825),
    ],
    dtype=float,
)


def test_miller_1978_freeman_tukey_values_and_exact_inverse() -> None:
    """Miller (1978), p. 138: the double-arcsine values of the example (his table lists
    twice metafor's values: 1.1390, 1.2888, 1.5252, 0.9516, with 1/2 factor 0.5695,
    0.6444, 0.7626, 0.4758, as reproduced at metafor-project.org/doku.php/analyses:miller1978)
    and his inverse (eq. 6) recovering each proportion from its own n."""
    effects = escalc(MILLER_EVENTS, MILLER_TOTALS, "PFT")
    assert effects.yi == pytest.approx((0.5695, 0.6444, 0.7626, 0.4758), abs=FOUR_DECIMALS)
    assert [2 * y for y in effects.yi] == pytest.approx(
        (1.1390, 1.2888, 1.5252, 0.9516), abs=2 * FOUR_DECIMALS
    )
    for y, e, n in zip(effects.yi, MILLER_EVENTS, MILLER_TOTALS, strict=True):
        assert ipft(y, n) == pytest.approx(e / n, abs=1e-12)


def test_miller_1978_pooled_value_back_transformed_with_harmonic_mean() -> None:
    """Miller (1978), p. 138: a pooled double-arcsine value is back-transformed with eq. 6
    at the harmonic mean of the study sizes, 4 / (1/11 + 1/17 + 1/21 + 1/6); the result is
    flagged with a warning (Schwarzer et al. 2019)."""
    result = pool(make_counts(MILLER_EVENTS, MILLER_TOTALS), measure="PFT", method="EE")
    n_hm = 4 / (1 / 11 + 1 / 17 + 1 / 21 + 1 / 6)
    assert harmonic_mean(MILLER_TOTALS) == pytest.approx(n_hm, rel=1e-15)
    assert result.estimate == pytest.approx(ipft(result.estimate_transformed, n_hm), abs=1e-15)
    # the pooled proportion lies between the smallest and largest study proportion
    assert 1 / 6 < result.estimate < 10 / 21
    assert any("harmonic mean" in w for w in result.warnings)


def test_van_houwelingen_2002_bcg_ml_random_effects_and_q_profile() -> None:
    """van Houwelingen, Arends & Stijnen (2002), section 3 (random-effects model by ML):
    BCG log odds ratios, mean -0.742 (SE 0.178), tau2 0.302; the Q-profile interval for
    tau2 (0.1302, 1.1812) as metafor-project.org/doku.php/analyses:vanhouwelingen2002
    reports it for the same fit."""
    a, b, c, d = BCG.T
    y = np.log(a * d / (b * c))
    v = 1 / a + 1 / b + 1 / c + 1 / d
    fit = estimate_tau2(y, v, "ML")
    w = 1 / (v + fit.tau2)
    mean = float((w * y).sum() / w.sum())
    se = math.sqrt(1 / float(w.sum()))
    assert fit.tau2 == pytest.approx(0.302, abs=THREE_DECIMALS)
    assert mean == pytest.approx(-0.742, abs=THREE_DECIMALS)
    assert se == pytest.approx(0.178, abs=THREE_DECIMALS)
    assert qprofile_ci(y, v, 0.95, fit.tau2) == pytest.approx((0.1302, 1.1812), abs=FOUR_DECIMALS)
