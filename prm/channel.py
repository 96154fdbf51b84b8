"""Reads of the sales channel as the last PRM import left it: retailers, stock, activations, devices."""

from datetime import datetime

from sqlalchemy import Select, desc, func, or_, select
from sqlalchemy.orm import Session

import errors
from reporting import ledger_matching
from models import Activation, Device, DeviceEvent, InventorySnapshot, Product, PrmSyncRun, Retailer, TallyLedgerCache
from kit.cells import normalise_name
from kit.paging import PageParams, check_period, contains, paginate
from prm.cells import CellError, parse_imei
from schemas import (
    ActivationRead,
    DeviceEventRead,
    DeviceTimeline,
    GoodsUnits,
    InventoryItem,
    Page,
    RetailerDetail,
    RetailerRead,
)


def list_retailers(session: Session, *, page: PageParams, search: str | None = None) -> Page[RetailerRead]:
    stmt: Select[tuple[Retailer]] = select(Retailer).order_by(Retailer.code)
    if search and search.strip():
        pattern = contains(search)
        stmt = stmt.where(or_(Retailer.code.ilike(pattern, escape="\\"), Retailer.name.ilike(pattern, escape="\\")))
    return paginate(session, stmt, page, RetailerRead.model_validate)


def snapshot_run_id(session: Session) -> int | None:
    return session.scalar(select(func.max(InventorySnapshot.run_id)))


def _debtors_ledgers(session: Session, keys: list[str], debtors_group: str) -> dict[str, str]:
    """The cached debtors-group ledgers among `keys` (normalised name -> Tally's spelling)."""
    group = normalise_name(debtors_group)
    return {key: name for key, name, group_name in session.execute(
        select(TallyLedgerCache.ledger_key, TallyLedgerCache.ledger_name, TallyLedgerCache.group_name)
        .where(TallyLedgerCache.ledger_key.in_(keys))) if group_name and normalise_name(group_name) == group}


def get_retailer(session: Session, *, code: str, debtors_group: str) -> RetailerDetail:
    """One retailer, its stock, and its ledger among the cached debtors (never a bank of the same name)."""
    retailer = session.get(Retailer, code)
    if retailer is None:
        raise errors.NotFound(f"There is no retailer with code {code!r}; codes come from the PRM import.")
    stock = [GoodsUnits(goods_id=goods_id, name=name, units=units) for goods_id, name, units in session.execute(
        select(InventorySnapshot.goods_id, Product.name, InventorySnapshot.units)
        .join(Product, Product.goods_id == InventorySnapshot.goods_id)
        .where(InventorySnapshot.retailer_code == code)
        .order_by(InventorySnapshot.goods_id))]
    # The mapping from the cached debtors ledgers only, as the OD report maps: a retailer page
    # never waits for Tally, and a retailer named "HDFC Bank" is not the bank's ledger. Only the
    # names the rule can pick are read, not the whole cache.
    candidates = [normalise_name(text) for text in (retailer.tally_ledger_name, retailer.name, retailer.code) if text]
    cached = _debtors_ledgers(session, candidates, debtors_group)
    mapping = ledger_matching.resolve(retailer.code, retailer.name, retailer.tally_ledger_name, cached)
    return RetailerDetail(**RetailerRead.model_validate(retailer).model_dump(), stock=stock,
                          stock_units=sum(item.units for item in stock), prm_run_id=snapshot_run_id(session),
                          ledger_name=mapping.ledger_name, ledger_mapping=mapping.how)


def list_inventory(session: Session, *, page: PageParams, retailer_code: str | None = None,
                   goods_id: str | None = None) -> Page[InventoryItem]:
    stmt = select(InventorySnapshot).order_by(InventorySnapshot.retailer_code, InventorySnapshot.goods_id)
    if retailer_code:
        stmt = stmt.where(InventorySnapshot.retailer_code == retailer_code.strip())
    if goods_id:
        stmt = stmt.where(InventorySnapshot.goods_id == goods_id.strip())
    return paginate(session, stmt, page, lambda row: InventoryItem(
        retailer_code=row.retailer_code, goods_id=row.goods_id, units=row.units))


def list_activations(session: Session, *, page: PageParams, retailer_code: str | None = None,
                     goods_id: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> Page[ActivationRead]:
    check_period(since, until)
    stmt = select(Activation).order_by(desc(Activation.activated_at), Activation.imei)
    if retailer_code:
        stmt = stmt.where(Activation.retailer_code == retailer_code.strip())
    if goods_id:
        stmt = stmt.where(Activation.goods_id == goods_id.strip())
    if since:
        stmt = stmt.where(Activation.activated_at >= since)
    if until:
        stmt = stmt.where(Activation.activated_at <= until)
    return paginate(session, stmt, page, ActivationRead.model_validate)


def device_timeline(session: Session, *, imei: str) -> DeviceTimeline:
    try:
        imei, _ = parse_imei(imei)
    except CellError as exc:
        raise errors.InvalidInput(f"{imei!r} is not a valid IMEI: it {exc}.", [errors.item(["path", "imei"], f"IMEI {exc}")]) from None
    device = session.get(Device, imei)
    if device is None:
        device = session.scalars(select(Device).where(Device.imei2 == imei)).first()
    if device is None:
        raise errors.NotFound(f"IMEI {imei} has not been seen in any PRM import.")
    activation = session.get(Activation, device.imei)
    first_run = session.get(PrmSyncRun, device.first_seen_run)
    first_seen = first_run.started_at if first_run else device.inward_at
    # Every time in the timeline is UTC-aware, so they sort; a device with no known first time starts at its events.
    timeline = [DeviceEventRead(kind="seen", at=first_seen, run_id=device.first_seen_run)] if first_seen else []
    for event in session.scalars(select(DeviceEvent).where(DeviceEvent.imei == device.imei).order_by(DeviceEvent.id)):
        timeline.append(DeviceEventRead(kind=event.kind, at=event.at, run_id=event.run_id,
                                        from_retailer=event.from_retailer, to_retailer=event.to_retailer))
    if activation is not None:
        timeline.append(DeviceEventRead(kind="activated", at=activation.activated_at, run_id=activation.recorded_run,
                                        to_retailer=activation.retailer_code))
    timeline.sort(key=lambda event: event.at)
    latest = session.scalar(select(func.max(PrmSyncRun.id)).where(PrmSyncRun.status == "success"))
    return DeviceTimeline(
        **{key: getattr(device, key) for key in (
            "imei", "imei2", "serial", "goods_id", "retailer_code", "status", "inward_at", "activation_at",
            "first_seen_run", "last_seen_run")},
        in_latest_import=device.last_seen_run == latest,
        activation=ActivationRead.model_validate(activation) if activation else None,
        timeline=timeline,
    )
