"""Credit control: the ageing report, one retailer's bills, the hold list and its releases."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator

from credit import releases
from credit import report as credit_report
from credit.schemas import (AgeingReport, ChangesRead, HistoryRead, HoldList, ReleaseRead, ReleaseRequest, RetailerBills,
                            RetailerHistory, SnapshotTaken)
from database import SessionDep
from kit import lanes
from kit.cells import query_day
from kit.files import XLSX_TYPE
from routers.deps import (VIEWER, AccountsDep, AdminDep, AmountQuery, BillsDep, Refresh, RetailerCodePath,
                          RetailerCodeQuery, RulesDep, ViewerDep, error_responses, json_or_file)

router = APIRouter(tags=["credit"])


AsOf = Annotated[date | None, BeforeValidator(query_day),
                 Query(description="The day to age the bills to (IST); default today", examples=["2026-12-02"])]
Basis = Annotated[str, Query(pattern="^(due_date|bill_date)$", description="Count overdue days from the due date "
                                                                           "(default) or the bill date")]
RetailerCode = RetailerCodePath


@router.get("/reports/ageing", summary="Each ledger's balance by age of its open bills, with limits and holds",
            response_model=AgeingReport, responses={**error_responses(403, 422), 200: {"content": {
                "application/json": {}, XLSX_TYPE: {}, "text/csv": {}}}})
async def ageing(bills: BillsDep, rules: RulesDep, session: SessionDep, actor: ViewerDep, as_of: AsOf = None,
                 basis: Basis = "due_date", retailer_code: RetailerCodeQuery = None, min_overdue: AmountQuery = None,
                 refresh: Refresh = False,
                 format: Annotated[Literal["json", "xlsx", "csv"], Query(
                     description="json; xlsx: summary, bills and holds, one sheet each; csv: the summary")] = "json",
                 ) -> Response:
    return json_or_file(await lanes.tally(credit_report.ageing_report, bills, session, rules=rules, as_of=as_of,
                                          basis=basis, retailer_code=retailer_code, min_overdue=min_overdue,
                                          refresh=refresh, actor=actor, format=format))


@router.get("/reports/ageing/{retailer_code:path}", summary="One retailer's open bills, each with its age",
            response_model=RetailerBills, responses=error_responses(404, 422))
async def retailer_bills(bills: BillsDep, rules: RulesDep, session: SessionDep, actor: ViewerDep,
                         retailer_code: RetailerCode, as_of: AsOf = None, basis: Basis = "due_date") -> RetailerBills:
    return await lanes.tally(credit_report.retailer_bills, bills, session, retailer_code=retailer_code, rules=rules,
                             as_of=as_of, basis=basis, actor=actor)


@router.get("/credit/holds", summary="Who is on hold and why, and who is released until when",
            response_model=HoldList, responses=error_responses(422))
async def holds(bills: BillsDep, rules: RulesDep, session: SessionDep, actor: ViewerDep, as_of: AsOf = None) -> HoldList:
    return await lanes.tally(credit_report.hold_list, bills, session, rules=rules, as_of=as_of)


@router.post("/credit/holds/{retailer_code:path}/release", summary="Release a retailer from the hold list until a day",
             status_code=201, response_model=ReleaseRead, responses=error_responses(404, 422))
async def release(session: SessionDep, actor: AccountsDep, retailer_code: RetailerCode,
                  body: ReleaseRequest) -> ReleaseRead:
    return await lanes.work(releases.release, session, retailer_code=retailer_code, until=body.until,
                            reason=body.reason, actor=actor)


@router.delete("/credit/holds/{retailer_code:path}/release", summary="End a retailer's release early (admin)",
               status_code=204, responses=error_responses(404, 422))
async def end_release(session: SessionDep, actor: AdminDep, retailer_code: RetailerCode) -> None:
    await lanes.work(releases.end_release, session, retailer_code=retailer_code, actor=actor)


Day = Annotated[date | None, BeforeValidator(query_day), Query(examples=["2026-11-01"])]


@router.get("/reports/history", summary="Daily totals from the snapshots: OD, overdue, retailers in OD, on hold",
            response_model=HistoryRead, response_model_by_alias=True, responses=error_responses(422),
            dependencies=[VIEWER])
async def history(session: SessionDep, start: Annotated[Day, Query(alias="from")] = None,
                  end: Annotated[Day, Query(alias="to")] = None) -> HistoryRead:
    return await lanes.read(credit_report.book_history, session, start=start, end=end)


@router.get("/reports/changes", summary="Who entered or left the OD or hold list, and who got worse or better",
            response_model=ChangesRead, responses=error_responses(422), dependencies=[VIEWER])
async def changes(session: SessionDep, since: Day = None) -> ChangesRead:
    return await lanes.read(credit_report.book_changes, session, since=since)


@router.post("/reports/snapshots", summary="Keep today's credit snapshot now (the day's last one wins)",
             status_code=201, response_model=SnapshotTaken, responses=error_responses(422))
async def snapshot(bills: BillsDep, rules: RulesDep, session: SessionDep, actor: AccountsDep) -> SnapshotTaken:
    return await lanes.tally(credit_report.snapshot_now, bills, session, rules=rules, actor=actor)


# Before the OD drill-down's {code:path}, which would take ".../history" as part of a code.
@router.get("/reports/negative/{retailer_code:path}/history", summary="One retailer's line from the snapshots",
            response_model=RetailerHistory, responses=error_responses(404, 422), dependencies=[VIEWER])
async def retailer_history(session: SessionDep, retailer_code: RetailerCode, start: Annotated[Day, Query(alias="from")] = None,
                           end: Annotated[Day, Query(alias="to")] = None) -> RetailerHistory:
    return await lanes.read(credit_report.retailer_history, session, retailer_code=retailer_code, start=start, end=end)
