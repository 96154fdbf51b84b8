"""The negative / OD report and the retailer-to-ledger mapping."""

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from credit import report as credit_report
from reporting import ledger_mapping
import reports
from kit import lanes
from database import SessionDep
from kit.files import XLSX_TYPE
from routers.deps import (
    VIEWER,
    XLSX_RESPONSE,
    AccountsDep,
    AmountQuery,
    BillsDep,
    PageDep,
    Refresh,
    RetailerCodePath,
    RetailerCodeQuery,
    RulesDep,
    TallyDep,
    ViewerDep,
    error_responses,
    file_response,
    json_or_file,
)
from schemas import (
    LedgerAssignment,
    LedgerAssignmentRequest,
    LedgerAssignmentResult,
    LedgerMappingPage,
    LedgerMappingRead,
    OdDrillDown,
    OdReport,
)

router = APIRouter(tags=["reports"])


@router.get("/reports/negative", summary="Retailers who owe more than their stock is worth (OD), highest first",
            response_model=OdReport, responses={**error_responses(422),
                                                200: {"content": {"application/json": {}, XLSX_TYPE: {}, "text/csv": {}}}})
async def negative_report(
    tally: TallyDep,
    bills: BillsDep,
    rules: RulesDep,
    session: SessionDep,
    actor: ViewerDep,
    min_od: Annotated[AmountQuery, Query(description="Only rows owing at least this much: 100000 or 1,00,000",
                                         examples=["100000"])] = None,
    retailer_code: RetailerCodeQuery = None,
    refresh: Refresh = False,
    format: Annotated[Literal["json", "xlsx", "csv"], Query(description="json, xlsx or csv")] = "json",
) -> Response:
    return json_or_file(await lanes.tally(credit_report.od_report_in_format, tally, bills, session, rules=rules,
                                          format=format, min_od=min_od, retailer_code=retailer_code, refresh=refresh,
                                          actor=actor))


@router.get("/reports/negative/{retailer_code:path}", summary="One retailer's OD explained: stock by goods, ledger, balance",
            response_model=OdDrillDown, responses=error_responses(404, 422))
async def negative_drill_down(tally: TallyDep, session: SessionDep, actor: ViewerDep, retailer_code: RetailerCodePath,
                              refresh: Refresh = False) -> OdDrillDown:
    return await lanes.tally(reports.drill_down, tally, session, retailer_code=retailer_code, refresh=refresh,
                             actor=actor)


@router.get("/admin/ledger-mapping", summary="Every retailer's Tally ledger, how it was matched, suggestions",
            response_model=LedgerMappingPage, responses=error_responses(422), dependencies=[VIEWER])
async def list_ledger_mapping(
    tally: TallyDep,
    session: SessionDep,
    page: PageDep,
    how: Annotated[str | None, Query(pattern="^(explicit|by_name|by_code|unmatched)$")] = None,
) -> LedgerMappingPage:
    return await lanes.tally(ledger_mapping.list_mappings, tally, session, page=page, how=how)


@router.post("/admin/ledger-mapping", summary="Set many retailers' ledgers at once (all or nothing)",
             response_model=LedgerAssignmentResult, responses=error_responses(422, 503))
async def set_ledger_mappings(tally: TallyDep, session: SessionDep, actor: AccountsDep,
                              body: LedgerAssignmentRequest) -> LedgerAssignmentResult:
    return await lanes.tally(ledger_mapping.set_many, tally, session, items=body.mappings, actor=actor)


@router.put("/admin/retailers/{code:path}/ledger", summary="Set or clear one retailer's Tally ledger",
            response_model=LedgerMappingRead, responses=error_responses(404, 422, 503))
async def set_retailer_ledger(tally: TallyDep, session: SessionDep, actor: AccountsDep, code: RetailerCodePath,
                              body: LedgerAssignment) -> LedgerMappingRead:
    return await lanes.tally(ledger_mapping.set_ledger, tally, session, code=code, ledger_name=body.ledger_name, actor=actor)


@router.get("/admin/ledger-mapping/sheet", summary="Download the mapping as xlsx, to edit and upload back",
            response_class=Response, responses={**XLSX_RESPONSE, **error_responses()},
            dependencies=[VIEWER])
async def ledger_mapping_sheet(tally: TallyDep, session: SessionDep) -> Response:
    return file_response(await lanes.tally(ledger_mapping.mapping_workbook, tally, session))


@router.post("/admin/ledger-mapping/upload", summary="Apply an edited mapping sheet (all or nothing)",
             response_model=LedgerAssignmentResult, responses=error_responses(400, 413, 415, 422, 503))
async def upload_ledger_mapping(
    tally: TallyDep, session: SessionDep, actor: AccountsDep,
    file: Annotated[UploadFile, File(description="The mapping sheet: Retailer Code and Tally Ledger columns")],
) -> LedgerAssignmentResult:
    return await lanes.tally(ledger_mapping.upload_mapping, tally, session, data=file.file, file_name=file.filename,
                             actor=actor)
