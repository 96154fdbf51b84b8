"""Setting which Tally ledger belongs to which PRM retailer: lists, writes and the mapping sheet.

The matching rule itself is pure and lives in `reporting.ledger_matching`.
"""

from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from access import audit
import errors
from database import begin_write
import tally_cache
from access.actor import SYSTEM, Actor
from models import Retailer
from kit.paging import PageParams
from kit.cells import cell_text
from schemas import LedgerAssignmentItem, LedgerAssignmentResult, LedgerMappingPage, LedgerMappingRead
from tally_cache import TallyService
from kit.cells import check_name, normalise_name
from kit.files import Download, clean_upload_name, from_inert_text, header_sheet, inert_text, upload_bytes, xlsx_download
from kit.workbook_gate import MAPPING_LIMITS
from kit.workbooks import FileProblem, HeaderSpec, open_sheet
from reporting.ledger_matching import Mapping, fuzzy_index, resolve, suggest

def known_ledgers(service: TallyService, session: Session) -> dict[str, str]:
    """Debtors-group ledgers (refreshed from Tally when stale, cached ones when Tally is down)."""
    rows, _source, _problem = tally_cache.group_balances(service, session)
    return {key: row.ledger_name for key, row in rows.items() if row.group_name == service.debtors_key}


def all_mappings(session: Session, ledgers: dict[str, str]) -> list[Mapping]:
    retailers = session.execute(select(Retailer.code, Retailer.name, Retailer.tally_ledger_name).order_by(Retailer.code))
    return [resolve(code, name, explicit, ledgers) for code, name, explicit in retailers]


def list_mappings(service: TallyService, session: Session, *, page: PageParams, how: str | None = None) -> LedgerMappingPage:
    ledgers = known_ledgers(service, session)
    fuzzy = fuzzy_index(ledgers)
    mappings = [m for m in all_mappings(session, ledgers) if how is None or m.how == how]
    shown = mappings[page.offset:page.offset + page.limit]
    return LedgerMappingPage(
        items=[LedgerMappingRead(retailer_code=m.retailer_code, retailer_name=m.retailer_name, ledger_name=m.ledger_name,
                                 how=m.how, reason=m.reason,
                                 suggestions=suggest(m.retailer_name, m.retailer_code, ledgers, fuzzy) if m.how == "unmatched" else [])
               for m in shown],
        total=len(mappings), limit=page.limit, offset=page.offset, ledgers_known=len(ledgers))


