"""Helpers shared by the tests: backends, settings, browsers, a realistic sample report."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tipline.config import Settings, load_settings
from tipline.instance import Instance
from tipline.pipeline.engine.backend import connect_job_backend
from tipline.statefiles import secure_state, sqlite_file
from tipline.store.metadata import Base
from tipline.store.schema import head_revision, upgrade

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADMIN_URL = os.environ.get(
    "TIPLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_unavailable_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure to connect means "no server here"
        return f"no PostgreSQL server answers at {POSTGRES_ADMIN_URL} ({type(error).__name__})"
    return None


def require_postgres() -> None:
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}: the PostgreSQL tests must run in CI")
    pytest.skip(reason)


_migrated: set[str] = set()


FAST_PASSWORD_HASHING = {"TIPLINE_ARGON2_TIME_COST": "1", "TIPLINE_ARGON2_MEMORY_KIB": "1024"}


def make_settings(data_dir: Path, database_url: str | None = None, **env: str) -> Settings:
    values = {"TIPLINE_DATA_DIR": str(data_dir), **FAST_PASSWORD_HASHING, **env}
    if database_url:
        values["TIPLINE_DATABASE_URL"] = database_url
    return load_settings(values)


def _clean_postgres(instance: Instance) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with instance.db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def migrated_sqlite_template(directory: Path) -> bytes:
    """The bytes of a SQLite database that `upgrade` brought to head, made once per session (the
    fixture `sqlite_template`): upgrading a fresh file runs every migration, about half a second a
    test, and the result is the same for every instance (no migration writes instance data)."""
    instance = Instance(make_settings(directory))
    try:
        _, revision = upgrade(instance.db)
        assert revision == head_revision()
    finally:
        instance.close()  # the last connection closed checkpoints the WAL into the file
    database = sqlite_file(instance.settings)
    assert database is not None
    assert not database.with_name(database.name + "-wal").exists(), "the template's WAL was not checkpointed"
    return database.read_bytes()


def _start_from_template(settings: Settings, template: bytes) -> None:
    """Write the migrated template into this instance's new SQLite file, made private as tipline makes it."""
    secure_state(settings)  # the data directory 0700 and an empty database file 0600, as the instance would
    database = sqlite_file(settings)
    assert database is not None and database.stat().st_size == 0, f"{database} is not a new database"
    database.write_bytes(template)


def build_instance(data_dir: Path, backend: str, request: pytest.FixtureRequest, **env: str) -> Instance:
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_database")
        instance = Instance(make_settings(data_dir, url, **env))
        if url not in _migrated:
            upgrade(instance.db)
            _migrated.add(url)
        _clean_postgres(instance)
    else:
        settings = make_settings(data_dir, **env)
        database = sqlite_file(settings)
        if database is not None and database.exists() and database.stat().st_size:
            instance = Instance(settings)  # a database the test made already (by `tipline db upgrade`, say)
            upgrade(instance.db)
        else:
            _start_from_template(settings, request.getfixturevalue("sqlite_template"))
            instance = Instance(settings)
    connect_job_backend(instance)  # as every entry point does: with procrastinate, committed jobs are handed over
    return instance


def chromium_path() -> str | None:
    return shutil.which("chromium")


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        if IN_CI:
            pytest.fail("CI=true but Debian's chromium is not installed (.ci/run installs it)")
        pytest.skip("Debian's chromium package is not installed (apt-get install chromium)")
    return path


def sample_content(**overrides: Any) -> dict[str, Any]:
    """A realistic, benign service-provider report in its JSON (wire) form."""
    content: dict[str, Any] = {
        "incidentSummary": {
            "incidentType": "Online Enticement of Children for Sexual Acts",
            "platform": "Chirp",
            "incidentDateTime": "2026-10-15T08:00:00-07:00",
            "reportAnnotations": {"sextortion": True},
        },
        "internetDetails": [
            {"chatImIncident": {"chatClient": "Chirp", "content": "u1: are your parents home?\nu1: don't tell them"}}
        ],
        "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Team", "email": ["safety@chirp.example"]}},
        "personOrUserReported": [
            {
                "personOrUserReportedPerson": {
                    "email": ["Night.Owl@Example.com"],
                    "phone": [{"value": "(202) 555-0143", "countryCallingCode": "+1"}],
                },
                "espIdentifier": "88812345",
                "espService": "Chirp",
                "screenName": "@NightOwl77",
                "ipCaptureEvent": [{"ipAddress": "203.0.113.7", "eventName": "Login",
                                    "dateTime": "2026-10-14T22:00:00Z"}],
            }
        ],
        "victim": [{"victimPerson": {"firstName": "Robin", "age": 13}}],
    }
    content.update(overrides)
    return content


