"""The office page in a real browser (Debian's Chromium driven by Playwright) against the real
server on 127.0.0.1 with the Tally emulator. `make screenshots` saves the pictures to
docs/screenshots/ (for the README); a plain test run keeps them in a temporary folder."""

import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.tally_emulator import Ledger, TallyServer
from tests.conftest import TALLY_COMPANY
from tests.prm_factory import imei, row, sheet
from devtools.loopback import admin_key_for, free_port, start_server

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


DESKTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


@pytest.fixture
def page(server: tuple[str, str]) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


def api_client(base: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"X-API-Key": key}, trust_env=False, timeout=30)


def on_screen(page: Any, selector: str) -> bool:
    """The element is visible and lies inside the viewport's width (reachable without side-scrolling)."""
    box = page.locator(selector).first.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


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
        row(5, retailer="R1", retailer_name="Sharma Mobile Point", status="Lost in Transit"),
        row(6, retailer="R2", retailer_name="Ram & Sons Mobiles", imei1=int(imei(6, prefix="08")))),
        name="IMEI_Report.xlsx")

    sign_in(page, base, key)
    page.set_input_files("#import-file", str(workbook))
    page.click("#import-button")
    page.wait_for_selector("#import-summary h3")
    assert page.inner_text("#import-summary h3") == "Imported"
    assert page.inner_text("[data-figure='Imported'] b") == "5"
    assert "unknown status 'Lost in Transit'" in page.inner_text("#row-errors")
    assert "Excel dropped the leading zero" in page.inner_text("#row-warnings")
    page.screenshot(path=str(shots / "import.png"), full_page=True)

    httpx.post(f"{base}/admin/products/prices", headers={"X-API-Key": key}, trust_env=False, json={"updates": [
        {"goods_id": "G1", "price": "15999.00"}, {"goods_id": "G2", "price": "8999.50"}]}).raise_for_status()
    page.click("#tab-report")
    page.wait_for_selector("#report-table tbody tr")
    first = page.locator("#report-table tbody tr").first
    assert "R1" in first.inner_text() and "₹2,25,001.50" in first.inner_text()
    assert "from Tally just now" in first.inner_text()
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
    assert "set by hand" in page.inner_text("#history-table tbody tr")
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
    assert on_screen(page, "#report-xlsx")
    with page.expect_download() as download_info:  # the OD file from a phone, too
        page.click("#report-xlsx")
    from openpyxl import load_workbook

    downloaded = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert "R1" in [cell.value for cell in downloaded["OD report"]["A"]]


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


def test_try_it_out_on_the_prices_example_succeeds_as_shown(page: Any, server: tuple[str, str]) -> None:
    base, key = server
    page.goto(f"{base}/docs")
    operation = page.locator(".opblock-post:has([data-path='/admin/products/prices'])").first
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    shown = json.loads(operation.locator("textarea.body-param__text").input_value())

    with api_client(base, key) as api:
        answer = api.post("/admin/products/prices", json=shown)
        product = api.get(f"/products/{shown['updates'][0]['goods_id']}").json()

    assert answer.status_code == 200, answer.text
    assert shown["updates"][0] == {"goods_id": "MZB0J8RIN", "name": "Redmi 13 5G (8GB/128GB) Ocean Blue",
                                   "category": "Phones", "price": "14999.00"}
    assert product["name"] == "Redmi 13 5G (8GB/128GB) Ocean Blue" and product["price"] == "14999.00"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_shrinking_file_is_imported_only_after_the_office_says_so(
        page: Any, server: tuple[str, str], make_xlsx: Callable[..., Path], shots: Path, viewport: dict[str, int]) -> None:
    base, key = server
    full = make_xlsx(sheet(*(row(n, retailer="R1", retailer_name="Sharma Mobile Point") for n in range(1, 5))), name="full.xlsx")
    short = make_xlsx(sheet(row(1, retailer="R1", retailer_name="Sharma Mobile Point")), name="short.xlsx")
    with api_client(base, key) as api:
        api.post("/run/prm-sync", files={"file": ("full.xlsx", full.read_bytes())}).raise_for_status()
    page.set_viewport_size(viewport)
    sign_in(page, base, key)

    page.set_input_files("#import-file", str(short))
    page.click("#import-button")
    page.wait_for_selector("#import-summary button.again")
    offer = page.inner_text("#import-summary button.again")
    refusal = page.inner_text("#import-error")
    page.screenshot(path=str(shots / f"shrink-{viewport['width']}.png"), full_page=True)
    assert on_screen(page, "#import-summary button.again")
    page.click("#import-summary button.again")
    page.wait_for_selector("#import-summary h3:has-text('Imported')")

    assert offer == "Import anyway (stock falls from 4 to 1)"
    assert refusal.startswith("This file leaves 1 units in retailer stock") and "confirm_shrink" not in refusal
    assert page.inner_text("[data-figure='Units in stock'] b") == "1"


