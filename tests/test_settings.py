from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import Settings
from tests.conftest import make_settings


def test_defaults_match_the_documented_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TALLY_HOST", "TALLY_COMPANY", "CACHE_TTL_MINUTES", "PRM_FILE_PATH",
                 "MAX_UPLOAD_MB", "CORS_ORIGINS", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.database_url == "sqlite:///./dist_backend.db"
    assert settings.tally_host == "http://localhost:9000"
    assert settings.cache_ttl_minutes == 120
    assert settings.prm_file_path == Path("./prm_imei_sample.xlsx")
    assert settings.max_upload_mb == 100
    assert settings.cors_origin_list == []
    assert settings.log_level == "INFO"


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_TTL_MINUTES", "0.5")
    monkeypatch.setenv("CORS_ORIGINS", "http://localhost:5173, http://127.0.0.1:5173")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert Decimal(str(settings.cache_ttl_minutes)) == Decimal("0.5")
    assert settings.cors_origin_list == ["http://localhost:5173", "http://127.0.0.1:5173"]


def test_a_plain_postgresql_url_is_refused_with_the_driver_to_use() -> None:
    with pytest.raises(ValidationError, match="postgresql\\+psycopg://"):
        make_settings(database_url="postgresql://u:p@localhost/db")


def test_an_unknown_database_scheme_is_refused() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        make_settings(database_url="mysql://u:p@localhost/db")


def test_a_tally_host_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValidationError, match="TALLY_HOST"):
        make_settings(tally_host="localhost:9000")


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ValidationError, match="LOG_LEVEL"):
        make_settings(log_level="LOUD")