def instance_env(instance: Instance) -> dict[str, str]:
    """The environment a `tipline` subprocess needs to work on the same instance."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env["TIPLINE_DATA_DIR"] = str(instance.settings.data_dir)
    env["TIPLINE_DATABASE_URL"] = instance.settings.database_url
    env["TIPLINE_KEY_DIR"] = str(instance.settings.key_dir)
    env.update(FAST_PASSWORD_HASHING)
    return env


@dataclass
class CommandRun:
    """What a `tipline` command did: its exit code and what it printed on each stream."""

    returncode: int
    stdout: str
    stderr: str


def run_tipline(env: dict[str, str], *args: str, stdin: str | None = None) -> CommandRun:
    """Run `tipline ARGS` in this process with click's CliRunner, in the environment `env` (instance_env)
    and nothing else of tipline's, as a user's shell would: for tests of what a command does and prints,
    not of the process boundary (starting a Python process costs seconds on a busy machine). A crash is
    raised, not turned into exit code 1."""
    from click.testing import CliRunner

    from tipline.cli import main

    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("TIPLINE_") and k not in env}
    result = CliRunner().invoke(main, list(args), input=stdin, env={**unset, **env}, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CommandRun(result.exit_code, result.stdout, result.stderr)


def tipline_command() -> list[str]:
    """How to run the `tipline` command of this environment."""
    import sys

    return [sys.executable, "-m", "tipline.cli"]


def gradient_png(seed: int = 5) -> bytes:
    """A generated, benign picture with structure (blocks over a gradient, placed by `seed`), so PDQ
    has something to see."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:240, 0:320]
    pixels = np.stack([x * 255 // 320, y * 255 // 240, (x + y) * 255 // 560], axis=-1).astype("uint8")
    for _ in range(12):
        top, left = rng.integers(0, 200), rng.integers(0, 280)
        pixels[top:top + 40, left:left + 40] = rng.integers(0, 255, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def esp_report_with_files(instance: Instance, files: dict[str, bytes]) -> int:
    """A service provider's report (sample_content) with these files, finished: its pipeline is
    queued, not run (drain an InProcessWorker to run it)."""
    from tipline.domain.audit import Actor, ActorType
    from tipline.domain.report import ReportContent, ReportSource
    from tipline.domain.roles import Role
    from tipline.intake.submission import finish_report, submit_report
    from tipline.store.accounts import Principal

    esp = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP, api_account_id=None)
    with instance.db.transaction() as session:
        row = submit_report(instance, session, ReportContent.model_validate(sample_content()),
                            ReportSource.ESP_JSON, esp, finish=False)
        for name, data in files.items():
            instance.files.add(session, row.id, data, file_name=name, actor=esp.actor)
        report_id = row.id
    with instance.db.transaction() as session:
        finish_report(instance, session, report_id, esp)
    return report_id


def wait_until_sealed(instance: Instance, timeout: float = 10.0) -> None:
    """Wait for a server's audit sealing thread to chain every committed event (it does so within a
    moment of each commit); fail if it does not."""
    import time

    from sqlalchemy import func, select

    from tipline.store.tables import AuditEventRow

    deadline = time.monotonic() + timeout
    while True:
        with instance.db.read_session() as session:
            unsealed = session.execute(select(func.count()).select_from(AuditEventRow)
                                       .where(AuditEventRow.chain_seq.is_(None))).scalar_one()
        if not unsealed:
            return
        assert time.monotonic() < deadline, f"{unsealed} audit events still unsealed after {timeout} s"
        time.sleep(0.05)
