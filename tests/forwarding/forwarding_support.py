"""Two tiplines: the one that forwards (on each backend) and a destination tipline served over real
HTTP, whose /ispws the first forwards to with an API account of its own."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from support import build_instance, esp_report_with_files, gradient_png

from tipline.cybertipline.xmlmap import report_to_xml
from tipline.domain.audit import Actor
from tipline.domain.base import STORED
from tipline.domain.files import FileDetails
from tipline.domain.report import ReportContent
from tipline.forwarding import destinations
from tipline.instance import Instance
from tipline.store.tables import ReportFileRow, ReportRow
from tipline.web.app import create_app

ADMIN = Actor.system("test-admin")
FILES = {"profile-picture.png": gradient_png(4), "chat-export.txt": b"u1: send me a picture of yourself\n" * 40}


@dataclass
class Remote:
    instance: Instance
    url: str
    username: str
    password: str


@contextmanager
def remote_tipline(tmp_path: Path, request: pytest.FixtureRequest, app_wrapper=None) -> Iterator[Remote]:  # type: ignore[no-untyped-def]
    from websupport import LiveServer

    remote = build_instance(tmp_path / "remote", "sqlite", request)
    with remote.db.transaction() as session:
        _, secret = remote.accounts.add_api_account(session, "partner-hotline", ADMIN)
    app = create_app(remote, run_worker=False)
    served = app_wrapper(app) if app_wrapper else app
    try:
        with LiveServer(served, remote) as server:
            yield Remote(remote, server.url + "/ispws", "partner-hotline", secret)
    finally:
        remote.close()


def add_destination(instance: Instance, remote: Remote, name: str = "partner", url: str | None = None) -> None:
    with instance.db.transaction() as session:
        destinations.add(instance, session, name, url or remote.url, remote.username, remote.password, ADMIN)


def report_with_files(instance: Instance) -> int:
    """A received report with two files, the first with details."""
    report_id = esp_report_with_files(instance, FILES)
    with instance.db.transaction() as session:
        first = session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report_id).order_by(
            ReportFileRow.position)).scalars().first()
        assert first is not None
        details = FileDetails.model_validate({"originalFileName": "IMG_0042.png", "publiclyAvailable": False,
                                              "additionalInfo": ["sent in a direct message"]})
        instance.files.set_details(session, first.id, details, ADMIN)
    return report_id


def remote_reports(remote: Instance) -> list[ReportRow]:
    with remote.db.transaction() as session:
        rows = list(session.execute(select(ReportRow).order_by(ReportRow.id)).scalars())
        session.expunge_all()
    return rows


def file_digests(instance: Instance, report_id: int) -> list[str]:
    """The SHA-256 of each file's content as read back from the encrypted store."""
    with instance.db.transaction() as session:
        rows = list(session.execute(select(ReportFileRow).where(
            ReportFileRow.report_id == report_id, ReportFileRow.parent_file_id.is_(None)).order_by(
            ReportFileRow.position)).scalars())
        digests = []
        for row in rows:
            with instance.files.open_for_system(session, row.id, ADMIN, "test") as reader:
                digests.append(hashlib.sha256(reader.read()).hexdigest())
    return digests


def file_details(instance: Instance, report_id: int) -> list[dict[str, object] | None]:
    with instance.db.transaction() as session:
        return [row.details for row in session.execute(select(ReportFileRow).where(
            ReportFileRow.report_id == report_id, ReportFileRow.parent_file_id.is_(None)).order_by(
            ReportFileRow.position)).scalars()]


def facts(instance: Instance, report_id: int) -> bytes:
    """The report's facts as a CyberTipline document (what a destination can hold of them)."""
    with instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        assert row is not None
        return report_to_xml(ReportContent.model_validate(row.content, context=STORED))
