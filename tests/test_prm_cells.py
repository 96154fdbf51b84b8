from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from kit.cells import OUT_OF_RANGE, CellError, cell_text, parse_datetime, parse_moment
from prm.cells import luhn_ok, parse_imei

VALID = "490154203237518"  # a published example IMEI with a correct check digit


class TestImei:
    def test_a_valid_text_imei_is_accepted(self) -> None:
        assert parse_imei(VALID) == (VALID, None)

    def test_a_numeric_imei_cell_is_read_as_text(self) -> None:
        assert parse_imei(float(VALID)) == (VALID, None)

    def test_spaces_dashes_and_a_leading_apostrophe_are_ignored(self) -> None:
        assert parse_imei("'49-015420 323751-8") == (VALID, None)

    def test_a_wrong_check_digit_names_the_right_one(self) -> None:
        with pytest.raises(CellError, match="check digit .* end in 8"):
            parse_imei(VALID[:14] + "9")

    def test_sixteen_digits_look_like_an_imeisv(self) -> None:
        with pytest.raises(CellError, match="IMEISV or serial"):
            parse_imei(VALID + "1")

    def test_letters_are_refused(self) -> None:
        with pytest.raises(CellError, match="only digits"):
            parse_imei("49015420323751A")

    def test_a_short_number_is_refused_with_its_length(self) -> None:
        with pytest.raises(CellError, match="has 10 digits"):
            parse_imei("4901542032")

    def test_a_numeric_cell_that_lost_its_leading_zero_is_repaired_with_a_warning(self) -> None:
        body = "01234567890123"
        imei = body + next(d for d in "0123456789" if luhn_ok(body + d))

        value, warning = parse_imei(float(imei))

        assert value == imei
        assert warning is not None and "leading zero" in warning

    def test_a_fourteen_digit_text_cell_is_not_repaired(self) -> None:
        with pytest.raises(CellError, match="has 14 digits"):
            parse_imei("12345678901234")

    def test_an_empty_cell_is_refused(self) -> None:
        with pytest.raises(CellError, match="empty"):
            parse_imei("")


class TestDates:
    def test_day_first_text_is_read_as_ist(self) -> None:
        assert parse_datetime("21-11-2026 14:05:00") == datetime(2026, 11, 21, 8, 35, tzinfo=UTC)

    def test_day_first_with_slashes_is_never_month_first(self) -> None:
        assert parse_datetime("05/11/2026") == datetime(2026, 11, 4, 18, 30, tzinfo=UTC)

    def test_a_month_name_is_understood(self) -> None:
        assert parse_datetime("21-Nov-2026") == datetime(2026, 11, 20, 18, 30, tzinfo=UTC)

    def test_am_pm_is_understood(self) -> None:
        assert parse_datetime("21/11/2026 02:05 PM") == datetime(2026, 11, 21, 8, 35, tzinfo=UTC)

    def test_iso_text_is_understood(self) -> None:
        assert parse_datetime("2026-11-21T14:05:00") == datetime(2026, 11, 21, 8, 35, tzinfo=UTC)

    def test_iso_with_an_offset_keeps_its_offset(self) -> None:
        assert parse_datetime("2026-11-21T14:05:00Z") == datetime(2026, 11, 21, 14, 5, tzinfo=UTC)

    def test_excel_date_cells_are_ist(self) -> None:
        assert parse_datetime(datetime(2026, 11, 21, 14, 5)) == datetime(2026, 11, 21, 8, 35, tzinfo=UTC)
        assert parse_datetime(date(2026, 11, 21)) == datetime(2026, 11, 20, 18, 30, tzinfo=UTC)

    def test_an_impossible_date_is_refused(self) -> None:
        with pytest.raises(CellError, match="not a real date"):
            parse_datetime("31-02-2026")

    def test_month_first_text_that_cannot_be_day_first_is_refused(self) -> None:
        with pytest.raises(CellError, match="not a real date"):
            parse_datetime("11/21/2026")

    def test_free_text_is_refused_with_the_accepted_forms(self) -> None:
        with pytest.raises(CellError, match="day-first"):
            parse_datetime("yesterday")

    def test_an_empty_cell_is_no_date(self) -> None:
        assert parse_datetime("") is None

    @pytest.mark.parametrize("value", [
        "01-01-0001", "01/01/0001 05:29", "0001-01-01", "1 Jan 0001", "9999-12-31T23:00:00-05:00",
        datetime(1, 1, 1), date(1, 1, 1), datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
    ])
    def test_a_date_a_datetime_cannot_hold_in_utc_is_refused_with_the_one_range_message(self, value: object) -> None:
        with pytest.raises(CellError) as raised:
            parse_datetime(value)

        assert str(raised.value) == "is out of range; use a date between 0001-01-02 and 9999-12-30, such as 21-11-2026"
        assert str(raised.value) == OUT_OF_RANGE

    def test_the_end_of_a_day_after_what_a_datetime_holds_is_refused_with_the_same_message(self) -> None:
        with pytest.raises(CellError, match="^is out of range; use a date between"):
            parse_moment("9999-12-31-0500", date_means_end_of_day=True)

    def test_the_first_and_last_days_a_datetime_holds_are_read(self) -> None:
        assert parse_datetime("02-01-0001") == datetime(1, 1, 1, 18, 30, tzinfo=UTC)
        assert parse_moment("9999-12-31Z", date_means_end_of_day=True) == datetime.max.replace(tzinfo=UTC)


def test_whole_number_cells_lose_excels_trailing_zero() -> None:
    assert cell_text(12345.0) == "12345"
    assert cell_text("  MZB0J8RIN ") == "MZB0J8RIN"


class TestTheCheckersDateShortCut:
    """The SQLite short cut (naive UTC straight to text) gives what the general path gives."""

    CELLS = [datetime(2026, 11, 21, 10, 5, 33), datetime(2026, 11, 21), "21-11-2026 10:05:33", "21/11/2026 10:05",
             "21.11.2026", "2026-11-21T10:05:33+05:30", "2026-11-21", "", 46000.5]

    @pytest.mark.parametrize("cell", CELLS)
    def test_same_device_record_with_and_without_the_short_cut(self, cell: object) -> None:
        from kit import bulk
        from prm.columns import PRM_COLUMNS
        from prm.rows import check_rows
        from tests.prm_factory import HEADER, row
        from kit.workbooks import match_header_row

        header = match_header_row(HEADER, 0, PRM_COLUMNS)
        cells = row(1, status="Activated" if cell != "" else "Inward by Retailer", inward=cell, activation=cell)
        now = datetime(2026, 11, 25, tzinfo=UTC)
        general = check_rows([(2, cells)], header, now=now, datetime_form=bulk.datetime_writer("sqlite"))
        short_cut = check_rows([(2, cells)], header, now=now, datetime_form=bulk.datetime_writer("sqlite"),
                               naive_utc_form=bulk.naive_utc_writer("sqlite"))

        assert general.devices and short_cut.devices == general.devices
        assert (short_cut.errors, short_cut.warnings) == (general.errors, general.warnings)