def test_a_duplicate_file_offers_import_again_and_a_check_never_says_imported(
        page: Any, server: tuple[str, str], make_xlsx: Callable[..., Path]) -> None:
    base, key = server
    workbook = make_xlsx(sheet(*(row(n, retailer="R1") for n in range(1, 4))))
    with api_client(base, key) as api:
        api.post("/run/prm-sync", files={"file": ("prm.xlsx", workbook.read_bytes())}).raise_for_status()
    sign_in(page, base, key)

    page.set_input_files("#import-file", str(workbook))
    page.click("#import-button")
    page.wait_for_selector("#import-summary h3:has-text('Already imported')")
    page.click("#import-summary button.again")
    page.wait_for_selector("#import-summary h3 >> text=Imported")
    page.check("#dry-run")
    page.click("#import-button")
    page.wait_for_selector("#import-summary h3:has-text('Checked')")

    figures = page.inner_text("#import-summary .grid")
    assert "Would import" in figures and "Imported" not in figures


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_mapping_screen_confirms_suggestions_and_finds_ledgers_by_name(
        page: Any, server: tuple[str, str], make_xlsx: Callable[..., Path], shots: Path, viewport: dict[str, int]) -> None:
    base, key = server
    workbook = make_xlsx(sheet(row(1, retailer="R1", retailer_name="Sharma Mobile Pt"),
                               row(2, retailer="R2", retailer_name="Ram and Sons Mobile"),
                               row(3, retailer="R3", retailer_name="VT Jaipur")))
    with api_client(base, key) as api:
        api.post("/run/prm-sync", files={"file": ("prm.xlsx", workbook.read_bytes())}).raise_for_status()
    page.set_viewport_size(viewport)
    sign_in(page, base, key)

    page.click("#tab-mapping")
    page.wait_for_selector("#mapping-table tbody tr[data-code='R3']")
    page.screenshot(path=str(shots / f"mapping-{viewport['width']}.png"), full_page=True)
    assert page.inner_text("#mapping-head").startswith("3 retailers have no Tally ledger yet")
    assert on_screen(page, "#mapping-table tr[data-code='R1'] button.confirm")
    page.click("#mapping-table tr[data-code='R1'] button.confirm")
    page.wait_for_selector("#mapping-ok:has-text('R1')")
    page.wait_for_selector("#mapping-table tbody tr[data-code='R1']", state="detached")
    page.check("#mapping-table tr[data-code='R2'] input[type=checkbox]")
    page.click("#mapping-bulk")
    page.wait_for_selector("#mapping-ok:has-text('Saved 1 ledgers')")
    page.wait_for_selector("#mapping-table tbody tr[data-code='R2']", state="detached")
    page.click("#mapping-table tr[data-code='R3'] button.secondary")
    page.fill("#ledger-search", "VERMA")
    page.wait_for_selector("#ledger-results button:has-text('Verma Telecom')")
    assert page.locator("#ledger-results button").count() == 1
    page.click("#ledger-results button")
    page.wait_for_selector("#mapping-ok:has-text('R3 VT Jaipur → Verma Telecom')")

    with api_client(base, key) as api:
        mapped = {m["retailer_code"]: (m["ledger_name"], m["how"]) for m in api.get("/admin/ledger-mapping").json()["items"]}
    assert mapped == {"R1": ("Sharma Mobile Point", "explicit"), "R2": ("Ram & Sons Mobiles", "explicit"),
                      "R3": ("Verma Telecom", "explicit")}
    page.select_option("#mapping-show", "")
    page.wait_for_selector("#mapping-table tbody tr[data-code='R3']")
    assert "set by hand" in page.inner_text("#mapping-table tr[data-code='R3']")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_price_list_is_previewed_flags_an_undo_and_applies_only_on_confirm(
        page: Any, server: tuple[str, str], make_xlsx: Callable[..., Path], shots: Path, viewport: dict[str, int]) -> None:
    base, key = server
    with api_client(base, key) as api:
        api.post("/admin/products/prices", json={"updates": [
            {"goods_id": "G1", "name": "Redmi Note 13", "price": "19999.00"},
            {"goods_id": "G2", "name": "Redmi 13C", "price": "8999.00"}]}).raise_for_status()
        api.post("/admin/products/prices", json={"updates": [{"goods_id": "G1", "price": "9499.00"}]}).raise_for_status()
    old_list = make_xlsx([["Goods ID", "Name", "Price"], ["G1", "Redmi Note 13", 19999], ["G2", "Redmi 13C", 8999],
                          ["G3", "Redmi Buds 5", 1999]], name="old_list.xlsx")
    page.set_viewport_size(viewport)
    sign_in(page, base, key)
    page.click("#tab-prices")
    page.wait_for_selector("#price-table tbody tr[data-goods='G1']")

    page.set_input_files("#price-file", str(old_list))
    page.wait_for_selector("#preview-table tbody tr[data-goods='G1']")
    page.wait_for_selector("#preview-table tr[data-goods='G1'] td:has-text('Redmi Note 13')", state="attached")
    preview = page.inner_text("#price-preview")
    undo_row = page.locator("#preview-table tr[data-goods='G1']")
    undo_class, undo_text = undo_row.get_attribute("class"), undo_row.inner_text()
    page.screenshot(path=str(shots / f"price-preview-{viewport['width']}.png"), full_page=True)
    with api_client(base, key) as api:
        before_confirm = api.get("/products/G1").json()["price"]
    assert on_screen(page, "#price-preview button.confirm")
    page.click("#price-preview button.confirm")
    page.wait_for_selector("#prices-ok:has-text('Price list applied')")

    assert "1 prices change, 1 new products, 1 unchanged" in preview
    assert "would undo a recent price change" in preview
    assert undo_class == "undo" and "₹9,499.00" in undo_text and "set by hand" in undo_text
    assert before_confirm == "9499.00"
    assert page.inner_text("#prices-ok") == ("Price list applied: 1 new, 1 changed, 1 unchanged. "
                                             "G1 ₹9,499.00 → ₹19,999.00, G3 — → ₹1,999.00")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_sign_out_clears_every_table_field_and_the_stored_key(
        page: Any, server: tuple[str, str], make_xlsx: Callable[..., Path], viewport: dict[str, int]) -> None:
    base, key = server
    workbook = make_xlsx(sheet(row(1, retailer="R1", retailer_name="Sharma Mobile Point")))
    with api_client(base, key) as api:
        api.post("/run/prm-sync", files={"file": ("prm.xlsx", workbook.read_bytes())}).raise_for_status()
    page.set_viewport_size(viewport)
    sign_in(page, base, key)
    assert page.is_hidden("#signin-button") and page.is_visible("#signout")
    page.click("#tab-report")
    page.wait_for_selector("#report-table tbody tr")
    page.click("#tab-prices")
    page.fill("#price-search", "G1")
    page.wait_for_selector("#price-table tbody tr")
    assert on_screen(page, "#signout")

    page.click("#signout")

    assert page.is_visible("#signin-button") and page.is_hidden("#signout")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.input_value("#key") == "" and page.input_value("#price-search") == ""
    assert page.evaluate("[...document.querySelectorAll('main table')].every((t) => t.rows.length === 0)") is True
    assert page.inner_text("#report-head") == "" and page.inner_text("#report-why") == ""
    page.click("#tab-report")
    assert page.locator("#report-table tr").count() == 0


