from decimal import Decimal

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

import database
from models import Product
from schemas import Money
from pydantic import TypeAdapter
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, requires_postgres, sqlite_only

EXPECTED_TABLES = {
    "retailers", "products", "devices", "activations", "prm_inventory_snapshot", "device_events",
    "price_history", "tally_ledger_cache", "prm_sync_run_log", "prm_sync_row_error", "prm_sync_error_counts",
    "alembic_version",
    "api_keys", "audit_log",
    "tally_ledger_terms", "tally_open_bills", "tally_bill_reads",
}


@sqlite_only
def test_init_db_creates_every_table_in_a_new_file(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    database.init_db(url)

    engine = database.make_engine(url)
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


@sqlite_only
def test_init_db_on_an_existing_database_keeps_its_rows(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database.init_db(url)
    engine = database.make_engine(url)
    with database.make_sessionmaker(engine)() as session:
        session.add(Product(goods_id="MZB0J8RIN", name="Redmi 13C"))
        session.commit()

    database.init_db(url)

    with database.make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 1
    engine.dispose()


@sqlite_only
def test_sqlite_connections_enforce_foreign_keys_and_use_wal(engine) -> None:
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


@requires_postgres
def test_init_db_builds_an_empty_postgresql_schema_and_is_idempotent() -> None:
    engine = database.make_engine(TEST_DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))

    database.init_db(TEST_DATABASE_URL)
    database.init_db(TEST_DATABASE_URL)

    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_money_round_trips_through_the_database_exactly(session: Session) -> None:
    session.add_all([
        Product(goods_id="A", name="A", price=Decimal("0.10")),
        Product(goods_id="B", name="B", price=Decimal("0.20")),
        Product(goods_id="C", name="C", price=Decimal("15999.00")),
    ])
    session.commit()
    session.expire_all()

    prices = dict(session.execute(select(Product.goods_id, Product.price)).all())
    total = session.scalar(select(func.sum(Product.price)).where(Product.goods_id.in_(["A", "B"])))

    assert prices == {"A": Decimal("0.10"), "B": Decimal("0.20"), "C": Decimal("15999.00")}
    assert total == Decimal("0.30")
    assert isinstance(total, Decimal)


def test_money_is_stored_as_integer_paise(session: Session) -> None:
    session.add(Product(goods_id="A", name="A", price=Decimal("15999.50")))
    session.commit()

    stored = session.execute(text("SELECT price FROM products WHERE goods_id = 'A'")).scalar()

    assert stored == 1599950


def test_money_serialises_to_a_two_place_json_string() -> None:
    adapter = TypeAdapter(Money)

    assert adapter.dump_json(Decimal("15999")) == b'"15999.00"'
    assert adapter.dump_json(Decimal("-0.00")) == b'"0.00"'
    assert adapter.dump_json(Decimal("0.10") + Decimal("0.20")) == b'"0.30"'


def test_the_tests_run_on_the_database_they_were_asked_for(engine) -> None:
    assert engine.dialect.name == ("postgresql" if ON_POSTGRES else "sqlite")


def test_the_migrations_build_exactly_the_tables_the_models_describe(engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from models import Base

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)

    assert differences == []
