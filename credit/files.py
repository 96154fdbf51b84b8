"""The ageing report as a workbook for the credit desk: a summary sheet, every open bill, the hold
list; office-ready like the OD file (Indian grouping, IST, landscape, one page wide)."""

from typing import Any

from credit.schemas import AgeingReport, HoldList, RetailerBills
from kit.files import Download, csv_download, inert_text, print_setup, put_rupees, xlsx_download

SUMMARY_HEADER = ["Retailer code(s)", "Retailer", "Tally ledger", "Balance", "Not due", "1-30 days", "31-60 days",
                  "61-90 days", "Over 90 days", "Overdue", "On account", "Oldest overdue (days)", "Credit limit",
                  "Limit used %", "Stock value", "OD amount", "Hold reasons"]
SUMMARY_MONEY = (4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 16)
BILLS_HEADER = ["Retailer code(s)", "Tally ledger", "Bill", "Bill date", "Due date", "Amount", "Days overdue", "Bucket"]
HOLDS_HEADER = ["Retailer code(s)", "Tally ledger", "Reasons", "On hold now", "Released until", "Release reason"]
# The API's words, as the credit desk says them.
REASON_WORDS = {"over_limit": "over the credit limit", "overdue": "bill overdue too long", "uncovered": "owes more than stock"}
BUCKET_WORDS = {"not_due": "not due", "overdue_1_30": "1-30 days", "overdue_31_60": "31-60 days",
                "overdue_61_90": "61-90 days", "overdue_90_plus": "over 90 days"}


def _sheet(workbook: Any, title: str, heading: str, header: list[str], widths: tuple[int, ...]) -> Any:
    from openpyxl.styles import Alignment, Font

    sheet = workbook.create_sheet(title)
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True)
    sheet.append([])
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A4"
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(65 + index)].width = width
    print_setup(sheet, title=f"Ageing: {title}", header_row=3)
    return sheet


def _put(sheet: Any, values: list[Any], money: tuple[int, ...]) -> None:
    sheet.append([None if index in money else inert_text(value) if isinstance(value, str) else value
                  for index, value in enumerate(values, start=1)])
    for column in money:
        put_rupees(sheet.cell(row=sheet.max_row, column=column), values[column - 1])


def ageing_workbook(report: AgeingReport, bills: list[RetailerBills], holds: HoldList) -> Download:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    heading = (f"Ageing of open bills as of {report.as_of:%d-%m-%Y} (from the {report.basis.replace('_', ' ')}); "
               f"bills from Tally: {report.bills_source.replace('_', ' ')}")
    summary = _sheet(workbook, "Summary", heading, SUMMARY_HEADER,
                     (16, 28, 28, 15, 14, 14, 14, 14, 14, 15, 14, 10, 15, 9, 15, 15, 30))
    for row in report.rows:
        _put(summary, [", ".join(row.retailer_codes), row.retailer_name, row.ledger_name, row.balance, row.not_due,
                       row.overdue_1_30, row.overdue_31_60, row.overdue_61_90, row.overdue_90_plus, row.overdue_total,
                       row.on_account, row.oldest_overdue_days, row.credit_limit, row.limit_used_pct, row.stock_value,
                       row.od_amount, ", ".join(REASON_WORDS.get(r, r) for r in row.hold_reasons)], SUMMARY_MONEY)
    t = report.totals
    _put(summary, ["Total", "", "", t.balance, t.not_due, t.overdue_1_30, t.overdue_31_60, t.overdue_61_90,
                   t.overdue_90_plus, t.overdue_total, t.on_account], (4, 5, 6, 7, 8, 9, 10, 11))
    for warning in report.warnings:
        summary.append([inert_text(warning)])

    sheet = _sheet(workbook, "Bills", heading, BILLS_HEADER, (16, 28, 20, 12, 12, 15, 10, 14))
    for retailer in bills:
        for bill in retailer.bills:
            _put(sheet, [", ".join(retailer.retailer_codes), retailer.ledger_name, bill.ref, bill.bill_date,
                         bill.due_date, bill.amount, bill.overdue_days, BUCKET_WORDS.get(bill.bucket, bill.bucket)], (6,))
            for column in (4, 5):
                sheet.cell(row=sheet.max_row, column=column).number_format = "dd-mm-yyyy"

    sheet = _sheet(workbook, "Holds", f"Hold list as of {holds.as_of:%d-%m-%Y}", HOLDS_HEADER, (16, 28, 40, 10, 14, 40))
    for item in holds.items:
        _put(sheet, [", ".join(item.retailer_codes), item.ledger_name, ", ".join(REASON_WORDS.get(r, r) for r in item.reasons),
                     "yes" if item.active else "released", item.released_until, item.release_reason or ""], ())
        sheet.cell(row=sheet.max_row, column=5).number_format = "dd-mm-yyyy"
    return xlsx_download(workbook, f"ageing_{report.as_of:%Y%m%d}.xlsx")


def ageing_csv(report: AgeingReport) -> Download:
    """The summary as CSV (header first, for programs; then the totals and the as-of line)."""
    rows: list[list[Any]] = [SUMMARY_HEADER]
    rows += [[", ".join(r.retailer_codes), r.retailer_name, r.ledger_name, r.balance, r.not_due, r.overdue_1_30,
              r.overdue_31_60, r.overdue_61_90, r.overdue_90_plus, r.overdue_total, r.on_account, r.oldest_overdue_days,
              r.credit_limit, r.limit_used_pct, r.stock_value, r.od_amount,
              ", ".join(REASON_WORDS.get(x, x) for x in r.hold_reasons)] for r in report.rows]
    t = report.totals
    rows += [["Total", "", "", t.balance, t.not_due, t.overdue_1_30, t.overdue_31_60, t.overdue_61_90, t.overdue_90_plus,
              t.overdue_total, t.on_account], [],
             [f"Ageing of open bills as of {report.as_of:%d-%m-%Y} (from the {report.basis.replace('_', ' ')})"],
             *([warning] for warning in report.warnings)]
    return csv_download(rows, f"ageing_{report.as_of:%Y%m%d}.csv")

