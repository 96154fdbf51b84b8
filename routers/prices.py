"""Products and prices: bulk updates, the price-list workbook, history reads."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import Response

from kit import lanes
from catalogue import prices
from database import SessionDep
from routers.deps import (
    VIEWER,
    XLSX_RESPONSE,
    AccountsDep,
    PageDep,
    SinceQuery,
    UntilDateTime,
    UntilQuery,
    error_responses,
    file_response,
)
from schemas import (
    Page,
    PriceAsOf,
    PriceHistoryRead,
    PriceUpdateRequest,
    PriceUpdateResult,
    ProductDetail,
)

router = APIRouter(tags=["products and prices"])
GoodsId = Annotated[str, Path(max_length=64, examples=["MZB0J8RIN"])]


@router.post("/admin/products/prices", summary="Create products and set prices in bulk (all or nothing)",
             response_model=PriceUpdateResult, responses=error_responses(409, 422))
async def update_prices(session: SessionDep, actor: AccountsDep, body: PriceUpdateRequest) -> PriceUpdateResult:
    return await lanes.work(prices.update_prices, session, updates=body.updates, note=body.note, actor=actor)


@router.post("/admin/products/prices/upload", summary="Apply a price-list workbook (all or nothing)",
             response_model=PriceUpdateResult, responses=error_responses(400, 413, 415, 422))
async def upload_price_list(
    session: SessionDep,
    actor: AccountsDep,
    file: Annotated[UploadFile, File(description="xlsx with Goods ID and Price (or DP) columns")],
    note: Annotated[str | None, Form(max_length=500)] = None,
    dry_run: Annotated[bool, Query(description="Check and show what would change (and each product's last "
                                               "change); save nothing.")] = False,
) -> PriceUpdateResult:
    return await lanes.work(prices.upload_price_list, session, data=file.file, file_name=file.filename, note=note,
                            actor=actor, dry_run=dry_run)


@router.get("/admin/products/prices/template", summary="Download every product and its price as xlsx",
            response_class=Response, responses={**XLSX_RESPONSE, **error_responses()},
            dependencies=[VIEWER])
async def price_list_template(session: SessionDep) -> Response:
    return file_response(await lanes.work(prices.price_list_template, session))


@router.get("/products/{goods_id}", summary="One product with its last 20 price changes",
            response_model=ProductDetail, responses=error_responses(404, 422), dependencies=[VIEWER])
async def get_product(session: SessionDep, goods_id: GoodsId) -> ProductDetail:
    return await lanes.read(prices.get_product, session, goods_id=goods_id)


@router.get("/products/{goods_id}/price", summary="The price in force at a moment (default: now)",
            response_model=PriceAsOf, responses=error_responses(404, 422), dependencies=[VIEWER])
async def get_price_as_of(
    session: SessionDep,
    goods_id: GoodsId,
    as_of: Annotated[UntilDateTime | None, Query(
        description="2026-11-21 (end of that day, IST), 21-11-2026 18:00 or an ISO date-time; default now")] = None,
) -> PriceAsOf:
    return await lanes.read(prices.price_as_of, session, goods_id=goods_id, as_of=as_of)


@router.get("/debug/price-history", summary="Price changes, newest first", response_model=Page[PriceHistoryRead],
            responses=error_responses(422), dependencies=[VIEWER])
async def list_price_history(
    session: SessionDep,
    page: PageDep,
    goods_id: Annotated[str | None, Query(max_length=64, examples=["MZB0J8RIN"])] = None,
    source: Annotated[str | None, Query(pattern="^(admin_api|price_upload)$")] = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Page[PriceHistoryRead]:
    return await lanes.read(prices.list_price_history, session, page=page, goods_id=goods_id, source=source,
                                   since=since, until=until)
