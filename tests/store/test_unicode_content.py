"""On SQLite, report content is stored with its text as written (not as \\u escapes), and the upgrade
re-writes reports stored before, so that search finds them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from support import make_settings

from tipline.instance import Instance
from tipline.store.schema import upgrade
from tipline.store.search import SearchCriteria, search_reports

INSERT = text(
    "INSERT INTO reports (id, state, source, incident_type, incident_at, opened_at, updated_at, version, content, "
    "escalated) VALUES (:id, 'received', 'esp_json', 'Child Sex Tourism', '2026-01-01T00:00:00Z', "
    "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1, :content, false)")


def test_the_upgrade_rewrites_escaped_text_of_old_reports_in_batches(tmp_path: Path) -> None:
    instance = Instance(make_settings(tmp_path / "old"))
    upgrade(instance.db, "0014")
    zoe = {"additionalInfo": "Zoë, Ñandú and Ωmega", "n": 1}
    surrogate = {"additionalInfo": "half a pair \ud800 here"}
    with instance.db.engine.begin() as connection:
        # 1,201 reports: more than two batches of the upgrade; every 400th holds non-ASCII text.
        connection.execute(INSERT, [
            {"id": n, "content": json.dumps(zoe if n % 400 == 0 else {"additionalInfo": f"plain {n}"})}
            for n in range(1, 1202)])
        connection.execute(INSERT, {"id": 5000, "content": json.dumps(surrogate)})
        assert "\\u00eb" in connection.execute(text("SELECT content FROM reports WHERE id = 400")).scalar_one()
    upgrade(instance.db)
    with instance.db.engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id, content FROM reports")).all())
    assert {n for n, content in stored.items() if "Zoë, Ñandú and Ωmega" in content} == {400, 800, 1200}
    assert stored[5000] == json.dumps(surrogate)  # UTF-8 cannot hold it: kept escaped, readable as before
    assert json.loads(stored[400]) == zoe and stored[7] == json.dumps({"additionalInfo": "plain 7"})
    with instance.db.transaction() as session:
        found = search_reports(session, SearchCriteria(text="ZOË"))
    assert {row.id for row in found.rows} == {400, 800, 1200}
    instance.close()


def test_new_reports_are_stored_as_written(sqlite_instance: Instance) -> None:
    from support import sample_content

    from tipline.domain.audit import Actor
    from tipline.domain.report import ReportContent, ReportSource

    with sqlite_instance.db.transaction() as session:
        report_id = sqlite_instance.reports.create(session, ReportContent.model_validate(
            sample_content(additionalInfo="Ñandú 🦜")), ReportSource.ESP_JSON, Actor.system("test")).id
    with sqlite_instance.db.engine.connect() as connection:
        raw = connection.execute(text("SELECT content FROM reports WHERE id = :id"), {"id": report_id}).scalar_one()
    assert "Ñandú 🦜" in raw and "\\u" not in raw


def test_a_lone_surrogate_is_written_escaped_rather_than_refused() -> None:
    """UTF-8 cannot hold half a surrogate pair (JSON input can: "\\udfff"); SQLite would refuse the
    row, so such a document keeps the escaped form it always had."""
    from tipline.store.types import json_text

    assert json_text({"a": "half \udfff", "b": "Zoë"}) == '{"a": "half \\udfff", "b": "Zo\\u00eb"}'
    assert json_text({"b": "Zoë"}) == '{"b": "Zoë"}'
