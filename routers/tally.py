"""Tally ledger balances, served through the cache."""

from typing import Annotated

from fastapi import APIRouter, Query

from kit import lanes
import tally_cache
from database import SessionDep
from routers.deps import VIEWER, AccountsDep, PageDep, Refresh, TallyDep, ViewerDep, error_responses
from schemas import (
    BalanceRead,
    CacheEntryRead,
    LedgerPage,
    Page,
    RefreshResult,
    TallyStatus,
)

router = APIRouter(tags=["tally"])




@router.get("/tally/closing-balance", summary="One ledger's closing balance (positive = owes us)",
            response_model=BalanceRead, responses=error_responses(404, 422, 502, 503))
async def closing_balance(
    tally: TallyDep,
    session: SessionDep,
    actor: ViewerDep,
    ledger: Annotated[str, Query(min_length=1, max_length=255, description="Ledger name as in Tally, any case",
                                 examples=["Sharma Mobile Point"])],
    refresh: Refresh = False,
) -> BalanceRead:
    return await lanes.tally(tally_cache.get_balance, tally, session, ledger=ledger, refresh=refresh, actor=actor)


@router.get("/tally/ledgers", summary="Ledgers of a group with their balances", response_model=LedgerPage,
            responses=error_responses(422, 502, 503))
async def list_ledgers(
    tally: TallyDep,
    session: SessionDep,
    actor: ViewerDep,
    page: PageDep,
    group: Annotated[str | None, Query(max_length=255, description="Default: TALLY_DEBTORS_GROUP")] = None,
    refresh: Refresh = False,
    search: Annotated[str | None, Query(max_length=255, description="Part of the ledger's name, any case")] = None,
) -> LedgerPage:
    return await lanes.tally(tally_cache.list_ledgers, tally, session, page=page, group=group, refresh=refresh,
                             search=search, actor=actor)


@router.get("/tally/status", summary="Is Tally reachable; last success and error; cache counters",
            response_model=TallyStatus, responses=error_responses(), dependencies=[VIEWER])
async def tally_status(tally: TallyDep, session: SessionDep) -> TallyStatus:
    return await lanes.tally(tally_cache.status, tally, session)


@router.get("/debug/tally-cache", summary="Cached balances with age and freshness", response_model=Page[CacheEntryRead],
            responses=error_responses(422), dependencies=[VIEWER])
async def tally_cache_entries(tally: TallyDep, session: SessionDep, page: PageDep) -> Page[CacheEntryRead]:
    return await lanes.read(tally_cache.cache_entries, tally, session, page=page)


@router.post("/admin/tally/refresh", summary="Read the debtors group from Tally now", response_model=RefreshResult,
             responses=error_responses(502, 503))
async def refresh(tally: TallyDep, session: SessionDep, actor: AccountsDep) -> RefreshResult:
    return await lanes.tally(tally_cache.refresh_now, tally, session, actor=actor)
