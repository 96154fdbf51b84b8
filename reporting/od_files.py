"""The OD report as files for office staff: an Excel workbook and a CSV.

Both hold the same things in the same order: the title and as-of line, the table with its
totals, then who is not in the table and why. Amounts, times and text go through `kit.files`.
"""

from typing import Any

from kit.cells import IST
from kit.files import (Download, csv_download, inert_text, ist_text, print_setup, put_ist_time, put_rupees,
                       xlsx_download)
from schemas import OdReport

HEADER = ["Retailer code(s)", "Retailer", "Tally ledger", "Balance owed", "Stock units", "Stock value",
          "Unpriced units", "OD amount", "Balance from", "Balance as of (IST)", "Valuation complete"]
AMOUNT_COLUMNS = (4, 6, 8)
TIME_COLUMN = 10
# The API's source values, in the words the office uses (the page says the same).
BALANCE_FROM = {"live": "Tally, just now", "cache": "saved copy", "stale_cache": "saved copy (Tally not answering)"}


def _title(report: OdReport) -> str:
    return (f"Negative / OD report as of {ist_text(report.as_of)} IST; stock from PRM import run "
            f"{report.prm_run_id or '-'} ({ist_text(report.prm_run_at) or 'none'} IST)")


def _table(report: OdReport) -> list[list[Any]]:
    return [[", ".join(row.retailer_codes), row.retailer_name, row.ledger_name, row.closing_balance, row.stock_units,
             row.stock_value, row.unpriced_units, row.od_amount, BALANCE_FROM.get(row.balance_source, row.balance_source),
             row.balance_as_of, "yes" if row.valuation_complete else "no"] for row in report.rows]


def _totals(report: OdReport) -> list[Any]:
    return ["Total", "", "", report.totals.closing_balance, sum(r.stock_units for r in report.rows),
            report.totals.stock_value, sum(r.unpriced_units for r in report.rows), report.totals.od_amount]


def _not_in_report(report: OdReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(section title, its header, its rows): everyone left out of the table, with the reason."""
    return [
        ("Unmatched retailers (no Tally ledger)", ["Retailer code", "Retailer", "Stock units", "Reason"],
         [[u.retailer_code, u.retailer_name, u.stock_units, u.reason] for u in report.unmatched_retailers]),
        ("Balance unavailable", ["Retailer code(s)", "Tally ledger", "Stock units", "Reason"],
         [[", ".join(b.retailer_codes), b.ledger_name or "", b.stock_units, b.reason] for b in report.balance_unavailable]),
        ("Credit balances (we owe them)", ["Retailer code(s)", "Tally ledger", "Balance", "Stock value"],
         [[", ".join(c.retailer_codes), c.ledger_name, c.closing_balance, c.stock_value] for c in report.credit_balances]),
        ("Goods in stock without a price", ["Goods ID", "Name", "Units held", ""],
         [[g.goods_id, g.name, g.units, ""] for g in report.unpriced_goods]),
    ]


def _od_report_csv(report: OdReport, file_name: str) -> Download:
    # The header comes first, for programs that read the CSV; the title and warnings follow the totals.
    rows: list[list[Any]] = [HEADER]
    rows += [values[:TIME_COLUMN - 1] + [ist_text(values[TIME_COLUMN - 1])] + values[TIME_COLUMN:]
             for values in _table(report)]
    rows += [_totals(report), [], [_title(report)], *([warning] for warning in report.warnings)]
    for title, header, section in _not_in_report(report):
        rows += [[], [f"{title}: {len(section)}"], header, *section]
    return csv_download(rows, file_name)


def _append(sheet: Any, values: list[Any], *, amounts: tuple[int, ...] = (), time_column: int | None = None,
            bold: Any = None) -> None:
    """One row: text made inert, amounts in Indian grouping, the time a real IST date."""
    sheet.append([inert_text(value) if isinstance(value, str) else None if index in amounts else value
                  for index, value in enumerate(values, start=1)])
    row = sheet.max_row
    for column in amounts:
        if column <= len(values):
            put_rupees(sheet.cell(row=row, column=column), values[column - 1])
    if time_column and time_column <= len(values):
        put_ist_time(sheet.cell(row=row, column=time_column), values[time_column - 1])
    if bold is not None:
        for cell in sheet[row]:
            cell.font = bold


def _od_report_workbook(report: OdReport) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "OD report"
    _append(sheet, [_title(report)], bold=bold)
    for warning in report.warnings:
        _append(sheet, [warning])
    sheet.append([])
    _append(sheet, HEADER, bold=bold)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = f"A{header_row + 1}"  # a string: touching the cell would add a blank row
    for values in _table(report):
        _append(sheet, values, amounts=AMOUNT_COLUMNS, time_column=TIME_COLUMN)
    _append(sheet, _totals(report), amounts=AMOUNT_COLUMNS, bold=bold)
    for letter, width in zip("ABCDEFGHIJK", (16, 30, 30, 17, 7, 15, 9, 17, 30, 17, 11)):
        sheet.column_dimensions[letter].width = width
    print_setup(sheet, title="Negative / OD report", header_row=header_row)

    why = workbook.create_sheet("Not in report")
    _append(why, ["Who is not in the OD table, and why"], bold=bold)
    for title, header, section in _not_in_report(report):
        why.append([])
        _append(why, [f"{title}: {len(section)}"], bold=bold)
        _append(why, header, bold=bold)
        money = (3, 4) if title.startswith("Credit") else ()
        for values in section:
            _append(why, values, amounts=money)
    for letter, width in zip("ABCD", (20, 34, 16, 70)):
        why.column_dimensions[letter].width = width
    print_setup(why, title="Negative / OD report: not in the table")
    return workbook


def od_report_download(report: OdReport, *, format: str) -> Download:
    """The report as `xlsx` or `csv`, named by its date in IST, the date its figures are for."""
    stem = f"od_report_{report.as_of.astimezone(IST):%Y%m%d}"
    if format == "csv":
        return _od_report_csv(report, f"{stem}.csv")
    return xlsx_download(_od_report_workbook(report), f"{stem}.xlsx")
