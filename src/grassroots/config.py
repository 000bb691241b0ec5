"""Settings from the environment (``GRASSROOTS_*``) with embedded defaults.

Unset values give an embedded platform: a SQLite file in the data dir, in-process
shared state and in-process background work, and a secret key generated once and
kept in the data dir.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Env(StrEnum):
    production = "production"
    development = "development"
    test = "test"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "grassroots"


SECRET_FILE = "secret_key"  # noqa: S105 - a file name
DAY = 24 * 3600
YEAR = 365 * DAY
SQLITE_FILE = "grassroots.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRASSROOTS_", extra="ignore")

    env: Env = Env.development
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None

    # Identity
    # Every number has a range: a value outside it stops the platform at start, with the
    # variable's name, rather than starting it broken (every login refused, every body 413).
    access_token_ttl_seconds: int = Field(default=12 * 3600, ge=60, le=YEAR)
    session_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60, le=YEAR)
    login_ip_limit: int = Field(default=30, ge=1)
    login_ip_window_seconds: int = Field(default=300, ge=1, le=DAY)
    login_account_limit: int = Field(default=10, ge=1)
    login_account_window_seconds: int = Field(default=900, ge=1, le=DAY)
    signup_ip_limit: int = Field(default=20, ge=1)
    signup_ip_window_seconds: int = Field(default=3600, ge=1, le=DAY)
    cookie_secure: bool | None = None  # None: Secure when the request came over https or in production

    # Commerce
    default_currency: str = "CNY"
    display_timezone: str = "Asia/Shanghai"  # times on pages; storage is always UTC
    platform_fee_bps: int = Field(default=500, ge=0, le=2000)  # technical service fee, share of goods
    order_payment_ttl_seconds: int = Field(default=15 * 60, ge=1, le=DAY)  # unpaid orders are cancelled after this
    auto_receive_days: int = Field(default=10, ge=1, le=90)  # shipped orders count as received after this
    return_window_days: int = Field(default=7, ge=1, le=90)  # no-reason returns (Consumer Protection Law art. 25)
    payments_sandbox: bool | None = None  # None: the sandbox provider is on outside production
    public_url: str | None = None  # where providers deliver webhooks; unset: the app itself

    # Content
    media_max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    media_max_video_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    click_window_days: int = Field(default=7, ge=1, le=365)  # a share-link click attributes orders for this long
    new_visitor_click_limit: int = Field(default=60, ge=1)  # counted clicks by new visitors per address a minute
    comment_limit: int = Field(default=10, ge=1)  # comments per user per minute
    comment_window_seconds: int = Field(default=60, ge=1, le=DAY)

    # HTTP
    keep_alive_seconds: int = Field(default=30, ge=1, le=3600)  # idle keep-alive; above a load balancer's timeout
    max_body_size: int = Field(default=1024 * 1024, ge=1024)  # bytes; upload routes have their own limits
    log_requests: bool = True

    # Storage
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=20, ge=0, le=1000)
    db_echo: bool = False

    # Background work
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    # None: run events and jobs inside the app when there is no Redis (embedded mode);
    # with Redis, ``grassroots worker`` processes do it.
    run_in_process_worker: bool | None = None

    @field_validator("data_dir", mode="before")
    @classmethod
    def _unset_if_blank(cls, v: object) -> object:
        # GRASSROOTS_DATA_DIR= (set, but empty) is the default, not the current directory
        return default_data_dir() if isinstance(v, str) and not v.strip() else v

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @field_validator("display_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone name such as Asia/Shanghai") from None
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a Redis URL starts with redis://, rediss:// or unix://")
        return v or None

    @field_validator("database_url", "public_url", "secret_key")
    @classmethod
    def _blank_is_unset(cls, v: str | None) -> str | None:
        return v or None

    @property
    def is_production(self) -> bool:
        return self.env == Env.production

    @property
    def in_process_worker(self) -> bool:
        if self.run_in_process_worker is not None:
            return self.run_in_process_worker
        return not self.redis_url

    @property
    def sandbox_enabled(self) -> bool:
        return self.payments_sandbox if self.payments_sandbox is not None else not self.is_production

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / SQLITE_FILE}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def resolved_secret_key(self) -> str:
        """The configured key, else the one stored in the data dir (created on first use).

        The file is created with O_EXCL so two processes starting together agree on one key.
        """
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / SECRET_FILE
        if not path.exists():
            # Write a private temp file, then hard-link it into place: the link either
            # publishes a complete key or fails because another process won the race.
            tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = path.read_text().strip()
        if not key:
            raise RuntimeError(f"{path} is empty; delete it or set GRASSROOTS_SECRET_KEY")
        return key
