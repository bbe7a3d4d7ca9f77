"""The hash_files stage: every file of a report is typed and hashed before review; bad content is
recorded, never fatal; each read of a file for hashing is audited."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from sqlalchemy import select
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import finish_report, submit_report
from tipline.media import pdq_distance, pdq_from_image
from tipline.pipeline.inprocess import InProcessWorker
from tipline.store.accounts import Principal
from tipline.store.tables import ReportFileRow

ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP, api_account_id=None)


def _gradient_png() -> bytes:
    """A generated picture with structure (blocks over a gradient), so PDQ has something to see."""
    y, x = np.mgrid[0:240, 0:320]
    pixels = np.stack([x * 255 // 320, y * 255 // 240, (x + y) * 255 // 560], axis=-1).astype("uint8")
    rng = np.random.default_rng(5)
    for _ in range(12):
        top, left = rng.integers(0, 200), rng.integers(0, 280)
        pixels[top:top + 40, left:left + 40] = rng.integers(0, 255, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _report_with_files(instance: Instance, files: dict[str, bytes]) -> int:
    with instance.db.transaction() as session:
        row = submit_report(instance, session, ReportContent.model_validate(sample_content()),
                            ReportSource.ESP_JSON, ESP, finish=False)
        for name, data in files.items():
            instance.files.add(session, row.id, data, file_name=name, actor=ESP.actor)
        report_id = row.id
    with instance.db.transaction() as session:
        finish_report(instance, session, report_id, ESP)
    return report_id


def test_files_are_typed_and_hashed_before_review(instance: Instance) -> None:
    png = _gradient_png()
    report_id = _report_with_files(instance, {"photo.jpg": png, "notes.txt": b"just some benign notes\n"})
    assert InProcessWorker(instance).drain(timeout=120)
    with instance.db.transaction() as session:
        assert instance.reports.row(session, report_id).state == ReportState.AWAITING_REVIEW
        rows = {r.file_name: r for r in session.execute(select(ReportFileRow)).scalars()}
        reads = [e.details for e in instance.audit.events_for_report(session, report_id) if e.action == "file.read"]
    photo = rows["photo.jpg"]
    assert photo.media_type == "image/png" and photo.media_kind == "image"
    assert photo.declared_type == "image/jpeg"  # the name lied; the content decides
    assert (photo.width, photo.height) == (320, 240)
    assert len(photo.pdq) == 64 and photo.pdq_quality >= 50
    assert pdq_distance(photo.pdq, pdq_from_image(Image.open(io.BytesIO(png))).hex) <= 10
    assert any(w["code"] == "type_mismatch" for w in photo.media_problems["warnings"])
    notes = rows["notes.txt"]
    assert notes.pdq is None and notes.hashed_at is not None
    assert sorted(r["purpose"] for r in reads) == ["conversation analysis", "hashing", "hashing"]  # notes.txt is text


def test_corrupt_content_is_recorded_and_the_report_still_reaches_review(instance: Instance) -> None:
    truncated = _gradient_png()[:300]
    report_id = _report_with_files(instance, {"broken.png": truncated, "empty.jpg": b""})
    assert InProcessWorker(instance).drain(timeout=120)
    with instance.db.transaction() as session:
        assert instance.reports.row(session, report_id).state == ReportState.AWAITING_REVIEW
        rows = {r.file_name: r for r in session.execute(select(ReportFileRow)).scalars()}
    assert rows["broken.png"].pdq is None
    assert rows["broken.png"].media_problems["errors"][0]["code"] in {"truncated", "corrupt"}
    assert rows["empty.jpg"].media_problems["errors"][0]["code"] == "empty_file"
