"""Date limits (one value object for the protocol, the command line and the client) and
entry-date windows."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.pubmed.dates import DateLimitError, DateLimits, DateWindow, split_window


def test_date_limits_are_checked_with_messages_naming_the_limit() -> None:
    with pytest.raises(DateLimitError) as info:
        DateLimits("2020-01-01", "2021")
    assert str(info.value) == (
        "mindate '2020-01-01' is not a PubMed date; use YYYY, YYYY/MM or YYYY/MM/DD"
    )
    with pytest.raises(DateLimitError, match=r"^give both mindate and maxdate, or neither"):
        DateLimits("2020", None)
    with pytest.raises(DateLimitError, match=r"^mindate 2021/05 is after maxdate 2021/04$"):
        DateLimits("2021/05", "2021/04")
    assert DateLimits("2021/04", "2021/04").datetype == "pdat"
    assert DateLimits().datetype is None and DateLimits().params() == []


def test_an_impossible_date_limit_names_its_limit() -> None:
    with pytest.raises(DateLimitError) as info:
        DateLimits("2020", "2021/02/30")
    assert str(info.value) == "maxdate '2021/02/30' is not a calendar date; check the month and day"
    with pytest.raises(DateLimitError, match=r"^mindate '2020/13' is not a calendar date"):
        DateLimits("2020/13", "2021")


def test_a_front_end_names_the_limits_its_own_way() -> None:
    flags = {"mindate": "--mindate", "maxdate": "--maxdate"}
    with pytest.raises(DateLimitError) as info:
        DateLimits("2021/05", "2021/04")
    assert info.value.render(flags) == "--mindate 2021/05 is after --maxdate 2021/04"
    with pytest.raises(DateLimitError) as info:
        DateLimits("2020", "2021/02/30")
    assert info.value.render(flags).startswith("--maxdate '2021/02/30' is not a calendar date")


def test_limits_are_the_esearch_parameters_and_edat_limits_bound_the_split() -> None:
    limits = DateLimits("2019/01", "2020", "edat")
    assert limits.params() == [("datetype", "edat"), ("mindate", "2019/01"), ("maxdate", "2020")]
    assert limits.edat_range(date(2020, 6, 1)) == (date(2019, 1, 1), date(2020, 6, 1))
    assert DateLimits("2019", "2020").edat_range(date(2021, 1, 1))[0] == date(1800, 1, 1)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 1, 1)),
    st.integers(min_value=0, max_value=4000),
    st.integers(min_value=1, max_value=50),
)
def test_split_windows_are_contiguous_and_never_overlap(lo: date, span: int, parts: int) -> None:
    hi = date.fromordinal(lo.toordinal() + span)
    windows = split_window(lo, hi, parts)
    assert windows[0].mindate == lo and windows[-1].maxdate == hi
    assert len(windows) == min(parts, span + 1)
    for before, after in itertools.pairwise(windows):
        assert before.mindate <= before.maxdate
        assert (after.mindate - before.maxdate).days == 1


def test_a_window_restricts_the_query_by_entry_date() -> None:
    window = DateWindow(date(2020, 1, 1), date(2020, 6, 30))
    assert window.term("rituximab") == ('(rituximab) AND ("2020/01/01"[EDAT] : "2020/06/30"[EDAT])')
