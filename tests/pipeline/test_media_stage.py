"""The hash_files stage: every file of a report is typed and hashed before review; bad content is
recorded, never fatal; each read of a file for hashing is audited."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select
from support import esp_report_with_files, gradient_png

from tipline.domain.lifecycle import ReportState
from tipline.instance import Instance
from tipline.media import pdq_distance, pdq_from_image
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.store.tables import ReportFileRow


def test_files_are_typed_and_hashed_before_review(instance: Instance) -> None:
    png = gradient_png()
    report_id = esp_report_with_files(instance, {"photo.jpg": png, "notes.txt": b"just some benign notes\n"})
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
    truncated = gradient_png()[:300]
    report_id = esp_report_with_files(instance, {"broken.png": truncated, "empty.jpg": b""})
    assert InProcessWorker(instance).drain(timeout=120)
    with instance.db.transaction() as session:
        assert instance.reports.row(session, report_id).state == ReportState.AWAITING_REVIEW
        rows = {r.file_name: r for r in session.execute(select(ReportFileRow)).scalars()}
    assert rows["broken.png"].pdq is None
    assert rows["broken.png"].media_problems["errors"][0]["code"] in {"truncated", "corrupt"}
    assert rows["empty.jpg"].media_problems["errors"][0]["code"] == "empty_file"
