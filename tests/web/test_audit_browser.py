"""The audit browser: filters by who, what, report and dates, pages, a CSV export with the same
filters, and looking at the trail is itself audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from websupport import Site, file_report

from tipline.domain.audit import Actor, ActorType
from tipline.store import audit_search
from tipline.store.tables import AuditEventRow


def _events(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", page)]


def test_an_admin_filters_pages_and_exports_the_audit_trail(site_on_each_backend: Site,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    site = site_on_each_backend
    report_id = file_report(site)
    with site.instance.db.transaction() as session:
        for n in range(105):
            site.instance.audit.append(session, Actor.system("bulk"), "test.bulk", details={"n": n})
        site.instance.audit.append(session, Actor(ActorType.PUBLIC, None, "=2+2"), "test.old", details={},
                                   at=datetime(2025, 1, 2, 3, tzinfo=UTC))
    admin = site.signed_in("admin")

    mine = admin.get("/admin/audit?who=bulk&what=test.bulk")
    assert mine.status_code == 200 and "105 events match the filters" in mine.text
    first = _events(mine.text)
    assert len(first) == 100 and first == sorted(first, reverse=True)
    older = re.search(r'rel="next" href="([^"]+)"', mine.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    second = _events(admin.get(older).text)
    assert len(second) == 5 and max(second) < min(first)

    family = admin.get("/admin/audit?what=test.")
    assert "106 events match" in family.text
    assert _events(admin.get(f"/admin/audit?report={report_id}").text)  # the report's own events
    assert all(e in {report_id} for e in _report_ids(site, _events(admin.get(f"/admin/audit?report={report_id}").text)))
    dated = admin.get("/admin/audit?what=test.&since=2025-01-01&until=2025-01-31")
    assert "1 event matches the filters" in dated.text
    refused = admin.get("/admin/audit?since=soon&report=abc")
    assert "is not a date" in refused.text and "is not a report number" in refused.text

    monkeypatch.setattr(audit_search, "BATCH", 7)  # the export reads in batches: several here
    exported = admin.get("/admin/audit.csv?what=test.")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 106 and len({r["seq"] for r in rows}) == 106 and {r["action"] for r in rows} == {"test.bulk", "test.old"}
    assert next(r for r in rows if r["action"] == "test.old")["actor_name"] == "'=2+2"  # no spreadsheet formula

    with site.instance.db.transaction() as session:
        looked = [e.details for e in session.execute(select(AuditEventRow).where(
            AuditEventRow.action.in_(["audit.browsed", "audit.exported"])).order_by(AuditEventRow.seq)).scalars()]
    assert looked[0]["filters"] == {"who": "bulk", "what": "test.bulk"}
    assert looked[-1]["filters"] == {"what": "test."}
    assert site.signed_in("analyst").get("/admin/audit.csv").status_code == 403


def _report_ids(site: Site, seqs: list[int]) -> list[int | None]:
    with site.instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow.report_id).where(AuditEventRow.seq.in_(seqs))).scalars())
