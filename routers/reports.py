"""The negative / OD report and the retailer-to-ledger mapping."""

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reporting import ledger_mapping
from reporting import od_files as report_files
import reports
from database import SessionDep
from routers.deps import VIEWER, AccountsDep, PageDep, error_responses
from routers.tally import TallyDep
from schemas import (
    AmountQuery,
    LedgerAssignment,
    LedgerAssignmentRequest,
    LedgerAssignmentResult,
    LedgerMappingPage,
    LedgerMappingRead,
    OdDrillDown,
    OdReport,
)
from tally_cache import TallyService

router = APIRouter(tags=["reports"])
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Refresh = Annotated[bool, Query(description="Read Tally now instead of the cache.")]
Code = Annotated[str, Path(max_length=64)]


@router.get("/reports/negative", summary="Retailers who owe more than their stock is worth (OD), highest first",
            response_model=OdReport, responses={**error_responses(422),
                                                200: {"content": {"application/json": {}, XLSX_TYPE: {}, "text/csv": {}}}},
            dependencies=[VIEWER])
async def negative_report(
    tally: TallyDep,
    session: SessionDep,
    min_od: Annotated[AmountQuery, Query(description="Only rows owing at least this much: 100000 or 1,00,000")] = None,
    retailer_code: Annotated[str | None, Query(max_length=64)] = None,
    refresh: Refresh = False,
    format: Annotated[Literal["json", "xlsx", "csv"], Query(description="json, xlsx or csv")] = "json",
) -> Response:
    return await run_in_threadpool(_negative_report_answer, tally, session, min_od, retailer_code, refresh, format)


def _negative_report_answer(tally: TallyService, session: Session, min_od: Decimal | None, retailer_code: str | None,
                            refresh: bool, format: str) -> Response:
    report = reports.negative_report(tally, session, min_od=min_od, retailer_code=retailer_code, refresh=refresh)
    stamp = report.as_of.strftime("%Y%m%d")
    if format == "xlsx":
        return Response(report_files.od_report_xlsx(report), media_type=XLSX_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="od_report_{stamp}.xlsx"'})
    if format == "csv":
        return Response(report_files.od_report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="od_report_{stamp}.csv"'})
    # Serialised here: the report was built and checked as an OdReport, and a second validation
    # of thousands of rows by FastAPI would double the time of the whole answer.
    return Response(report.model_dump_json(), media_type="application/json")


@router.get("/reports/negative/{retailer_code}", summary="One retailer's OD explained: stock by goods, ledger, balance",
            response_model=OdDrillDown, responses=error_responses(404, 422), dependencies=[VIEWER])
async def negative_drill_down(tally: TallyDep, session: SessionDep, retailer_code: Code, refresh: Refresh = False) -> OdDrillDown:
    return await run_in_threadpool(reports.drill_down, tally, session, retailer_code=retailer_code, refresh=refresh)


@router.get("/admin/ledger-mapping", summary="Every retailer's Tally ledger, how it was matched, suggestions",
            response_model=LedgerMappingPage, responses=error_responses(422), dependencies=[VIEWER])
async def list_ledger_mapping(
    tally: TallyDep,
    session: SessionDep,
    page: PageDep,
    how: Annotated[str | None, Query(pattern="^(explicit|by_name|by_code|unmatched)$")] = None,
) -> LedgerMappingPage:
    return await run_in_threadpool(ledger_mapping.list_mappings, tally, session, page=page, how=how)


@router.post("/admin/ledger-mapping", summary="Set many retailers' ledgers at once (all or nothing)",
             response_model=LedgerAssignmentResult, responses=error_responses(422))
def set_ledger_mappings(tally: TallyDep, session: SessionDep, actor: AccountsDep,
                        body: LedgerAssignmentRequest) -> LedgerAssignmentResult:
    return ledger_mapping.set_many(tally, session, items=body.mappings, actor=actor)


@router.put("/admin/retailers/{code}/ledger", summary="Set or clear one retailer's Tally ledger",
            response_model=LedgerMappingRead, responses=error_responses(404, 422))
def set_retailer_ledger(tally: TallyDep, session: SessionDep, actor: AccountsDep, code: Code,
                        body: LedgerAssignment) -> LedgerMappingRead:
    return ledger_mapping.set_ledger(tally, session, code=code, ledger_name=body.ledger_name, actor=actor)


@router.get("/admin/ledger-mapping/sheet", summary="Download the mapping as xlsx, to edit and upload back",
            response_class=Response, responses={200: {"content": {XLSX_TYPE: {}}}, **error_responses()},
            dependencies=[VIEWER])
def ledger_mapping_sheet(tally: TallyDep, session: SessionDep) -> Response:
    return Response(ledger_mapping.mapping_workbook(tally, session), media_type=XLSX_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="ledger_mapping.xlsx"'})


@router.post("/admin/ledger-mapping/upload", summary="Apply an edited mapping sheet (all or nothing)",
             response_model=LedgerAssignmentResult, responses=error_responses(400, 413, 415, 422))
def upload_ledger_mapping(
    tally: TallyDep, session: SessionDep, actor: AccountsDep,
    file: Annotated[UploadFile, File(description="The mapping sheet: Retailer Code and Tally Ledger columns")],
) -> LedgerAssignmentResult:
    file_name = (file.filename or "mapping.xlsx").replace("\\", "/").rsplit("/", 1)[-1][:255]
    return ledger_mapping.upload_mapping(tally, session, data=file.file.read(), file_name=file_name, actor=actor)
