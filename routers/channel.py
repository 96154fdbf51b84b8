"""Retailers, products, stock, activations and devices as the last PRM import left them."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from catalogue import products as catalog
from prm import channel
from kit import lanes
from database import SessionDep
from routers.deps import VIEWER, PageDep, RetailerCodePath, RetailerCodeQuery, SinceQuery, UntilQuery, error_responses
from schemas import (
    ActivationRead,
    DeviceTimeline,
    InventoryItem,
    Page,
    ProductRead,
    RetailerDetail,
    RetailerRead,
)

router = APIRouter(tags=["channel"], dependencies=[VIEWER])
SearchText = Annotated[str | None, Query(max_length=100, description="Part of a code or name, any case.",
                                         examples=["Sharma"])]
Code = Annotated[str | None, Query(max_length=64, examples=["MZB0J8RIN"])]


@router.get("/retailers", summary="Retailers, searchable by code or name", response_model=Page[RetailerRead],
            responses=error_responses(422))
async def list_retailers(session: SessionDep, page: PageDep, search: SearchText = None) -> Page[RetailerRead]:
    return await lanes.read(channel.list_retailers, session, page=page, search=search)


@router.get("/retailers/{code:path}", summary="One retailer with its stock by goods", response_model=RetailerDetail,
            responses=error_responses(404, 422))
async def get_retailer(request: Request, session: SessionDep, code: RetailerCodePath) -> RetailerDetail:
    return await lanes.read(channel.get_retailer, session, code=code,
                            debtors_group=request.app.state.settings.tally_debtors_group)


@router.get("/products", summary="Products, with filters", response_model=Page[ProductRead],
            responses=error_responses(422))
async def list_products(
    session: SessionDep,
    page: PageDep,
    category: Annotated[str | None, Query(max_length=64, examples=["Phones"])] = None,
    search: SearchText = None,
    priced: Annotated[bool | None, Query(description="true: only priced goods; false: only unpriced")] = None,
) -> Page[ProductRead]:
    return await lanes.read(catalog.list_products, session, page=page, category=category, search=search, priced=priced)


@router.get("/inventory", summary="Units in retailer stock per retailer and goods (latest import)",
            response_model=Page[InventoryItem], responses=error_responses(422))
async def list_inventory(session: SessionDep, page: PageDep, retailer_code: RetailerCodeQuery = None,
                         goods_id: Code = None) -> Page[InventoryItem]:
    return await lanes.read(channel.list_inventory, session, page=page, retailer_code=retailer_code, goods_id=goods_id)


@router.get("/activations", summary="Activations, newest first", response_model=Page[ActivationRead],
            responses=error_responses(422))
async def list_activations(
    session: SessionDep,
    page: PageDep,
    retailer_code: RetailerCodeQuery = None,
    goods_id: Code = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Page[ActivationRead]:
    return await lanes.read(channel.list_activations, session, page=page, retailer_code=retailer_code, goods_id=goods_id,
                                    since=since, until=until)


@router.get("/imei/{imei}", summary="One device and its timeline", response_model=DeviceTimeline,
            responses=error_responses(404, 422))
async def get_imei(session: SessionDep, imei: Annotated[str, Path(max_length=32, examples=["356938035643809"])]) -> DeviceTimeline:
    return await lanes.read(channel.device_timeline, session, imei=imei)
