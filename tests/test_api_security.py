"""API keys, roles, the audit trail, CORS."""

import logging
from collections.abc import Iterator

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import manage
from settings import Settings
from tests.conftest import make_settings, open_client


@pytest.fixture
def anonymous(settings: Settings) -> Iterator[TestClient]:
    with open_client(settings, role=None) as client:
        yield client


@pytest.fixture
def viewer(settings: Settings) -> Iterator[TestClient]:
    with open_client(settings, role="viewer") as client:
        yield client


@pytest.fixture
def accounts(settings: Settings) -> Iterator[TestClient]:
    with open_client(settings, role="accounts") as client:
        yield client


PRICE = {"updates": [{"goods_id": "P1", "name": "Redmi 13C", "price": "9999.00"}]}


class TestKeys:
    def test_without_a_key_the_answer_is_401_saying_how_to_get_one(self, anonymous: TestClient) -> None:
        response = anonymous.get("/retailers")

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "ApiKey"
        assert response.json() == {"detail": "This needs an API key in the X-API-Key header; ask an admin for one "
                                             "(.venv/bin/python manage.py create-key NAME ROLE).", "errors": []}

    def test_an_unknown_key_is_401(self, anonymous: TestClient) -> None:
        response = anonymous.get("/retailers", headers={"X-API-Key": "dba_not-a-real-key"})

        assert response.status_code == 401
        assert response.json()["detail"] == "The API key is unknown or revoked; ask an admin for a valid one."

    @pytest.mark.parametrize("path", ["/", "/health", "/docs", "/openapi.json"])
    def test_the_front_door_health_and_docs_stay_open(self, anonymous: TestClient, path: str) -> None:
        assert anonymous.get(path).status_code == 200

    def test_swagger_offers_the_authorize_button(self, anonymous: TestClient) -> None:
        schemes = anonymous.get("/openapi.json").json()["components"]["securitySchemes"]

        assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                           "description": "An API key (.venv/bin/python manage.py create-key NAME ROLE on the server)."}

    def test_a_key_is_shown_once_and_stored_only_as_a_hash(self, client: TestClient) -> None:
        created = client.post("/admin/keys", json={"name": "desk-1", "role": "viewer"})

        assert created.status_code == 201
        key = created.json()["key"]
        assert key.startswith("dba_") and len(key) >= 43
        listed = client.get("/admin/keys").json()
        assert all("key" not in item and "key_hash" not in item for item in listed)
        with client.app.state.sessionmaker() as session:
            from models import ApiKey
            from sqlalchemy import select

            assert key not in [row.key_hash for row in session.scalars(select(ApiKey))]

    def test_a_revoked_key_stops_working(self, client: TestClient, anonymous: TestClient) -> None:
        key = client.post("/admin/keys", json={"name": "temp", "role": "viewer"}).json()["key"]
        assert anonymous.get("/retailers", headers={"X-API-Key": key}).status_code == 200

        assert client.delete("/admin/keys/temp").json()["revoked_at"] is not None

        assert anonymous.get("/retailers", headers={"X-API-Key": key}).status_code == 401

    def test_two_keys_with_one_name_are_refused(self, client: TestClient) -> None:
        client.post("/admin/keys", json={"name": "dup", "role": "viewer"})

        assert client.post("/admin/keys", json={"name": "dup", "role": "admin"}).status_code == 409


class TestRoles:
    def test_a_viewer_reads_but_cannot_change_prices(self, viewer: TestClient) -> None:
        assert viewer.get("/products").status_code == 200

        response = viewer.post("/admin/products/prices", json=PRICE)

        assert response.status_code == 403
        assert response.json()["detail"].endswith("has the viewer role; this needs accounts or above.")

    def test_accounts_changes_prices_but_cannot_import(self, accounts: TestClient) -> None:
        assert accounts.post("/admin/products/prices", json=PRICE).status_code == 200

        assert accounts.post("/run/prm-sync").status_code == 403
        assert accounts.get("/admin/audit").status_code == 403

    def test_only_admin_manages_keys(self, accounts: TestClient) -> None:
        assert accounts.post("/admin/keys", json={"name": "x", "role": "admin"}).status_code == 403


