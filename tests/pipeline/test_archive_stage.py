"""The unpack_archives stage: files inside a report's ZIP attachments become files of the report,
so a known picture sent in a ZIP is matched, a zipped chat log is read, and nothing is hidden by
packing; bombs are not opened and every member left out is named with its reason."""

from __future__ import annotations

import hashlib
import io
import zipfile

from PIL import Image
from sqlalchemy import select
from support import esp_report_with_files, gradient_png

from tipline.cybertipline.export import export_report
from tipline.domain.audit import Actor, ActorType
from tipline.domain.lifecycle import ReportState
from tipline.instance import Instance
from tipline.matching import BankEntry
from tipline.media import pdq_from_image
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.pipeline.stages.hash_files import hash_report_files, store_file_hashes
from tipline.pipeline.stages.unpack_archives import UnpackLimits, store_unpacked_members, unpack_report_archives
from tipline.store.tables import ConversationAnalysisRow, FileMatchRow, ReportFileRow

SUPERVISOR = Actor(ActorType.USER, "2", "sam")
CHAT = (b"Alex: hi, how old are you?\nSam: 13\nAlex: send me a picture of yourself\n"
        b"Alex: don't tell your parents about me\nAlex: I'll buy you a gift card\n")


def _zip(members: dict[str, bytes], *, encrypted: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        offsets = {info.filename: info.header_offset for info in archive.infolist()}
    data = bytearray(buffer.getvalue())
    for name in encrypted:  # mark as password-protected (bit 0 of the flags, local and central headers)
        data[offsets[name] + 6] |= 0x1
        start = 0
        while (start := data.find(b"PK\x01\x02", start)) != -1:
            length = int.from_bytes(data[start + 28:start + 30], "little")
            if data[start + 46:start + 46 + length] == name.encode():
                data[start + 8] |= 0x1
            start += 46
    return bytes(data)


def _files(instance: Instance, report_id: int) -> dict[str, ReportFileRow]:
    with instance.db.transaction() as session:
        rows = session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report_id)).scalars().all()
        session.expunge_all()
    return {row.archive_path or row.file_name: row for row in rows}


def test_a_known_picture_inside_nested_zips_is_matched_and_a_zipped_chat_is_read(instance: Instance) -> None:
    known = gradient_png(1)
    with instance.db.transaction() as session:
        instance.banks.create(session, "known", "known_material", SUPERVISOR)
        instance.banks.add_entries(session, "known", [
            BankEntry("known", "pdq", pdq_from_image(Image.open(io.BytesIO(known))).hex, source="hotline")],
            SUPERVISOR)
    inner = _zip({"deeper/known.png": known, "_chat.txt": CHAT})
    outer = _zip({"holiday/beach.png": gradient_png(2), "more.zip": inner})
    report_id = esp_report_with_files(instance, {"photos.zip": outer})
    assert InProcessWorker(instance).drain(timeout=120)

    files = _files(instance, report_id)
    assert set(files) == {"photos.zip", "holiday/beach.png", "more.zip", "more.zip/deeper/known.png",
                          "more.zip/_chat.txt"}
    archive, nested, picture = files["photos.zip"], files["more.zip"], files["more.zip/deeper/known.png"]
    assert archive.unpacked_at is not None and archive.parent_file_id is None
    assert files["holiday/beach.png"].parent_file_id == archive.id
    assert nested.parent_file_id == archive.id and picture.parent_file_id == nested.id
    assert picture.file_name == "known.png" and picture.media_kind == "image" and picture.pdq
    assert picture.blob_address and picture.sha256 == hashlib.sha256(known).hexdigest()

    with instance.db.transaction() as session:
        matches = session.execute(select(FileMatchRow).where(FileMatchRow.report_id == report_id)).scalars().all()
        analyses = session.execute(select(ConversationAnalysisRow)
                                   .where(ConversationAnalysisRow.report_id == report_id)).scalars().all()
        state = instance.reports.row(session, report_id).state
        actions = [e.action for e in instance.audit.events_for_report(session, report_id)]
        exported = export_report(instance, session, report_id, SUPERVISOR, with_file_details=True)
        page_files = {f.file_id: f for f in instance.reports.files(session, report_id)}
    assert [(m.file_id, m.bank) for m in matches] == [(picture.id, "known")]
    zipped_chat = [a for a in analyses if a.source_ref == files["more.zip/_chat.txt"].id]
    assert len(zipped_chat) == 1 and zipped_chat[0].error is None
    assert state == ReportState.AWAITING_REVIEW
    assert actions.count("file.unpacked") == 1
    assert list(exported.file_details_xml) == [archive.id]  # an export carries what the reporter sent
    assert page_files[picture.id].extracted_from == nested.id
    assert page_files[picture.id].archive_path == "more.zip/deeper/known.png"


def test_members_left_out_are_named_with_their_reasons(instance: Instance) -> None:
    archive = _zip({"a.png": gradient_png(3), "secret.png": gradient_png(4), "b.png": gradient_png(5), "c.png": gradient_png(6)},
                   encrypted=("secret.png",))
    report_id = esp_report_with_files(instance, {"set.zip": archive})
    assert InProcessWorker(instance).drain(timeout=120)
    files = _files(instance, report_id)
    assert set(files) == {"set.zip", "a.png", "b.png", "c.png"}
    warnings = [w["message"] for w in files["set.zip"].media_problems["warnings"]]
    assert warnings == ["secret.png is encrypted with a password and cannot be read"]



def test_a_member_limit_stops_with_a_reason_and_running_again_adds_nothing(instance: Instance) -> None:
    archive = _zip({f"p{n}.png": gradient_png(10 + n) for n in range(4)})
    report_id = esp_report_with_files(instance, {"many.zip": archive})
    hashed = hash_report_files(instance, report_id)  # as the hash_files stage does
    with instance.db.transaction() as session:
        store_file_hashes(instance, session, report_id, hashed)
    prepared = unpack_report_archives(instance, report_id, UnpackLimits(max_members=2))
    assert [m.path for m in prepared[0].members] == ["p0.png", "p1.png"]
    assert "stopped after 2 files (the configured limit); p2.png" in prepared[0].problems[0].message
    with instance.db.transaction() as session:
        store_unpacked_members(instance, session, report_id, prepared)
    with instance.db.transaction() as session:
        store_unpacked_members(instance, session, report_id, prepared)  # a job that ran twice
    assert unpack_report_archives(instance, report_id) == []  # unpacked once, never again
    assert set(_files(instance, report_id)) == {"many.zip", "p0.png", "p1.png"}


def test_a_zip_bomb_is_never_opened(instance: Instance) -> None:
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open("zeros.bin", "w", force_zip64=True) as member):
        block = bytes(1024 * 1024)
        for _ in range(200):
            member.write(block)
    report_id = esp_report_with_files(instance, {"bomb.zip": buffer.getvalue()})
    assert InProcessWorker(instance).drain(timeout=120)
    files = _files(instance, report_id)
    assert set(files) == {"bomb.zip"}
    assert [e["code"] for e in files["bomb.zip"].media_problems["errors"]] == ["zip_bomb"]
    assert files["bomb.zip"].unpacked_at is None


def test_only_the_pictures_of_an_office_document_are_added(instance: Instance) -> None:
    document = _zip({"[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
                     "word/document.xml": b"<?xml version='1.0'?><document>benign text</document>",
                     "word/media/image1.png": gradient_png(7)})
    report_id = esp_report_with_files(instance, {"letter.docx": document})
    assert InProcessWorker(instance).drain(timeout=120)
    assert set(_files(instance, report_id)) == {"letter.docx", "word/media/image1.png"}
