"""Complete ESP transactions running at the same time keep the audit chain whole, number each
report's files in upload order and queue each finished report's pipeline once; a refusal changes
nothing (not the report, its files, nor the audit trail)."""

from __future__ import annotations

import threading

from intake_client import Esp, benign_bytes
from intake_documents import DOC_EXAMPLE, batched_report, file_details
from sqlalchemy import func, select
from support import wait_until_sealed

from tipline.pipeline.stages import FIRST_STAGE
from tipline.store.tables import AuditEventRow, AuditHead, PipelineJob, ReportFileRow, ReportRow


def esp(api, name: str) -> Esp:  # type: ignore[no-untyped-def]
    return Esp(api.base, api.session(name))


def test_concurrent_complete_transactions_keep_one_audit_chain(api) -> None:  # type: ignore[no-untyped-def]
    done: list[tuple[int, list[str], list[str]]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def provider(name: str, seed: int) -> None:
        client = esp(api, name)
        try:
            for number in range(3):
                submitted = client.submit(DOC_EXAMPLE)
                assert submitted.code == 0, submitted.description
                report_id = submitted.report_id
                uploads = [client.upload(report_id, benign_bytes(200 + k, seed=seed * 100 + number * 10 + k))
                           for k in range(2)]
                assert all(u.code == 0 for u in uploads), [u.description for u in uploads]
                uploaded = [u.file_id for u in uploads]
                details = client.fileinfo(file_details(report_id, uploaded[0], "<fileName>a.jpg</fileName>"))
                assert details.code == 0, details.description
                finished = client.finish(report_id)
                assert finished.code == 0, finished.description
                with lock:
                    done.append((report_id, uploaded, finished.files))
        except AssertionError as error:
            with lock:
                failures.append(f"{name}: {error}")

    threads = [threading.Thread(target=provider, args=(name, seed))
               for seed, name in enumerate(["chirp", "pixelgram", "chirp", "pixelgram"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(done) == 12

    instance = api.instance
    wait_until_sealed(instance)  # the server's sealing thread chains the events just after each commit
    with instance.db.transaction() as session:
        for report_id, uploaded, answered in done:
            assert answered == uploaded
            assert session.get(ReportRow, report_id).state == "received"
            files = session.execute(select(ReportFileRow.id, ReportFileRow.position, ReportFileRow.details)
                                    .where(ReportFileRow.report_id == report_id)
                                    .order_by(ReportFileRow.position)).all()
            assert [(f.id, f.position) for f in files] == [(uploaded[0], 0), (uploaded[1], 1)]
            assert [f.details for f in files] == [{"fileName": "a.jpg"}, None]
            first_jobs = session.execute(select(func.count()).select_from(PipelineJob).where(
                PipelineJob.report_id == report_id, PipelineJob.stage == FIRST_STAGE)).scalar_one()
            assert first_jobs == 1
        verification = instance.audit.verify(session)
        assert verification.ok, verification.to_dict()
        events = session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()
        assert session.get(AuditHead, 1).seq == events == verification.checked


def _snapshot(api, report_id: int) -> tuple:  # type: ignore[no-untyped-def]
    wait_until_sealed(api.instance)
    with api.instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        files = session.execute(select(ReportFileRow.id, ReportFileRow.details)
                                .where(ReportFileRow.report_id == report_id)
                                .order_by(ReportFileRow.position)).all()
        head = session.get(AuditHead, 1)
        jobs = session.execute(select(func.count()).select_from(PipelineJob)
                               .where(PipelineJob.report_id == report_id)).scalar_one()
        return (row.state, row.version, row.updated_at, [tuple(f) for f in files], head.seq, head.hash, jobs)


def test_refusals_change_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api, "chirp")
    report_id = client.submit(batched_report()).report_id
    first = client.upload(report_id, benign_bytes(300, seed=1)).file_id
    client.upload(report_id, benign_bytes(300, seed=2))
    before = _snapshot(api, report_id)

    invalid = client.fileinfo(file_details(report_id, first, "<fileRelevance>Reported</fileRelevance>"))
    assert (invalid.status, invalid.code) == (400, 4100)  # a batched report's file needs annotations
    unknown = client.fileinfo(file_details(report_id, "0" * 32, ""))
    assert (unknown.status, unknown.code) == (404, 5002)
    too_many = client.finish(report_id)  # a batched report has one file
    assert (too_many.status, too_many.code) == (400, 4100)
    not_theirs = esp(api, "pixelgram").upload(report_id, benign_bytes(10, seed=3))
    assert (not_theirs.status, not_theirs.code) == (404, 5001)

    assert _snapshot(api, report_id) == before
    with api.instance.db.transaction() as session:
        assert api.instance.audit.verify(session).ok
