"""The gate is sound: whatever a sheet's cells look like, a sheet it lets through never reaches
beyond its caps or its area when calamine reads it. Caps are small here, so a wrong answer costs calamine
a small grid, never the test process."""

import io

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from devtools.hostile_workbooks import sheet_xml, workbook_bytes
from kit.workbook_gate import FileProblem, WorkbookLimits, check_workbook, column_name

# 40 x 8 caps but an area of 160: the quick check allows 4 columns, so the wide measure runs too.
LIMITS = WorkbookLimits(rows=40, columns=8, area=160)

references = st.one_of(
    st.builds(lambda column, row: f"{column_name(column)}{row}", st.integers(1, 12), st.integers(1, 60)),
    st.sampled_from(["A0", "0A", "a1", "", "A", "1", "AAAA1", "A01", "A-1", "B2:C3", "$A$1", " A1"]),
)
cells = st.tuples(
    st.one_of(st.none(), references),  # r, or no r at all
    st.sampled_from(['"', "'"]),
    st.booleans(),  # r written before or after another attribute
    st.sampled_from(["", "x:"]),  # an element prefix
    st.sampled_from([" ", "\n", "\t"]),
)


def cell_xml(cell: tuple[str | None, str, bool, str, str]) -> str:
    reference, quote, r_first, prefix, space = cell
    other = f"{space}t={quote}n{quote}"
    r = "" if reference is None else f"{space}r={quote}{reference}{quote}"
    attributes = r + other if r_first else other + r
    return f"<{prefix}c{attributes}><{prefix}v>1</{prefix}v></{prefix}c>"


rows = st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 60)), st.lists(cells, max_size=12)), max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_a_sheet_the_gate_passes_stays_inside_the_caps_when_read(sheet_rows: list) -> None:  # type: ignore[type-arg]
    xml_rows = [f"<row{'' if number is None else f' r={chr(34)}{number}{chr(34)}'}>"
                f"{''.join(cell_xml(cell) for cell in row_cells)}</row>" for number, row_cells in sheet_rows]
    data = workbook_bytes([sheet_xml(xml_rows).replace("<worksheet ", '<worksheet xmlns:x="urn:x" ', 1)])
    try:
        check_workbook(data, LIMITS)
    except FileProblem as refused:
        assert refused.status in (400, 413)
        event("refused")
        return
    event("let through")
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    except Exception:  # calamine refusing the file is safe; only a grid beyond the caps is not
        return
    if sheet.end is not None:
        last_row, last_column = sheet.end
        assert last_row + 1 <= LIMITS.rows and last_column + 1 <= LIMITS.columns, (sheet.end, xml_rows)
        assert (last_row + 1) * (last_column + 1) <= LIMITS.area, (sheet.end, xml_rows)


def test_a_cell_without_r_sits_on_its_rows_number_not_the_last_references() -> None:
    # Found by the property test above: G1 written inside row 21, then a cell with no `r`. calamine
    # puts that cell at H21, so the sheet is 21 x 8 = 168 cells, over the area of 160.
    data = workbook_bytes([sheet_xml(['<row r="21"><c t="n" r="G1"><v>1</v></c><c t="n"><v>1</v></c></row>'])])

    with pytest.raises(FileProblem, match="reaching H21"):
        check_workbook(data, LIMITS)
