"""Values handed straight to the driver read back through the ORM exactly as the ORM writes them."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import bulk
from models import PrmSyncRun

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
