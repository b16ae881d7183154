"""Subgroup analysis: each subgroup pooled on its own, and the Q-between test.

The test is the fixed-effect (Wald-type) test of subgroup differences across separately
pooled subgroups (Borenstein et al. 2009, ch. 19; Deeks, Higgins & Altman, Cochrane
Handbook 10.11.3.1): Q_b = sum_g (theta_g - theta_bar)^2 / se_g^2 on the measure's scale
(logit for GLMM), theta_bar the inverse-variance mean of the subgroup estimates, with
G - 1 df. It is R meta's default for random-effects models (``tau.common = FALSE``: tau2
estimated within each subgroup) and equals ``metafor::rma(theta_g, sei = se_g,
method = "EE")$QE`` on the subgroup estimates. With ``test="knha"`` the se_g are the
Hartung-Knapp standard errors of the subgroups. A subgroup that cannot be pooled is reported
as failed with its reason (as the sensitivity table's rows), and the test is over the others.
"""

from __future__ import annotations

from typing import Any

from meta.counts import StudyCounts
from meta.errors import InputDataError, MetaError
from meta.pooling import pool
from meta.results import FailedSubgroup, PoolResult, SubgroupResult


def q_between(results: list[PoolResult]) -> tuple[float, int, float]:
    """Q-between, its df and p-value from separately pooled subgroups (see module doc)."""
    from scipy.special import chdtrc

    estimates = [r.estimate_transformed for r in results]
    weights = []
    for r in results:
        if r.se <= 0:
            raise InputDataError(
                "a subgroup's pooled standard error is 0, so subgroups cannot be compared; "
                "use test z or another method"
            )
        weights.append(1 / r.se**2)
    mean = sum(w * e for w, e in zip(weights, estimates, strict=True)) / sum(weights)
    q = sum(w * (e - mean) ** 2 for w, e in zip(weights, estimates, strict=True))
    df = len(results) - 1
    return q, df, float(chdtrc(df, q))


def pool_subgroups(counts: StudyCounts, **pool_kwargs: Any) -> SubgroupResult:
    """Pool all studies and each subgroup (in order of first appearance) with ``pool()``.

    Every study needs a subgroup label, and at least two subgroups are needed. A subgroup
    that cannot be pooled (a ``MetaError``, e.g. the GLMM on 1/1 and 0/1) is reported as
    failed with its reason and the others are pooled; the Q-between test is then over the
    subgroups that could be pooled, and not computed when fewer than two could.
    """
    missing = [s for s, g in zip(counts.studies, counts.subgroups, strict=True) if g is None]
    if len(missing) == counts.k:
        raise InputDataError("no subgroups given: label each study with a subgroup")
    if missing:
        raise InputDataError(
            f"study {missing[0]!r} has no subgroup; label every study ({len(missing)} unlabelled)"
        )
    names: list[str] = []
    for group in counts.subgroups:
        if group is not None and group not in names:
            names.append(group)
    if len(names) < 2:
        raise InputDataError(
            f"only one subgroup ({names[0]!r}): a subgroup comparison needs at least two"
        )
    overall = pool(counts, **pool_kwargs)
    groups: list[tuple[str, PoolResult]] = []
    failed: list[FailedSubgroup] = []
    notes: list[str] = []
    for name in names:
        keep = [i for i, g in enumerate(counts.subgroups) if g == name]
        try:
            pooled = pool(counts.subset(keep), **pool_kwargs)
        except MetaError as exc:
            failed.append(FailedSubgroup(name, len(keep), str(exc)))
            notes.append(f"subgroup {name!r} not pooled: {exc}")
            continue
        groups.append((name, pooled))
        if pooled.k == 1:
            notes.append(f"subgroup {name!r} has one study: its estimate is that study's own")
    q: float | None = None
    df: int | None = None
    p: float | None = None
    if len(groups) >= 2:
        q, df, p = q_between([r for _, r in groups])
    return SubgroupResult(
        overall=overall,
        groups=tuple(groups),
        q_between=q,
        q_between_df=df,
        q_between_pvalue=p,
        warnings=tuple(notes),
        failed=tuple(failed),
    )


def pool_counts(
    counts: StudyCounts, *, by_subgroup: bool = False, **pool_kwargs: Any
) -> PoolResult | SubgroupResult:
    """Pool all studies, and with ``by_subgroup`` each subgroup and the test between them."""
    if by_subgroup:
        return pool_subgroups(counts, **pool_kwargs)
    return pool(counts, **pool_kwargs)
