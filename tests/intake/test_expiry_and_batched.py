"""The lifecycle rules of the documentation that depend on time (expiry) and on the report's mode
(Appendix E batched reports), over real HTTP; time is driven by the expiry function's `now`."""

from __future__ import annotations

from datetime import timedelta

from intake_client import Esp, benign_bytes
from intake_documents import DOC_EXAMPLE, batched_report, file_details
from sqlalchemy import select

from tipline.intake.cybertipline.expiry import expire_open_reports
from tipline.store.tables import AuditEventRow, BlobRow, ReportFileRow, ReportRow

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def esp(api, name: str = "chirp") -> Esp:  # type: ignore[no-untyped-def]
    return Esp(api.base, api.session(name))


def times(api, report_id: int):  # type: ignore[no-untyped-def]
    with api.instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        return row.opened_at, row.updated_at, row.state


def set_last_change(api, report_id: int, when) -> None:  # type: ignore[no-untyped-def]
    with api.instance.db.transaction() as session:
        session.get(ReportRow, report_id).updated_at = when


def test_an_untouched_report_expires_24_hours_after_opening(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id = client.submit(DOC_EXAMPLE).report_id
    upload = client.upload(report_id, benign_bytes(2048, seed=7))
    opened_at, _, _ = times(api, report_id)
    set_last_change(api, report_id, opened_at)  # the upload happened "at opening"
    assert expire_open_reports(api.instance, now=opened_at + 24 * HOUR - SECOND).expired == []
    assert times(api, report_id)[2] == "open"
    result = expire_open_reports(api.instance, now=opened_at + 24 * HOUR + SECOND, grace=timedelta(0))
    assert result.expired == [report_id]
    assert result.files_removed == 1
    assert result.blobs_deleted == 1
    assert times(api, report_id)[2] == "retracted"
    with api.instance.db.transaction() as session:
        assert session.get(ReportFileRow, upload.file_id) is None
        assert session.execute(select(BlobRow)).first() is None
        reason = session.execute(select(AuditEventRow.details).where(
            AuditEventRow.report_id == report_id, AuditEventRow.action == "report.state_changed")).scalar_one()
    assert reason == {"from": "open", "to": "retracted", "reason": "expired"}
    store = api.instance.settings.file_store_dir
    assert [p for p in store.rglob("*") if p.is_file() and ".part" not in p.name] == []
    # "A report may be cancelled ... before ... it has been automatically cancelled": after that, 5101
    for answer in (client.retract(report_id), client.finish(report_id), client.upload(report_id, b"late")):
        assert (answer.status, answer.code) == (409, 5101)


def test_a_late_change_keeps_a_report_one_hour_past_it(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id = client.submit(DOC_EXAMPLE).report_id
    opened_at, _, _ = times(api, report_id)
    last_change = opened_at + 23 * HOUR + 30 * timedelta(minutes=1)
    set_last_change(api, report_id, last_change)  # e.g. file details sent 23.5 hours in
    assert expire_open_reports(api.instance, now=opened_at + 24 * HOUR + SECOND).expired == []
    assert expire_open_reports(api.instance, now=last_change + HOUR - SECOND).expired == []
    assert expire_open_reports(api.instance, now=last_change + HOUR + SECOND).expired == [report_id]


def test_a_recent_change_does_not_shorten_the_24_hours(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id = client.submit(DOC_EXAMPLE).report_id
    opened_at, _, _ = times(api, report_id)
    # idle for 2 hours: 1 hour after the last change has passed, but not 24 hours after opening
    assert expire_open_reports(api.instance, now=opened_at + 2 * HOUR).expired == []
    assert times(api, report_id)[2] == "open"


def test_finished_and_retracted_reports_never_expire(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    finished = client.submit(DOC_EXAMPLE).report_id
    client.upload(finished, benign_bytes(100))
    client.finish(finished)
    retracted = client.submit(DOC_EXAMPLE).report_id
    client.retract(retracted)
    opened_at, _, _ = times(sqlite_api, finished)
    assert expire_open_reports(sqlite_api.instance, now=opened_at + 100 * HOUR).expired == []
    assert times(sqlite_api, finished)[2] == "received"
    with sqlite_api.instance.db.transaction() as session:
        assert session.execute(select(ReportFileRow).where(ReportFileRow.report_id == finished)).first() is not None


def test_content_shared_with_another_report_survives_the_expiry(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    same = benign_bytes(900, seed=42)
    expiring = client.submit(DOC_EXAMPLE).report_id
    client.upload(expiring, same)
    kept = client.submit(DOC_EXAMPLE).report_id
    kept_file = client.upload(kept, same).file_id
    client.finish(kept)
    opened_at, _, _ = times(sqlite_api, expiring)
    set_last_change(sqlite_api, expiring, opened_at)
    result = expire_open_reports(sqlite_api.instance, now=opened_at + 25 * HOUR, grace=timedelta(0))
    assert (result.expired, result.blobs_deleted) == ([expiring], 0)
    with sqlite_api.instance.db.transaction() as session:
        from tipline.domain.audit import Actor

        with sqlite_api.instance.files.open_for_system(session, kept_file, Actor.system("test"), "test") as reader:
            assert reader.read() == same


def test_the_expiry_command(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    import json

    from support import instance_env, run_tipline

    completed = run_tipline(instance_env(sqlite_api.instance), "jobs", "expire-open", "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"expired": [], "files_removed": 0, "blobs_deleted": 0}


# --- Appendix E ------------------------------------------------------------------------------------


def test_a_batched_report_allows_only_esp_identifiers_of_reported_users(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api, "pixelgram")
    accepted = client.submit(batched_report())
    assert (accepted.status, accepted.code) == (200, 0)
    refused = client.submit(batched_report(person="<espIdentifier>acct-1</espIdentifier><screenName>x</screenName>"))
    assert (refused.status, refused.code) == (400, 4100)
    assert "/report/personOrUserReported[1]/screenName" in refused.description


def test_a_batched_report_refuses_the_listed_elements(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api, "pixelgram")
    forbidden = {
        "/report/internetDetails": "<internetDetails><webPageIncident><url>https://www.example.com/m</url>"
                                   "</webPageIncident></internetDetails>",
        "/report/lawEnforcement": "<lawEnforcement><agencyName>Example PD</agencyName></lawEnforcement>",
    }
    for path, extra in forbidden.items():
        refused = client.submit(batched_report(extra=extra))
        assert (refused.status, refused.code) == (400, 4100), path
        assert path in refused.description
    # elements after reporter in the schema's order
    for path, element in {"/report/victim": "<victim><victimPerson><age>12</age></victimPerson></victim>",
                          "/report/intendedRecipient": "<intendedRecipient><screenName>k</screenName>"
                                                       "</intendedRecipient>",
                          "/report/additionalInfo": "<additionalInfo>more</additionalInfo>"}.items():
        document = batched_report().replace(b"</report>", element.encode() + b"</report>")
        refused = client.submit(document)
        assert (refused.status, refused.code) == (400, 4100), (path, refused.description)
        assert path in refused.description
    escalated = batched_report().replace(
        b"<incidentDateTime>", b"<escalateToHighPriority>child at risk</escalateToHighPriority><incidentDateTime>")
    refused = client.submit(escalated)
    assert refused.code == 4100 and "/report/incidentSummary/escalateToHighPriority" in refused.description
    # the JSON API applies the same rules
    json_refusal = client.http.post(sqlite_api.base.replace("/ispws", "/api/v1/reports"), json={
        "batchedReport": {"reason": "VIRAL_POTENTIAL_MEME"},
        "incidentSummary": {"incidentType": "Child Pornography (possession, manufacture, and distribution)",
                            "incidentDateTime": "2026-03-01T10:00:00Z"},
        "reporter": {"reportingPerson": {"email": ["safety@pixelgram.example"]}},
        "victim": [{"victimPerson": {"age": 12}}],
    })
    assert json_refusal.status_code == 422
    assert "/report/victim" in json_refusal.text


def test_batched_file_details_rules(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api, "pixelgram")
    report_id = client.submit(batched_report()).report_id
    file_id = client.upload(report_id, benign_bytes(500)).file_id
    cases = {
        "<fileRelevance>Reported</fileRelevance>": "/fileDetails/fileAnnotations",
        "<fileRelevance>Reported</fileRelevance><fileAnnotations><infant/></fileAnnotations>":
            "/fileDetails/fileAnnotations",
        "<fileRelevance>Reported</fileRelevance><fileAnnotations><viral/><generativeAi/></fileAnnotations>":
            "/fileDetails/fileAnnotations/generativeAi",
        "<fileRelevance>Supplemental Reported</fileRelevance><fileAnnotations><viral/></fileAnnotations>":
            "/fileDetails/fileRelevance",
        "<fileAnnotations><viral/></fileAnnotations>": "/fileDetails/fileRelevance",
        "<originalFileName>meme.jpg</originalFileName><fileRelevance>Reported</fileRelevance>"
        "<fileAnnotations><viral/></fileAnnotations>": "/fileDetails/originalFileName",
        "<fileRelevance>Reported</fileRelevance><fileAnnotations><potentialMeme/></fileAnnotations>"
        "<additionalInfo>x</additionalInfo>": "/fileDetails/additionalInfo",
    }
    for inner, path in cases.items():
        refused = client.fileinfo(file_details(report_id, file_id, inner))
        assert (refused.status, refused.code) == (400, 4100), inner
        assert path in refused.description, (path, refused.description)
    accepted = client.fileinfo(file_details(
        report_id, file_id, "<fileRelevance>Reported</fileRelevance><fileAnnotations><viral/><potentialMeme/>"
                            "</fileAnnotations><industryClassification>B2</industryClassification>"))
    assert (accepted.status, accepted.code) == (200, 0)


def test_a_batched_report_with_two_files_cannot_be_finished(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api, "pixelgram")
    report_id = client.submit(batched_report()).report_id
    client.upload(report_id, benign_bytes(500, seed=1))
    client.upload(report_id, benign_bytes(500, seed=2))
    refused = client.finish(report_id)
    assert (refused.status, refused.code) == (400, 4100)  # "HTTP status 400 and application status 4100"
    assert times(api, report_id)[2] == "open"
    assert client.retract(report_id).code == 0  # what the appendix tells the reporter to do
    single = client.submit(batched_report()).report_id
    only = client.upload(single, benign_bytes(500, seed=3)).file_id
    done = client.finish(single)
    assert (done.status, done.code, done.files) == (200, 0, [only])


def test_an_ordinary_report_may_have_many_files_and_any_details(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    report_id = client.submit(DOC_EXAMPLE).report_id
    file_id = client.upload(report_id, benign_bytes(10, seed=1)).file_id
    client.upload(report_id, benign_bytes(10, seed=2))
    assert client.fileinfo(file_details(report_id, file_id, "<fileAnnotations><infant/></fileAnnotations>")).code == 0
    assert client.finish(report_id).code == 0
