"""The one place settings are read: environment variables, then `.env`.

Only `main.create_app()` builds a `Settings`; every other module receives plain values.
"""

from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "Distribution Backend API"
APP_VERSION = "0.1.0"
SUPPORTED_DB_PREFIXES = ("sqlite://", "postgresql+psycopg://")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_file_encoding="utf-8")

    database_url: str = "sqlite:///./dist_backend.db"
    tally_host: str = "http://localhost:9000"
    tally_company: str = ""
    tally_debtors_group: str = "Sundry Debtors"
    tally_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    tally_read_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # The whole answer (connect included) for callers that can answer from the cache instead;
    # callers with nothing cached wait up to the read timeout.
    tally_deadline_seconds: float = Field(default=10.0, gt=0, le=600)
    # How long a Tally failure is remembered (no request reaches Tally meanwhile); 0 = not at all.
    tally_breaker_seconds: float = Field(default=30.0, ge=0, le=3600)
    # Callers per process that may wait on Tally at once; more are answered from the cache.
    tally_waiters: int = Field(default=4, ge=1, le=64)
    # Minutes may be fractional so a test can watch an entry expire in a second.
    cache_ttl_minutes: float = Field(default=120.0, gt=0)
    # Credit days of a bill that has no period of its own, on a ledger that has none either.
    default_credit_days: int = Field(default=0, ge=0, le=3650)
    # Upper bounds in days of the first three overdue buckets: 30,60,90 gives 1-30, 31-60, 61-90, 90+.
    ageing_slabs: str = "30,60,90"
    # A retailer goes on hold when its oldest overdue bill is older than this, or its OD is above
    # HOLD_MIN_OD, or its balance is above its Tally credit limit.
    hold_overdue_days: int = Field(default=30, ge=0, le=3650)
    hold_min_od: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=14, decimal_places=2)
    prm_file_path: Path = Path("./prm_imei_sample.xlsx")
    max_upload_mb: int = Field(default=100, ge=1, le=2048)
    # Comma-separated origins; empty means no cross-origin browser access at all.
    cors_origins: str = ""
    log_level: str = "INFO"
    # Worker processes started by `make run` / serve.py (one per core suits a 2-core office box),
    # and threads per process for database reads (see kit/lanes.py: few threads beat many).
    workers: int = Field(default=2, ge=1, le=32)
    read_threads: int = Field(default=1, ge=1, le=64)

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            raise ValueError(
                "DATABASE_URL must name the psycopg driver: write postgresql+psycopg://user:pass@host/db"
            )
        if not value.startswith(SUPPORTED_DB_PREFIXES):
            raise ValueError(
                "DATABASE_URL must start with sqlite:/// or postgresql+psycopg://, got "
                f"{value.split(':', 1)[0]!r}"
            )
        return value

    @field_validator("tally_host")
    @classmethod
    def _tally_host_is_http(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("TALLY_HOST must look like http://localhost:9000")
        return value

    @field_validator("ageing_slabs")
    @classmethod
    def _slabs_rise(cls, value: str) -> str:
        try:
            bounds = [int(part) for part in value.split(",")]
        except ValueError:
            bounds = []
        if len(bounds) != 3 or not 0 < bounds[0] < bounds[1] < bounds[2]:
            raise ValueError("AGEING_SLABS must be three rising numbers of days, such as 30,60,90")
        return ",".join(map(str, bounds))

    @property
    def slab_bounds(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.ageing_slabs.split(","))

    @field_validator("log_level")
    @classmethod
    def _log_level_is_known(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in LOG_LEVELS:
            raise ValueError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024