def test_a_code_with_a_slash_is_drilled_into_and_mapped_from_the_page(
        page: Any, server: tuple[str, str], make_xlsx: Callable[..., Path]) -> None:
    base, key = server
    workbook = make_xlsx(sheet(row(1, retailer="JPR/0042", retailer_name="Sharma Mobile Pt"),
                               row(2, retailer="JPR/0042", retailer_name="Sharma Mobile Pt", goods="G2")))
    with api_client(base, key) as api:
        api.post("/run/prm-sync", files={"file": ("prm.xlsx", workbook.read_bytes())}).raise_for_status()
    sign_in(page, base, key)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.click("#tab-mapping")
    page.wait_for_selector("#mapping-table tbody tr[data-code='JPR/0042']")
    page.click("#mapping-table tr[data-code='JPR/0042'] button.confirm")
    page.wait_for_selector("#mapping-ok:has-text('JPR/0042 Sharma Mobile Pt → Sharma Mobile Point')")
    page.click("#tab-report")
    page.wait_for_selector("#report-table tbody tr:has-text('JPR/0042')")
    page.locator("#report-table tbody tr:has-text('JPR/0042')").first.click()
    page.wait_for_selector("#drill-table")

    assert "JPR/0042 · Sharma Mobile Pt" in page.inner_text("#drill")
    assert "G2" in page.inner_text("#drill-table")
    assert f"{base}/admin/retailers/JPR/0042/ledger" in requested  # the slash stays a slash
    assert f"{base}/reports/negative/JPR/0042" in requested


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_credit_tab_charts_the_buckets_opens_bills_and_releases_a_hold(
        page: Any, server: tuple[str, str], tally: TallyServer, make_xlsx: Callable[..., Path], shots: Path,
        viewport: dict[str, int]) -> None:
    from devtools.tally_emulator import Bill

    base, key = server
    sharma = tally.state.companies[0].ledgers[0]
    sharma.credit_limit, sharma.credit_period = "-200000.00", "30 Days"
    sharma.bills = [Bill("GST/25-26/0412", "20251003", "-118000.00", "30 Days"), Bill("GST/26-27/0190", "20261120", "-132000.00")]
    with api_client(base, key) as api:
        api.post("/run/prm-sync", files={"file": ("prm.xlsx", make_xlsx(sheet(
            row(1, retailer="JPR/0042", retailer_name="Sharma Mobile Point"))).read_bytes())}).raise_for_status()
        api.post("/admin/products/prices", json={"updates": [{"goods_id": "G1", "price": "15999.00"}]}).raise_for_status()
    page.set_viewport_size(viewport)
    sign_in(page, base, key)

    page.click("#tab-credit")
    page.wait_for_selector("#credit-table tbody tr")
    first = page.locator("#credit-table tbody tr").first
    assert "JPR/0042" in first.inner_text() and "₹2,50,000.00" in first.inner_text()
    assert "over the credit limit" in first.inner_text() and "125%" in first.inner_text()
    assert page.evaluate("() => Chart.getChart('credit-buckets').data.datasets[0].data[4]") == 118000
    assert on_screen(page, "#credit-table tbody tr td:nth-child(4)")  # the overdue column on a phone too
    first.click()
    page.wait_for_selector("#credit-bills table")
    assert "GST/25-26/0412" in page.inner_text("#credit-bills") and "over 90 days" in page.inner_text("#credit-bills")

    page.fill("#holds-table input[aria-label^='Why']", "cheque promised")
    page.click("#holds-table button.release")
    page.wait_for_selector("#credit-ok:has-text('may buy until')")
    page.wait_for_selector("#holds-table td:has-text('released until')")
    page.screenshot(path=str(shots / f"credit-{viewport['width']}.png"), full_page=True)
