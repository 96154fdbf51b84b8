"""The OD workbook as the office sees it: rendered by LibreOffice to PDF, then read as text.

Reading the number format back proves nothing about how it shows, so this renders it. Needs
LibreOffice (`make test` installs Debian's libreoffice-calc-nogui and poppler-utils when run as
root); without them the test skips and says why.
"""

import re
import shutil
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reporting.od_files import od_report_download
from schemas import CreditBalance, OdReport, OdRow, OdTotals, UnmatchedRetailer

pytestmark = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdfinfo")),
                                reason="LibreOffice and poppler-utils are not installed (make test installs them as root)")
AS_OF = datetime(2026, 11, 27, 12, 30, tzinfo=timezone.utc)  # 18:00 IST
WESTERN = re.compile(r"\d{1,3},\d{3},\d{3}")  # 1,790,426.70: thousands grouping past a lakh


def _row(code: str, balance: str, stock: str) -> OdRow:
    return OdRow(retailer_codes=[code], retailer_name=f"Shop {code}", ledger_name=f"Shop {code}",
                 closing_balance=Decimal(balance), stock_units=3, stock_value=Decimal(stock), unpriced_units=0,
                 od_amount=Decimal(balance) - Decimal(stock), balance_source="stale_cache", balance_as_of=AS_OF,
                 valuation_complete=True)


def _report() -> OdReport:
    rows = [_row("RT1", "123456789.50", "1000.00"), _row("RT2", "2543378.70", "752952.00"),
            _row("RT3", "45000.00", "999.99")]
    totals = OdTotals(od_amount=sum((r.od_amount for r in rows), Decimal(0)),
                      closing_balance=sum((r.closing_balance for r in rows), Decimal(0)),
                      stock_value=sum((r.stock_value for r in rows), Decimal(0)),
                      rows=3, unmatched_retailers=1, balance_unavailable=0, credit_balances=2, unpriced_goods=0)
    return OdReport(as_of=AS_OF, prm_run_id=7, prm_run_at=AS_OF, prm_snapshot_age_days=0, warnings=[], rows=rows,
                    totals=totals, unmatched_retailers=[UnmatchedRetailer(retailer_code="RT9", retailer_name="Jain",
                                                                          stock_units=4, reason="no ledger")],
                    balance_unavailable=[],
                    credit_balances=[CreditBalance(retailer_codes=["RT5"], ledger_name="Patel", stock_value=Decimal(0),
                                                   closing_balance=Decimal("-2543378.70")),
                                     CreditBalance(retailer_codes=["RT6"], ledger_name="Rao", stock_value=Decimal(0),
                                                   closing_balance=Decimal("-45000.00"))],
                    unpriced_goods=[])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("render")
    book = folder / "od.xlsx"
    book.write_bytes(od_report_download(_report(), format="xlsx").content)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--convert-to",
                    "pdf", "--outdir", str(folder), str(book)], check=True, capture_output=True, timeout=120)
    pdf = folder / "od.pdf"
    return pdf, subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                               text=True).stdout


def test_every_amount_renders_in_indian_grouping_negatives_too(rendered: tuple[Path, str]) -> None:
    _, text = rendered

    for shown in ["₹12,34,56,789.50", "₹12,34,55,789.50", "₹25,43,378.70", "₹17,90,426.70", "₹45,000.00",
                  "₹44,000.01", "₹7,52,952.00", "₹12,60,45,168.20",  # totals: balance
                  "-₹25,43,378.70", "-₹45,000.00"]:  # credit balances on the second sheet
        assert shown in text, (shown, text)
    assert not WESTERN.search(text), WESTERN.search(text)


def test_it_prints_landscape_one_page_wide_with_its_title(rendered: tuple[Path, str]) -> None:
    pdf, text = rendered
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True, text=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)

    assert len(sizes) == 2  # one page per sheet: the table fits one page wide
    assert all(float(width) > float(height) for width, height in sizes)  # landscape
    first_page = text.split("\f")[0]
    assert "Negative / OD report" in first_page and "Valuation" in first_page  # the last column, on page 1
    assert "27-11-2026 18:00" in first_page  # the balance time, in IST


def test_times_are_real_dates_in_ist() -> None:
    import io

    sheet = load_workbook(io.BytesIO(od_report_download(_report(), format="xlsx").content))["OD report"]
    header = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "Retailer code(s)")
    times = [row[9] for row in sheet.iter_rows(values_only=True) if row[0] == "RT1"]

    assert header[9] == "Balance as of (IST)"
    assert times == [datetime(2026, 11, 27, 18, 0)]
