"""Report files: encrypted at rest, stored once per content, read only through audited calls, and
removed from disk when no report holds them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.store.accounts import Principal
from tipline.store.files import BlobVanished, FileNotFound, clean_file_name
from tipline.store.tables import BlobRow, ReportFileRow

ESP = Actor(ActorType.API_ACCOUNT, "1", "chirp")
ANALYST = Principal(Actor(ActorType.USER, "7", "ana"), Role.ANALYST, user_id=7)
OUTSIDER = Principal(Actor(ActorType.API_ACCOUNT, "9", "other"), Role.ESP, api_account_id=9)
# A recognisable, benign plaintext spanning several encryption chunks.
PLAINTEXT = b"".join(b"benign test line %08d of a synthetic upload\n" % n for n in range(80_000))


def _report(instance: Instance) -> int:
    with instance.db.transaction() as session:
        return instance.reports.create(session, ReportContent.model_validate(sample_content()),
                                       ReportSource.ESP_JSON, ESP).id


def _disk_bytes(instance: Instance) -> bytes:
    return b"".join(path.read_bytes() for path in instance.settings.file_store_dir.rglob("*") if path.is_file())


def test_stored_bytes_never_contain_the_plaintext(instance: Instance) -> None:
    report_id = _report(instance)
    with instance.db.transaction() as session:
        row = instance.files.add(session, report_id, PLAINTEXT, file_name="notes.txt", actor=ESP)
    on_disk = _disk_bytes(instance)
    assert len(on_disk) > len(PLAINTEXT)
    for offset in range(0, len(PLAINTEXT) - 64, len(PLAINTEXT) // 50):
        assert PLAINTEXT[offset:offset + 32] not in on_disk
    assert row.size == len(PLAINTEXT) and len(row.sha256) == 64 and row.file_name == "notes.txt"


def test_a_file_reads_back_through_an_audited_call(instance: Instance) -> None:
    report_id = _report(instance)
    with instance.db.transaction() as session:
        file_id = instance.files.add(session, report_id, PLAINTEXT, file_name="a.txt", actor=ESP).id
    with instance.db.transaction() as session:
        with instance.files.open_for(session, file_id, ANALYST, purpose="review") as reader:
            assert reader.read() == PLAINTEXT
    with instance.db.transaction() as session:
        with pytest.raises(FileNotFound, match=f"file {file_id} does not exist"):
            instance.files.open_for(session, file_id, OUTSIDER, purpose="peek")
        reads = [(e.actor_name, e.details) for e in instance.audit.events_for_report(session, report_id)
                 if e.action == "file.read"]
    assert reads == [("ana", {"file_id": file_id, "purpose": "review"})]


def test_the_same_content_is_stored_once_and_deleted_only_when_no_report_holds_it(instance: Instance) -> None:
    first, second = _report(instance), _report(instance)
    with instance.db.transaction() as session:
        a = instance.files.add(session, first, PLAINTEXT, file_name="x.txt", actor=ESP)
        b = instance.files.add(session, second, PLAINTEXT, file_name="y.txt", actor=ESP)
    assert a.blob_address == b.blob_address
    assert instance.files.blobs.exists(a.blob_address)
    with instance.db.transaction() as session:
        assert session.get(BlobRow, a.blob_address).refs == 2
        instance.files.remove_report_files(session, first, Actor.system("test"))
    with instance.db.transaction() as session:
        assert instance.files.collect_garbage(session, grace=timedelta(0)) == 0
    assert instance.files.blobs.exists(a.blob_address)
    with instance.db.transaction() as session:
        instance.files.remove_report_files(session, second, Actor.system("test"))
    with instance.db.transaction() as session:
        assert instance.files.collect_garbage(session, grace=timedelta(minutes=5)) == 0  # still in its grace
        assert instance.files.collect_garbage(session, grace=timedelta(0)) == 1
        assert session.execute(select(BlobRow)).first() is None
    assert not instance.files.blobs.exists(a.blob_address)


def test_an_upload_that_finds_its_content_awaiting_deletion_keeps_it(instance: Instance) -> None:
    first, second = _report(instance), _report(instance)
    with instance.db.transaction() as session:
        address = instance.files.add(session, first, PLAINTEXT, file_name="x", actor=ESP).blob_address
        instance.files.remove_report_files(session, first, Actor.system("test"))
    with instance.db.transaction() as session:
        instance.files.add(session, second, PLAINTEXT, file_name="x", actor=ESP)
    with instance.db.transaction() as session:
        assert instance.files.collect_garbage(session, grace=timedelta(0)) == 0
    assert instance.files.blobs.exists(address)


def test_content_collected_while_an_upload_of_it_ran_is_refused_not_pointed_at(instance: Instance) -> None:
    """The writer finds the content already stored and keeps no copy; the collector then deletes it
    (unreferenced past its grace) before the upload registers: nothing may point at missing bytes."""
    first, second = _report(instance), _report(instance)
    with instance.db.transaction() as session:
        instance.files.add(session, first, PLAINTEXT, file_name="x", actor=ESP)
        instance.files.remove_report_files(session, first, Actor.system("test"))
    stored = instance.files.blobs.put(PLAINTEXT)
    assert stored.deduplicated
    with instance.db.transaction() as session:
        assert instance.files.collect_garbage(session, grace=timedelta(0)) == 1
    with pytest.raises(BlobVanished, match="send the file again"), instance.db.transaction() as session:
        instance.files.register(session, second, stored, file_name="x", actor=ESP)
    with instance.db.transaction() as session:
        assert session.execute(select(ReportFileRow).where(ReportFileRow.report_id == second)).first() is None
        assert session.execute(select(BlobRow)).first() is None
    with instance.db.transaction() as session:  # sent again: stored anew
        row = instance.files.add(session, second, PLAINTEXT, file_name="x", actor=ESP)
    assert instance.files.blobs.read_bytes(row.blob_address) == PLAINTEXT


@pytest.mark.parametrize(
    ("name", "expected"),
    [("photo.jpg", "photo.jpg"), ("../../etc/passwd", "passwd"), ("C:\\Users\\x\\pic.png", "pic.png"),
     ("/", None), ("a\x00b.txt", "ab.txt"), (None, None),
     ("photo\u202egnp.exe", "photognp.exe"), ("pay\u2067ment\u2069.pdf\r\n", "payment.pdf")],
)
def test_file_names_lose_their_paths(name: str | None, expected: str | None) -> None:
    assert clean_file_name(name) == expected
