"""Repeated /ispws/submit: NCMEC's protocol has no idempotency mechanism (a repeated submit opens
another report; an unfinished one expires), so tipline also takes Idempotency-Key there."""

from __future__ import annotations

from intake_client import XML, Esp
from intake_documents import DOC_EXAMPLE
from sqlalchemy import func, select

from tipline.store.tables import ReportRow

KEY = "submit-2026-12-07-0001"


def open_reports(api) -> int:  # type: ignore[no-untyped-def]
    with api.instance.db.transaction() as session:
        return session.execute(select(func.count()).select_from(ReportRow)).scalar_one()


def test_a_repeated_submit_with_the_same_key_answers_the_same_report(api) -> None:  # type: ignore[no-untyped-def]
    client = Esp(api.base, api.session())
    first = client.submit(DOC_EXAMPLE, headers={**XML, "Idempotency-Key": KEY})
    again = client.submit(DOC_EXAMPLE, headers={**XML, "Idempotency-Key": KEY})
    assert (first.status, first.code) == (again.status, again.code) == (200, 0)
    assert again.report_id == first.report_id
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    assert open_reports(api) == 1

    other = client.submit(DOC_EXAMPLE.replace(b"John", b"Jane"), headers={**XML, "Idempotency-Key": KEY})
    assert (other.status, other.code) == (422, 4000)
    assert str(first.report_id) in (other.description or "")
    assert open_reports(api) == 1

    # Without a key the protocol's own behaviour: each submit opens a report.
    assert client.submit(DOC_EXAMPLE).report_id != client.submit(DOC_EXAMPLE).report_id
    assert open_reports(api) == 3


def test_a_malformed_key_is_refused_with_4000(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = Esp(sqlite_api.base, sqlite_api.session())
    refused = client.submit(DOC_EXAMPLE, headers={**XML, "Idempotency-Key": "k" * 256})
    assert (refused.status, refused.code) == (400, 4000) and "Idempotency-Key" in (refused.description or "")
    assert open_reports(sqlite_api) == 0
