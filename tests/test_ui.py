"""The office page in a real browser (Debian's Chromium driven by Playwright) against the real
server on 127.0.0.1 with the Tally emulator. `make screenshots` saves the pictures to
docs/screenshots/ (for the README); a plain test run keeps them in a temporary folder."""

import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.tally_emulator import Ledger, TallyServer
from tests.conftest import TALLY_COMPANY
from tests.prm_factory import row, sheet
from devtools.loopback import admin_key_for, free_port
from tests.test_crash_safety import start_server

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOCS_SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by make test")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (make test installs it when run as root)", allow_module_level=True)


@pytest.fixture
def server(database_url: str, tally: TallyServer) -> Iterator[tuple[str, str]]:
    tally.state.companies[0].ledgers = [
        Ledger("Sharma Mobile Point", "Sundry Debtors", "-250000.00"),
        Ledger("Ram & Sons Mobiles", "Sundry Debtors", "-1500.00"),
        Ledger("Verma Telecom", "Sundry Debtors", "18500.00"),
    ]
    key = admin_key_for(database_url, "office-desk")
    port = free_port()
    process = start_server(database_url, port, {"TALLY_HOST": tally.url, "TALLY_COMPANY": TALLY_COMPANY})
    yield f"http://127.0.0.1:{port}", key
    process.kill()
    process.wait(10)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = DOCS_SHOTS if os.environ.get("SAVE_SCREENSHOTS") else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(server: tuple[str, str]) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/ui/")
    page.fill("#key", key)
    page.press("#key", "Enter")  # the keyboard works as well as the mouse
    page.wait_for_selector("#who:has-text('Signed in')")


def test_the_office_flow_in_a_real_browser(page: Any, server: tuple[str, str], make_xlsx: Callable[..., Path],
                                            shots: Path) -> None:
    base, key = server
    workbook = make_xlsx(sheet(
        row(1, retailer="R1", retailer_name="Sharma Mobile Point", goods="G1"),
        row(2, retailer="R1", retailer_name="Sharma Mobile Point", goods="G2"),
        row(3, retailer="R2", retailer_name="Ram & Sons Mobiles", goods="G1"),
        row(4, retailer="R3", retailer_name="Verma Telecom", goods="G1"),
        row(5, retailer="R1", retailer_name="Sharma Mobile Point", status="Lost in Transit")), name="IMEI_Report.xlsx")

    sign_in(page, base, key)
    page.set_input_files("#import-file", str(workbook))
    page.click("#import-button")
    page.wait_for_selector("#import-summary h3")
    assert page.inner_text("#import-summary h3") == "Imported"
    assert page.inner_text("[data-figure='Imported'] b") == "4"
    assert "unknown status 'Lost in Transit'" in page.inner_text("#row-errors")
    page.screenshot(path=str(shots / "import.png"), full_page=True)

    httpx.post(f"{base}/admin/products/prices", headers={"X-API-Key": key}, trust_env=False, json={"updates": [
        {"goods_id": "G1", "price": "15999.00"}, {"goods_id": "G2", "price": "8999.50"}]}).raise_for_status()
    page.click("#tab-report")
    page.wait_for_selector("#report-table tbody tr")
    first = page.locator("#report-table tbody tr").first
    assert "R1" in first.inner_text() and "₹2,25,001.50" in first.inner_text()
    assert "Credit balance (we owe them): 1" in page.inner_text("#report-why")
    first.click()
    page.wait_for_selector("#drill-table")
    assert "G2" in page.inner_text("#drill-table")
    page.screenshot(path=str(shots / "report.png"), full_page=True)
    with page.expect_download() as download_info:
        page.click("#report-xlsx")
    from openpyxl import load_workbook

    downloaded = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert "R1" in [cell.value for cell in downloaded["OD report"]["A"]]

    page.click("#tab-prices")
    page.fill("#price-search", "G1")
    page.wait_for_selector("#price-table tbody tr[data-goods='G1']")
    page.click("#price-table tbody tr[data-goods='G1'] button")
    page.fill("#price-table input", "14999.00")
    page.press("#price-table input", "Enter")
    page.wait_for_selector("#prices-ok:has-text('G1')")
    assert page.inner_text("#prices-ok") == "G1: ₹15,999.00 → ₹14,999.00"
    page.wait_for_selector("#history-table tbody tr:has-text('14,999.00')")
    assert "office-desk" in page.inner_text("#history-table tbody tr")
    page.screenshot(path=str(shots / "prices.png"), full_page=True)

    page.click("#tab-tally")
    page.wait_for_selector("#tally-status dd")
    page.click("#tally-refresh")
    page.wait_for_selector("#tally-ok:has-text('Read 3 ledgers')")
    page.screenshot(path=str(shots / "tally.png"), full_page=True)


def test_an_api_error_is_shown_as_its_sentence_next_to_the_action(page: Any, server: tuple[str, str],
                                                                   tmp_path: Path) -> None:
    base, key = server
    not_excel = tmp_path / "export.xlsx"
    not_excel.write_text("IMEI1,Goods ID\n490154203237518,G1\n")

    sign_in(page, base, key)
    page.set_input_files("#import-file", str(not_excel))
    page.click("#import-button")

    page.wait_for_selector("#import-error:has-text('CSV')")
    assert page.inner_text("#import-error").startswith("export.xlsx is a CSV/text file")


def test_a_wrong_key_is_refused_with_the_services_sentence(page: Any, server: tuple[str, str]) -> None:
    base, _key = server
    page.goto(f"{base}/ui/")
    page.fill("#key", "dba_wrong")
    page.click("#signin button[type=submit]")

    page.wait_for_selector("#signin-error:has-text('unknown or revoked')")


def test_the_page_fits_a_phone_screen(page: Any, server: tuple[str, str], shots: Path,
                                      make_xlsx: Callable[..., Path]) -> None:
    base, key = server
    workbook = make_xlsx(sheet(row(1, retailer="R1", retailer_name="Sharma Mobile Point"),
                               row(2, retailer="R2", retailer_name="Ram & Sons Mobiles")))
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, trust_env=False, timeout=30) as api:
        api.post("/run/prm-sync", files={"file": ("prm.xlsx", workbook.read_bytes())}).raise_for_status()
        api.post("/admin/products/prices", json={"updates": [{"goods_id": "G1", "price": "999.00"}]}).raise_for_status()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base, key)
    page.click("#tab-report")
    page.wait_for_selector("#report-table tbody tr")

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")

    page.screenshot(path=str(shots / "phone.png"), full_page=True)
    assert overflow <= 1


def test_the_api_docs_render_with_every_other_host_blocked(server: tuple[str, str]) -> None:
    base, _key = server
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context()
        elsewhere: list[str] = []

        def only_this_server(route: Any) -> None:
            if route.request.url.startswith(base):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        context.route("**/*", only_this_server)
        page = context.new_page()
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-summary", timeout=15000)
        operations = page.locator(".opblock-summary").count()
        page.goto(f"{base}/redoc")
        page.wait_for_selector("[data-section-id]", timeout=15000)
        context.close()
        browser.close()

    assert operations > 20
    assert elsewhere == []