def _known_spellings(service: TallyService, session: Session, wanted: list[str], actor: Actor
                     ) -> tuple[dict[str, str], dict[str, str]]:
    """(every cached ledger's spelling by key, the debtors group's) with at most one Tally read.

    Names the cache does not know are checked by reading the debtors group once (a ledger made
    in Tally a minute ago is then found), never one request per name. When Tally cannot be read,
    unknown names cannot be checked: that is a 503 naming Tally, not "no such ledger".
    """
    rows, source, problem = tally_cache.group_balances(service, session)
    unknown = [name for name in wanted if normalise_name(name) not in rows]
    if unknown and problem is None and source != "live":
        rows, source, problem = tally_cache.group_balances(service, session, refresh=True, actor=actor)
        unknown = [name for name in wanted if normalise_name(name) not in rows]
    if unknown and problem is not None:
        shown = ", ".join(repr(name) for name in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise errors.TallyUnavailable(f"Tally could not be read, so {len(unknown)} ledger name(s) could not be checked "
                                      f"({shown}); nothing was saved. Tally said: {problem}")
    spellings = {key: row.ledger_name for key, row in rows.items()}
    debtors = {key: row.ledger_name for key, row in rows.items() if row.group_name == service.debtors_key}
    return spellings, debtors


def _assign(service: TallyService, session: Session, items: list[LedgerAssignmentItem],
            locations: list[list[str | int]], actor: Actor) -> LedgerAssignmentResult:
    names = [check_name(item.ledger_name, field=[*loc, "ledger_name"]) if item.ledger_name else None
             for item, loc in zip(items, locations)]
    spellings, ledgers = _known_spellings(service, session, [name for name in names if name], actor)
    fuzzy = fuzzy_index(ledgers)
    problems: list[errors.ErrorItem] = []
    changes: list[tuple[Retailer, str | None]] = []
    for item, loc, wanted in zip(items, locations, names):
        retailer = session.get(Retailer, item.retailer_code)
        if retailer is None:
            problems.append(errors.item([*loc, "retailer_code"], f"there is no retailer {item.retailer_code!r}", "not_found"))
            continue
        if wanted is not None:
            spelled = spellings.get(normalise_name(wanted))
            if spelled is None:
                closest = suggest(wanted, item.retailer_code, ledgers, fuzzy)
                hint = f"; closest: {', '.join(closest)}" if closest else ""
                problems.append(errors.item([*loc, "ledger_name"],
                                            f"Tally has no ledger named {wanted!r} in the group {service.debtors_group!r} "
                                            f"(read from Tally just now){hint}", "unknown_ledger"))
                continue
            wanted = spelled
        changes.append((retailer, wanted))
    if problems:
        shown = "; ".join(f"{errors.field_path(p.loc)}: {p.msg}" for p in problems[:5])
        raise errors.InvalidInput(f"{len(problems)} of {len(items)} mappings are invalid, so none was saved: {shown}.",
                                  problems)
    # Checks done (they may have asked Tally); now write in one transaction that writes first.
    wanted_by_code = {retailer.code: wanted for retailer, wanted in changes}
    session.rollback()
    begin_write(session)
    changes = [(retailer, wanted_by_code[retailer.code]) for retailer in session.scalars(
        select(Retailer).where(Retailer.code.in_(list(wanted_by_code))))]
    result = {"updated": 0, "cleared": 0, "unchanged": 0}
    for retailer, wanted in changes:
        if retailer.tally_ledger_name == wanted:
            result["unchanged"] += 1
        else:
            result["cleared" if wanted is None else "updated"] += 1
            audit.record(session, actor, "mapping.set", target=retailer.code,
                         detail={"from": retailer.tally_ledger_name, "to": wanted})
            retailer.tally_ledger_name = wanted
    session.commit()
    return LedgerAssignmentResult(**result)


def set_ledger(service: TallyService, session: Session, *, code: str, ledger_name: str | None,
               actor: Actor = SYSTEM) -> LedgerMappingRead:
    """Set (or with None, clear) one retailer's Tally ledger."""
    if session.get(Retailer, code) is None:
        raise errors.NotFound(f"There is no retailer with code {code!r}; codes come from the PRM import.")
    _assign(service, session, [LedgerAssignmentItem(retailer_code=code, ledger_name=ledger_name)], [["body"]], actor)
    retailer = session.get(Retailer, code)
    assert retailer is not None
    mapping = resolve(retailer.code, retailer.name, retailer.tally_ledger_name, known_ledgers(service, session))
    return LedgerMappingRead(retailer_code=mapping.retailer_code, retailer_name=mapping.retailer_name,
                             ledger_name=mapping.ledger_name, how=mapping.how, reason=mapping.reason)


def set_many(service: TallyService, session: Session, *, items: list[LedgerAssignmentItem],
             actor: Actor = SYSTEM) -> LedgerAssignmentResult:
    """Confirm many mappings at once; all or nothing."""
    return _assign(service, session, items, [["body", "mappings", index] for index in range(len(items))], actor)


# --- the mapping sheet: download, edit in Excel, upload -----------------------------------------


def _too_long(error: Any) -> str:
    """A pydantic string error in a person's words ("is 70 characters; at most 64")."""
    limit = (error.get("ctx") or {}).get("max_length")
    if error["type"] == "string_too_long" and limit is not None:
        return f"is {len(str(error['input']))} characters; at most {limit}"
    return str(error["msg"])


MAPPING_SHEET_COLUMNS = HeaderSpec(
    aliases={
        "retailer_code": ("retailer code", "retailer id", "code", "store code", "dealer code"),
        "ledger_name": ("tally ledger", "ledger", "ledger name", "tally ledger name"),
    },
    required=("retailer_code", "ledger_name"),
    titles={"retailer_code": "Retailer Code", "ledger_name": "Tally Ledger"},
)
MAPPING_SHEET_HEADER = ["Retailer Code", "Retailer Name", "Tally Ledger", "How", "Suggestions"]


def mapping_workbook(service: TallyService, session: Session) -> Download:
    """The mapping as a sheet to edit in Excel and upload back."""
    ledgers = known_ledgers(service, session)
    fuzzy = fuzzy_index(ledgers)
    workbook, sheet = header_sheet("Ledger mapping", MAPPING_SHEET_HEADER)
    for m in all_mappings(session, ledgers):
        hints = suggest(m.retailer_name, m.retailer_code, ledgers, fuzzy) if m.how == "unmatched" else []
        sheet.append([inert_text(m.retailer_code), inert_text(m.retailer_name), inert_text(m.ledger_name or ""), m.how,
                      inert_text("; ".join(hints))])
    for letter, width in zip("ABCDE", (16, 34, 34, 10, 60)):
        sheet.column_dimensions[letter].width = width
    return xlsx_download(workbook, "ledger_mapping.xlsx")


def upload_mapping(service: TallyService, session: Session, *, data: bytes | BinaryIO, file_name: str | None,
                   actor: Actor = SYSTEM) -> LedgerAssignmentResult:
    """Apply an edited mapping sheet: a non-empty Tally Ledger that differs from today's becomes
    the retailer's explicit ledger; empty cells change nothing. All or nothing."""
    file_name = clean_upload_name(file_name, default="mapping.xlsx")
    try:
        sheet = open_sheet(upload_bytes(data), MAPPING_SHEET_COLUMNS, what="a mapping header (Retailer Code and Tally Ledger)",
                           limits=MAPPING_LIMITS)
    except FileProblem as problem:
        raise problem.as_app_error(file_name) from None
    current = {m.retailer_code: m for m in all_mappings(session, known_ledgers(service, session))}
    columns, headers = sheet.header.columns, sheet.header.headers
    items: list[LedgerAssignmentItem] = []
    locations: list[list[str | int]] = []
    problems: list[errors.ErrorItem] = []
    same = 0
    for row_number, cells in sheet.rows:
        # Text comes back as `mapping_workbook` wrote it: an apostrophe before a formula character.
        code = from_inert_text(cell_text(cells[columns["retailer_code"]])) if len(cells) > columns["retailer_code"] else ""
        ledger = from_inert_text(cell_text(cells[columns["ledger_name"]])) if len(cells) > columns["ledger_name"] else ""
        if not code or not ledger:
            continue
        mapping = current.get(code)
        if mapping is not None and mapping.ledger_key == normalise_name(ledger):
            same += 1  # already mapped there, by name, code or explicitly: leave it as it is
            continue
        try:
            items.append(LedgerAssignmentItem(retailer_code=code, ledger_name=ledger))
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0])
                title = headers[columns[field]]
                problems.append(errors.item(["row", row_number, title], f"{title} {_too_long(error)}"))
            continue
        locations.append(["row", row_number])
    if problems:
        shown = "; ".join(f"row {p.loc[1]} {p.loc[2]}: {p.msg}" for p in problems[:5])
        count = "1 cell is" if len(problems) == 1 else f"{len(problems)} cells are"
        raise errors.InvalidInput(f"{file_name}: {count} invalid, so no mapping was saved: {shown}.", problems)
    if not items:
        return LedgerAssignmentResult(updated=0, cleared=0, unchanged=same)
    result = _assign(service, session, items, locations, actor)
    return result.model_copy(update={"unchanged": result.unchanged + same})
