"""The OD report as files for office staff: an Excel workbook and a CSV.

Excel shows rupees with Indian grouping (1,23,45,678.00); times are IST; text cells that start
with = + - @ are written as text, so a retailer named "=HYPERLINK(...)" cannot run a formula.
"""

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from kit.cells import IST
from kit.files import CSV_TYPE, Download, inert_text, xlsx_download
from schemas import OdReport

# Indian digit grouping needs conditional sections: crores, lakhs, then thousands.
RUPEES = '[>=10000000]"₹"##\\,##\\,##\\,##0.00;[>=100000]"₹"##\\,##\\,##0.00;"₹"#,##0.00'
RUPEES_SIGNED = '[<=-10000000]"-₹"##\\,##\\,##\\,##0.00;[<0]"-₹"#,##0.00;"₹"#,##0.00'
HEADER = ["Retailer code(s)", "Retailer", "Tally ledger", "Balance owed", "Stock units", "Stock value",
          "Unpriced units", "OD amount", "Balance source", "Balance as of (IST)", "Valuation complete"]
def ist(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(IST).strftime("%d-%m-%Y %H:%M")


def _row_values(report: OdReport) -> list[list[Any]]:
    return [[inert_text(", ".join(row.retailer_codes)), inert_text(row.retailer_name), inert_text(row.ledger_name),
             row.closing_balance, row.stock_units, row.stock_value, row.unpriced_units, row.od_amount,
             row.balance_source, ist(row.balance_as_of), "yes" if row.valuation_complete else "no"]
            for row in report.rows]


def _od_report_csv(report: OdReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for values in _row_values(report):
        writer.writerow([f"{value:.2f}" if isinstance(value, Decimal) else value for value in values])
    return buffer.getvalue()


def _od_report_workbook(report: OdReport) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "OD report"
    sheet.append([f"Negative / OD report as of {ist(report.as_of)} IST; stock from PRM import run "
                  f"{report.prm_run_id or '-'} ({ist(report.prm_run_at)} IST)"])
    sheet["A1"].font = bold
    for warning in report.warnings:
        sheet.append([inert_text(warning)])
    sheet.append([])
    sheet.append(HEADER)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = bold
    sheet.freeze_panes = f"A{header_row + 1}"  # a string: touching the cell would add a blank row
    for values in _row_values(report):
        sheet.append(values)
        for column in (4, 6, 8):
            sheet.cell(row=sheet.max_row, column=column).number_format = RUPEES_SIGNED if column == 8 else RUPEES
    sheet.append(["Total", "", "", report.totals.closing_balance, sum(r.stock_units for r in report.rows),
                  report.totals.stock_value, sum(r.unpriced_units for r in report.rows), report.totals.od_amount])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for column in (4, 6, 8):
        sheet.cell(row=sheet.max_row, column=column).number_format = RUPEES
    for letter, width in zip("ABCDEFGHIJK", (16, 32, 32, 16, 11, 16, 14, 16, 14, 18, 10)):
        sheet.column_dimensions[letter].width = width

    why = workbook.create_sheet("Not in report")
    why.append(["Who is not in the OD table, and why"])
    why["A1"].font = bold
    sections: list[tuple[str, list[str], list[list[Any]]]] = [
        ("Unmatched retailers (no Tally ledger)", ["Retailer code", "Retailer", "Stock units", "Reason"],
         [[inert_text(u.retailer_code), inert_text(u.retailer_name), u.stock_units, inert_text(u.reason)]
          for u in report.unmatched_retailers]),
        ("Balance unavailable", ["Retailer code(s)", "Tally ledger", "Stock units", "Reason"],
         [[inert_text(", ".join(b.retailer_codes)), inert_text(b.ledger_name or ""), b.stock_units, inert_text(b.reason)]
          for b in report.balance_unavailable]),
        ("Credit balances (we owe them)", ["Retailer code(s)", "Tally ledger", "Balance", "Stock value"],
         [[inert_text(", ".join(c.retailer_codes)), inert_text(c.ledger_name), c.closing_balance, c.stock_value]
          for c in report.credit_balances]),
        ("Goods in stock without a price", ["Goods ID", "Name", "Units held", ""],
         [[inert_text(g.goods_id), inert_text(g.name), g.units, ""] for g in report.unpriced_goods]),
    ]
    for title, header, rows in sections:
        why.append([])
        why.append([f"{title}: {len(rows)}"])
        why.cell(row=why.max_row, column=1).font = bold
        why.append(header)
        for values in rows:
            why.append(values)
            for column, value in enumerate(values, start=1):
                if isinstance(value, Decimal):
                    why.cell(row=why.max_row, column=column).number_format = RUPEES_SIGNED
    for letter, width in zip("ABCD", (20, 34, 16, 70)):
        why.column_dimensions[letter].width = width
    return workbook


def od_report_download(report: OdReport, *, format: str) -> Download:
    """The report as `xlsx` or `csv`, named by its date in IST, the date its figures are for."""
    stem = f"od_report_{report.as_of.astimezone(IST):%Y%m%d}"
    if format == "csv":
        return Download(_od_report_csv(report).encode("utf-8"), CSV_TYPE, f"{stem}.csv")
    return xlsx_download(_od_report_workbook(report), f"{stem}.xlsx")
