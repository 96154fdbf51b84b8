"""Values handed straight to the driver read back through the ORM exactly as the ORM writes them."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from kit import bulk
from models import PrmSyncRun
from tests.conftest import sqlite_only

MOMENTS = [datetime(2026, 11, 21, 8, 35, tzinfo=timezone.utc),
           datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)]


@pytest.mark.parametrize("moment", MOMENTS)
def test_driver_datetimes_match_the_orm_column(engine: Engine, session: Session, moment: datetime) -> None:
    writer = bulk.datetime_writer(engine.dialect.name)
    naive_writer = bulk.naive_utc_writer(engine.dialect.name)
    forms = [writer(moment)] + ([naive_writer(moment.replace(tzinfo=None))] if naive_writer else [])
    if naive_writer:
        assert forms[0] == forms[1]
    for form in forms:
        run = PrmSyncRun(status="success", file_name="f.xlsx", file_sha256="0" * 64)
        session.add(run)
        session.commit()
        with engine.begin() as connection:
            connection.exec_driver_sql(bulk.update_sql(connection, "prm_sync_run_log", ["started_at"], "id"), [(form, run.id)])

    session.expire_all()
    read_back = list(session.scalars(select(PrmSyncRun.started_at).order_by(PrmSyncRun.id)))

    assert read_back == [moment] * len(forms)


@pytest.mark.parametrize("count", [0, 1, 3, 7, 9])
def test_insert_rows_writes_every_row_in_groups_and_the_rest(engine: Engine, count: int) -> None:
    rows = [(f"G{index:03d}", f"Phone {index}", False, "2026-11-21 08:35:00.000000", "2026-11-21 08:35:00.000000")
            for index in range(count)]
    columns = ("goods_id", "name", "category_locked", "created_at", "updated_at")
    if engine.dialect.name != "sqlite":
        rows = [(*row[:3], MOMENTS[0], MOMENTS[0]) for row in rows]
    with engine.begin() as connection:
        bulk.insert_rows(connection, "products", columns, rows, rows_per_insert=3)
        # The suffix applies to every statement, the last short one included.
        bulk.insert_rows(connection, "products", columns, [(row[0], row[1] + " (new)", *row[2:]) for row in rows],
                         "ON CONFLICT (goods_id) DO UPDATE SET name = excluded.name", rows_per_insert=3)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT goods_id, name FROM products ORDER BY goods_id").all()
    assert [tuple(row) for row in stored] == [(f"G{index:03d}", f"Phone {index} (new)") for index in range(count)]


def _index_definitions(connection: Connection) -> list[tuple[str, str]]:
    return [tuple(row) for row in connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' AND sql IS NOT NULL "
        "ORDER BY name").all()]


@sqlite_only
def test_indexes_dropped_for_a_bulk_insert_come_back_the_same_or_with_a_rollback(engine: Engine) -> None:
    with engine.connect() as connection:
        before = _index_definitions(connection)
    columns = ("goods_id", "name", "category_locked", "created_at", "updated_at")
    rows = [(f"G{index:03d}", f"Phone {index}", False, "2026-11-21 08:35:00.000000", "2026-11-21 08:35:00.000000")
            for index in range(50)]

    with engine.begin() as connection:
        with bulk.indexes_rebuilt_for_bulk_insert(connection, "products", len(rows)):
            assert _index_definitions(connection) == []
            bulk.insert_rows(connection, "products", columns, rows)
        assert _index_definitions(connection) == before
    with pytest.raises(RuntimeError), engine.begin() as connection:
        with bulk.indexes_rebuilt_for_bulk_insert(connection, "products", 500):
            raise RuntimeError("failed mid-insert")

    with engine.connect() as connection:
        assert _index_definitions(connection) == before
        # 10 rows into 50 is not a bulk insert: the indexes stay.
        with bulk.indexes_rebuilt_for_bulk_insert(connection, "products", 10):
            assert _index_definitions(connection) == before
        name_index = connection.exec_driver_sql("SELECT count(*) FROM products INDEXED BY ix_products_name "
                                                "WHERE name = 'Phone 7'").scalar()
    assert name_index == 1
