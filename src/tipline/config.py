"""Configuration from TIPLINE_* environment variables, with safe defaults for the embedded mode."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A setting that cannot be used, with the variable that holds it."""


def int_setting(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    """A whole-number setting from TIPLINE_* variables (or the default), with a precise error."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything an instance needs to know; all state lives under data_dir unless a URL says otherwise."""

    data_dir: Path
    database_url: str
    key_dir: Path
    file_store_dir: Path
    job_backend: str = "inprocess"  # or "procrastinate" (PostgreSQL only)
    job_lease_seconds: int = 60
    job_max_attempts: int = 5
    job_retry_seconds: float = 2.0  # first retry delay; doubles with each attempt, at most 5 minutes
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 2 * 1024 * 1024 * 1024
    max_header_bytes: int = 32 * 1024  # the request line and all headers together (431 above)
    max_headers: int = 100  # header fields in one request (431 above)
    forwarded_allow_ips: str = ""  # proxies whose X-Forwarded-For is believed; empty: none
    decode_concurrency: int = 2  # pictures and videos decoded at once on request in one web process
    decode_max_pixels: int = 16_000_000  # pixels held to decode one picture on request (after JPEG scaling)
    secure_cookies: bool = False
    session_hours: int = 12
    default_phone_region: str = "US"
    link_hub_limit: int = 1000  # an identifier shared by more reports than this is not linked pairwise
    idempotency_hours: int = 24  # how long an Idempotency-Key and its first answer are kept
    forward_retry_days: float = 30.0  # how long a forwarding keeps retrying before a person must act
    forward_retry_seconds: float = 60.0  # first retry delay of a forwarding; doubles, at most 6 hours
    forward_timeout_seconds: float = 60.0  # waiting for a destination's answer (connecting: at most 10 s)
    argon2_time_cost: int = 3  # RFC 9106's second recommended option: t=3, m=64 MiB
    argon2_memory_kib: int = 65536
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_postgresql(self) -> bool:
        return self.database_url.startswith("postgresql")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (or the mapping given, for tests)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("TIPLINE_DATA_DIR") or "var").expanduser().absolute()
    database_url = env.get("TIPLINE_DATABASE_URL") or f"sqlite:///{data_dir / 'tipline.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    if not (database_url.startswith("sqlite") or database_url.startswith("postgresql")):
        raise ConfigError(
            f"TIPLINE_DATABASE_URL must name a SQLite or PostgreSQL database, got {database_url.split(':')[0]!r}"
        )
    job_backend = env.get("TIPLINE_JOB_BACKEND") or "inprocess"
    if job_backend not in {"inprocess", "procrastinate"}:
        raise ConfigError(f"TIPLINE_JOB_BACKEND must be inprocess or procrastinate, got {job_backend!r}")
    if job_backend == "procrastinate" and not database_url.startswith("postgresql"):
        raise ConfigError("TIPLINE_JOB_BACKEND=procrastinate needs TIPLINE_DATABASE_URL to name PostgreSQL")
    region = (env.get("TIPLINE_DEFAULT_PHONE_REGION") or "US").upper()
    if len(region) != 2 or not region.isalpha():
        raise ConfigError(f"TIPLINE_DEFAULT_PHONE_REGION must be a two-letter country code, got {region!r}")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        key_dir=Path(env.get("TIPLINE_KEY_DIR") or data_dir / "keys").expanduser().absolute(),
        file_store_dir=Path(env.get("TIPLINE_FILE_STORE") or data_dir / "files").expanduser().absolute(),
        job_backend=job_backend,
        job_lease_seconds=int_setting(env, "TIPLINE_JOB_LEASE_SECONDS", 60, minimum=1),
        job_max_attempts=int_setting(env, "TIPLINE_JOB_MAX_ATTEMPTS", 5, minimum=1),
        job_retry_seconds=_float(env, "TIPLINE_JOB_RETRY_SECONDS", 2.0),
        max_body_bytes=int_setting(env, "TIPLINE_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024),
        max_upload_bytes=int_setting(env, "TIPLINE_MAX_UPLOAD_BYTES", 2 * 1024 * 1024 * 1024, minimum=1024),
        max_header_bytes=int_setting(env, "TIPLINE_MAX_HEADER_BYTES", 32 * 1024, minimum=4096),
        max_headers=int_setting(env, "TIPLINE_MAX_HEADERS", 100, minimum=20),
        decode_concurrency=int_setting(env, "TIPLINE_DECODE_CONCURRENCY", 2, minimum=1),
        decode_max_pixels=int_setting(env, "TIPLINE_DECODE_MAX_PIXELS", 16_000_000, minimum=1_000_000),
        forwarded_allow_ips=",".join(part.strip() for part in (env.get("TIPLINE_FORWARDED_ALLOW_IPS") or "").split(",")
                                     if part.strip()),
        secure_cookies=_bool(env, "TIPLINE_SECURE_COOKIES", False),
        session_hours=int_setting(env, "TIPLINE_SESSION_HOURS", 12, minimum=1),
        default_phone_region=region,
        link_hub_limit=int_setting(env, "TIPLINE_LINK_HUB_LIMIT", 1000, minimum=2),
        idempotency_hours=int_setting(env, "TIPLINE_IDEMPOTENCY_HOURS", 24, minimum=1),
        forward_retry_days=_float(env, "TIPLINE_FORWARD_RETRY_DAYS", 30.0),
        forward_retry_seconds=_float(env, "TIPLINE_FORWARD_RETRY_SECONDS", 60.0),
        forward_timeout_seconds=_float(env, "TIPLINE_FORWARD_TIMEOUT_SECONDS", 60.0),
        argon2_time_cost=int_setting(env, "TIPLINE_ARGON2_TIME_COST", 3, minimum=1),
        argon2_memory_kib=int_setting(env, "TIPLINE_ARGON2_MEMORY_KIB", 65536, minimum=8),
        extra={k: v for k, v in env.items() if k.startswith("TIPLINE_")},
    )