class TestAudit:
    def test_a_price_change_records_who_what_and_from_where(self, settings: Settings) -> None:
        with open_client(settings, role="accounts") as accounts_client, open_client(settings) as admin_client:
            accounts_client.post("/admin/products/prices", json=PRICE)
            key_name = next(k["name"] for k in admin_client.get("/admin/keys").json() if k["role"] == "accounts")

            entries = admin_client.get("/admin/audit", params={"action": "prices"}).json()["items"]
            history = admin_client.get("/debug/price-history").json()["items"]

        assert [(e["actor"], e["role"], e["action"], e["address"]) for e in entries] == [
            (key_name, "accounts", "prices.admin_api", "testclient")]
        assert history[0]["changed_by"] == key_name

    def test_key_creation_and_revocation_are_audited(self, client: TestClient) -> None:
        client.post("/admin/keys", json={"name": "k1", "role": "viewer"})
        client.delete("/admin/keys/k1")

        actions = [e["action"] for e in client.get("/admin/audit", params={"action": "key"}).json()["items"]]

        assert actions[:2] == ["key.revoke", "key.create"]

    def test_logs_never_contain_the_key(self, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)

        client.get("/retailers")
        client.get("/nope")

        assert client.headers["X-API-Key"] not in caplog.text

    def test_a_huge_query_string_is_cut_in_the_log_line(self, client: TestClient,
                                                          caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO, logger="dist.access")

        client.get("/retailers", params={"search": "x" * 5000})

        line = next(record.getMessage() for record in caplog.records if record.name == "dist.access")
        assert len(line) < 400
        assert f"({len('/retailers?search=') + 5000} characters)" in line


class TestCors:
    def test_no_origin_is_allowed_by_default(self, client: TestClient) -> None:
        response = client.get("/health", headers={"Origin": "http://evil.example"})

        assert "access-control-allow-origin" not in response.headers

    def test_configured_origins_are_allowed(self, database_url: str) -> None:
        settings = make_settings(database_url=database_url, cors_origins="http://localhost:5173")
        with open_client(settings) as client:
            allowed = client.get("/health", headers={"Origin": "http://localhost:5173"})
            other = client.get("/health", headers={"Origin": "http://evil.example"})

        assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "access-control-allow-origin" not in other.headers


class TestManageCommand:
    def test_the_first_run_makes_one_admin_key_and_prints_it(self, database_url: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.chdir("/")  # no .env there

        key_file = tmp_path / "first-admin-key.txt"

        assert manage.main(["ensure-admin-key", "--key-file", str(key_file)]) == 0
        first = capsys.readouterr()
        assert manage.main(["ensure-admin-key", "--key-file", str(key_file)]) == 0
        second = capsys.readouterr().out

        assert "X-API-Key: dba_" in first.out and ".venv/bin/python manage.py create-key" in first.out
        assert first.err.startswith("database: ")
        assert second == ""
        key = first.out.split("X-API-Key: ")[1].split()[0]
        assert key_file.read_text().startswith(f"X-API-Key: {key}\n")  # a closed window does not lose it
        assert key_file.stat().st_mode & 0o777 == 0o600

    def test_the_database_option_picks_the_database(self, database_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "not-this-one.db"))
        monkeypatch.chdir("/")

        assert manage.main(["create-key", "desk", "viewer", "--database", database_url]) == 0

        assert not (tmp_path / "not-this-one.db").exists()
        assert "database: " in capsys.readouterr().err

    def test_create_list_and_revoke_from_the_shell(self, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.chdir("/")

        manage.main(["create-key", "desk", "accounts"])
        manage.main(["revoke-key", "desk"])
        manage.main(["list-keys"])
        out = capsys.readouterr().out

        assert "Created accounts key 'desk'" in out and "revoked" in out
