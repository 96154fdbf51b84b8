"""The row checker's two paths: the short one for clean rows and the full rules must agree on every row."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kit import bulk
from kit.workbooks import match_header_row
from prm.columns import PRM_COLUMNS
from prm.rows import ParsedRows, RowChecker, check_rows
from tests.prm_factory import imei

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HEADER = ["IMEI1", "IMEI2", "SN", "Goods ID", "Product Name", "Status", "Retailer ID", "Retailer Name",
          "Retailer Mobile", "City", "Inward Time", "Activation Time"]
ZERO_LED = [imei(n, prefix="01") for n in (1, 2)]  # Excel drops their leading zero in a numeric cell
POOL = [imei(n) for n in (1, 2, 3)] + ZERO_LED

imeis = st.one_of(
    st.sampled_from(POOL),  # a small pool, so IMEIs repeat across rows and across IMEI1/IMEI2
    st.sampled_from(POOL[:3]).map(lambda text: float(int(text))),
    st.sampled_from(POOL[:3]).map(int),
    st.sampled_from(ZERO_LED).map(lambda text: float(int(text))),  # 14 digits once Excel has it
    st.sampled_from(ZERO_LED).map(int),
    st.sampled_from(POOL).map(lambda text: f" {text[:5]}-{text[5:]} "),
    st.sampled_from(POOL).map(lambda text: "'" + text),
    st.sampled_from(POOL).map(lambda text: text[:14] + str((int(text[14]) + 1) % 10)),  # wrong check digit
    st.sampled_from(POOL).map(lambda text: text + "0"),  # 16 digits
    st.sampled_from(POOL).map(lambda text: text[1:]),  # 14 digits as text
    st.sampled_from(["", None, "abc", 8.6e14 + 0.5, True, "８６" + POOL[0][2:]]),
)
moments = st.one_of(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 12, 31)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 2)),
    st.sampled_from([
        "", None, "21-11-2026 14:05:00", "21/11/2026 14:05", "21-11-2026", "21.11.2026", "2026-11-21",
        "2026-11-21T10:00:00+05:30", "2026-11-21 10:00:00Z", "21-Nov-2026", "21 November 2026 02:05 PM",
        "05/11/2026 13:05 PM", " 21-11-2026 ", "31-02-2026", "22-12-2026", "21-11-2026 12:00:00",
        "21-11-2026 17:30:00", "21-11-2026 17:30:01", "01-01-0001", "0001-01-01", "9999-12-31T23:00:00-05:00",
        "31-12-9999 23:59:59", "soon", 45000.0, 45000, 12.5, date(2026, 11, 20), datetime(2026, 11, 20, tzinfo=UTC),
    ]),
)
texts = st.sampled_from(["G1", "G2", " G1 ", "", None, 12345.0, "Redmi 13C", "x" * 300])
names = st.sampled_from(["Redmi 13C", "Redmi Note 13", "", None, " Redmi 13C ", "Xiaomi TV A 43", "y" * 300])
statuses = st.sampled_from(["Inward by Retailer", "inward  by retailer ", "In Stock", "ACTIVATED", "Activated",
                            "Outward by Distributor", "Return to Distributor", "Lost", "", None, 3.0])
codes = st.sampled_from(["R001", "R002", " R001", "", None, 42.0, "z" * 300])
shops = st.sampled_from(["Ram Mobiles", "Shyam Telecom", "", None, 7.0])
rows = st.lists(st.tuples(imeis, st.one_of(st.just(""), imeis), texts, texts, names, statuses, codes, shops,
                          st.sampled_from(["9876543210", "", None]), st.sampled_from(["Jaipur", ""]), moments, moments),
                max_size=8)
FORMS = {
    "as-is": (None, None),
    "sqlite": (bulk.datetime_writer("sqlite"), bulk.naive_utc_writer("sqlite")),
    "postgresql": (bulk.datetime_writer("postgresql"), bulk.naive_utc_writer("postgresql")),
}


def checked_slowly(rows: list[list[Any]], **forms: Any) -> ParsedRows:
    """Every row through the full rules only, as `check` would send a row it cannot take short."""
    checker = RowChecker(match_header_row(HEADER, 0, PRM_COLUMNS), now=NOW, **forms)
    for number, cells in enumerate(rows, start=2):
        if any(cells):
            checker._check_slowly(cells, number)
    return checker.result


@pytest.mark.parametrize("form", FORMS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=rows)
def test_the_short_path_gives_the_same_answer_as_the_full_rules(form: str, drawn: list[tuple[Any, ...]]) -> None:
    datetime_form, naive_utc_form = FORMS[form]
    sheet_rows = [list(cells) for cells in drawn]

    fast = check_rows(enumerate(sheet_rows, start=2), match_header_row(HEADER, 0, PRM_COLUMNS), now=NOW,
                      datetime_form=datetime_form, naive_utc_form=naive_utc_form)
    slow = checked_slowly(sheet_rows, datetime_form=datetime_form, naive_utc_form=naive_utc_form)

    assert fast.devices == slow.devices
    assert (fast.products, fast.retailers) == (slow.products, slow.retailers)
    assert (fast.errors, fast.warnings, fast.counts) == (slow.errors, slow.warnings, slow.counts)
    assert (fast.rows_total, fast.rows_rejected) == (slow.rows_total, slow.rows_rejected)


def test_a_clean_row_takes_the_short_path() -> None:
    cells = [imei(1), "", "SN1", "G1", "Redmi 13C", "Inward by Retailer", "R001", "Ram Mobiles", "", "Jaipur",
             "21-11-2026 10:00:00", ""]
    checker = RowChecker(match_header_row(HEADER, 0, PRM_COLUMNS), now=NOW)

    assert checker._take_clean_row(cells, 2) is True
