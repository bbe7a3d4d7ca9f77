"""Everything in an accepted document is stored and comes out again: submit -> store -> export
(`tipline export cybertipline`) on both backends, and the same report filed as XML or as JSON is
stored the same."""

from __future__ import annotations

from pathlib import Path

from intake_client import Esp, benign_bytes
from intake_documents import ENTICEMENT_JSON, ENTICEMENT_XML, batched_report
from intake_xsdwalk import XSD, Walker, to_bytes
from lxml import etree
from sqlalchemy import select
from support import CommandRun, instance_env, run_tipline
from test_xml_mapping import assert_same_document

from tipline.cybertipline.export import export_report
from tipline.domain.audit import Actor
from tipline.store.tables import AuditEventRow, ReportRow

SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))


def export(instance, report_id: int, *args: str) -> CommandRun:  # type: ignore[no-untyped-def]
    return run_tipline(instance_env(instance), "export", "cybertipline", str(report_id), *args)


def test_every_element_survives_submit_store_export(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = Esp(api.base, api.session("chirp"))
    walker = Walker()
    reports = []
    for document in walker.documents("report"):
        # A batched report may not hold most elements (Appendix E): the every-element documents go
        # in as ordinary reports, and a batched one that obeys the appendix goes in beside them.
        document.remove(document.find("batchedReport"))
        reports.append(to_bytes(document))
    reports.insert(0, batched_report())
    details = list(walker.documents("fileDetails"))
    report_id = None
    for document in reports:
        result = client.submit(document)
        assert result.code == 0, result.description
        report_id = result.report_id
    # the last report gets two files with every-element details (one per branch of the choice)
    file_ids = []
    for number, detail in enumerate(details):
        file_id = client.upload(report_id, benign_bytes(300, seed=number)).file_id
        detail.find("reportId").text = str(report_id)
        detail.find("fileId").text = file_id
        assert client.fileinfo(to_bytes(detail)).code == 0
        file_ids.append(file_id)
    assert client.finish(report_id).code == 0

    # the other reports through the exporter in-process (the command is run below, on the last one)
    for offset, original in enumerate(reports[:-1]):
        with api.instance.db.transaction() as session:
            document = export_report(api.instance, session, report_id - len(reports) + 1 + offset,
                                     Actor.system("test")).report_xml
        assert SCHEMA.validate(etree.fromstring(document)), SCHEMA.error_log
        assert_same_document(original, document)

    target = tmp_path / "forward.xml"
    done = export(api.instance, report_id, "--output", str(target), "--with-file-details")
    assert done.returncode == 0, done.stderr
    assert_same_document(reports[-1], target.read_bytes())
    for file_id, detail in zip(file_ids, details, strict=True):
        written = (tmp_path / f"forward.file-{file_id}.xml").read_bytes()
        assert SCHEMA.validate(etree.fromstring(written)), SCHEMA.error_log
        assert_same_document(to_bytes(detail), written)


def test_an_export_is_an_audited_read_by_the_command_line(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = Esp(sqlite_api.base, sqlite_api.session("chirp"))
    report_id = client.submit(ENTICEMENT_XML).report_id
    assert export(sqlite_api.instance, report_id).returncode == 0
    with sqlite_api.instance.db.transaction() as session:
        reads = list(session.execute(select(AuditEventRow).where(
            AuditEventRow.report_id == report_id, AuditEventRow.action == "report.read")).scalars())
    assert len(reads) == 1
    assert reads[0].actor_type == "system" and reads[0].actor_name.startswith("cli:")
    assert reads[0].details["purpose"] == "export cybertipline"
    missing = export(sqlite_api.instance, report_id + 50)
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_the_same_report_as_xml_and_as_json_is_stored_the_same(api) -> None:  # type: ignore[no-untyped-def]
    session = api.session("chirp")
    client = Esp(api.base, session)
    xml_id = client.submit(ENTICEMENT_XML).report_id
    assert client.finish(xml_id).code == 0
    response = session.post(f"{api.server.url}/api/v1/reports", json=ENTICEMENT_JSON)
    assert response.status_code == 201, response.text
    json_id = response.json()["reportId"]
    with api.instance.db.transaction() as db:
        xml_row, json_row = db.get(ReportRow, xml_id), db.get(ReportRow, json_id)
        assert xml_row.content == json_row.content
        assert (xml_row.state, json_row.state) == ("received", "received")
        assert (xml_row.source, json_row.source) == ("esp_xml", "esp_json")
        assert (xml_row.incident_type, xml_row.incident_at, xml_row.platform) == (
            json_row.incident_type, json_row.incident_at, json_row.platform)
