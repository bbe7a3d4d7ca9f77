"""Idempotency-Key on POST /api/v1/reports: a client that got no answer sends the request again and
gets the first answer, never a second report; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from support import sample_content
from websupport import LiveServer, Site

from tipline.domain.base import utc_now
from tipline.pipeline.engine.maintenance import expire_idempotency_keys
from tipline.store.idempotency import IdempotencyKeyRow
from tipline.store.tables import AuditEventRow, ReportRow
from tipline.web.routes import api_reports

KEY = "9f1c2e7a-5b0d-4e8a-9a51-3c2f0d6b7e11"


def reports(site: Site) -> int:
    with site.instance.db.transaction() as session:
        return session.execute(select(func.count()).select_from(ReportRow)).scalar_one()


def created_events(site: Site) -> int:
    with site.instance.db.transaction() as session:
        return session.execute(select(func.count()).select_from(AuditEventRow)
                               .where(AuditEventRow.action == "report.submitted")).scalar_one()


def test_a_retry_with_the_same_key_gets_the_first_answer_and_no_second_report(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    chirp = site.esp()
    first = chirp.post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY})
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = chirp.post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY})
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert reports(site) == 1 and created_events(site) == 1

    # The same body with the keys in another order and other white space is the same request.
    reordered = dict(reversed(list(sample_content().items())))
    third = chirp.post("/api/v1/reports", json=reordered, headers={"Idempotency-Key": KEY})
    assert third.status_code == 201 and third.json()["reportId"] == first.json()["reportId"]
    assert reports(site) == 1

    # Without a key each request is a new report (what made retries duplicate reports).
    assert chirp.post("/api/v1/reports", json=sample_content()).status_code == 201
    assert chirp.post("/api/v1/reports", json=sample_content()).status_code == 201
    assert reports(site) == 3


def test_the_same_key_with_another_body_is_refused_and_stores_nothing(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    chirp = site.esp()
    first = chirp.post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY})
    assert first.status_code == 201
    for body, query in ((sample_content(additionalInfo="A different report."), ""), (sample_content(), "?finish=false")):
        refused = chirp.post(f"/api/v1/reports{query}", json=body, headers={"Idempotency-Key": KEY})
        assert refused.status_code == 422, refused.text
        assert refused.json()["problems"][0]["field"] == "Idempotency-Key"
        assert str(first.json()["reportId"]) in refused.json()["message"]
    assert reports(site) == 1


def test_keys_belong_to_one_provider_account(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    mine = site.esp("chirp").post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY})
    theirs = site.esp("pixelgram").post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY})
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["reportId"] != theirs.json()["reportId"]
    assert "idempotent-replayed" not in theirs.headers
    assert reports(site) == 2


def test_a_malformed_key_is_refused_naming_the_header(site: Site) -> None:
    for key in ("x" * 256, "tab\there", " leading-space"):
        response = site.esp().post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": key})
        assert response.status_code == 422, (key, response.text)
        assert "Idempotency-Key" in response.json()["problems"][0]["field"]
    assert reports(site) == 0


def test_the_database_refuses_a_second_row_for_a_key(site_on_each_backend: Site) -> None:
    """The guarantee is the unique constraint, not a read before the write."""
    site = site_on_each_backend
    now = utc_now()
    row = {"api_account_id": 1, "endpoint": "api_v1_reports", "key": KEY, "fingerprint": "0" * 64,
           "created_at": now, "expires_at": now + timedelta(hours=1)}
    with site.instance.db.transaction() as session:
        session.execute(insert(IdempotencyKeyRow).values(**row))
    with pytest.raises(IntegrityError), site.instance.db.transaction() as session:
        session.execute(insert(IdempotencyKeyRow).values(**row))


def test_concurrent_requests_with_one_key_store_exactly_one_report(site_on_each_backend: Site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    site = site_on_each_backend
    real_submit = api_reports.submit_report

    def slow_submit(*args, **kwargs):  # type: ignore[no-untyped-def]
        row = real_submit(*args, **kwargs)
        time.sleep(0.5)  # the first request is still uncommitted while the second arrives
        return row

    monkeypatch.setattr(api_reports, "submit_report", slow_submit)
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    with LiveServer(site.app) as server:
        def send() -> None:
            barrier.wait()
            answers.append(requests.post(f"{server.url}/api/v1/reports", json=sample_content(), timeout=60,
                                         auth=("chirp", site.esp_secret["chirp"]), headers={"Idempotency-Key": KEY}))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true"]
    assert reports(site) == 1 and created_events(site) == 1


def test_a_retry_after_a_commit_whose_answer_was_lost_finds_the_report(site_on_each_backend: Site) -> None:
    """The report is committed, then the connection drops before any answer (as in 22 of 3,200
    submissions under kill -9): the retry with the same key answers that report."""
    site = site_on_each_backend
    dropped: list[bool] = []

    async def loses_first_answer(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"] == "/api/v1/reports" and not dropped:
            dropped.append(True)
            sent: list[dict] = []

            async def swallow(message):  # type: ignore[no-untyped-def]
                sent.append(message)

            await site.app(scope, receive, swallow)
            raise ConnectionResetError("the answer never left the server")
        await site.app(scope, receive, send)

    auth = ("chirp", site.esp_secret["chirp"])
    with LiveServer(loses_first_answer, site.instance) as server:  # type: ignore[arg-type]
        url = f"{server.url}/api/v1/reports"
        try:  # uvicorn answers a bare 500 when the application ends without starting its answer
            lost = requests.post(url, json=sample_content(), auth=auth, headers={"Idempotency-Key": KEY}, timeout=60)
            assert lost.status_code == 500 and "reportId" not in lost.text
        except requests.ConnectionError:
            pass
        assert reports(site) == 1  # committed, unacknowledged
        retry = requests.post(url, json=sample_content(), auth=auth, headers={"Idempotency-Key": KEY}, timeout=60)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    with site.instance.db.transaction() as session:
        only = session.execute(select(ReportRow.id)).scalar_one()
    assert retry.json()["reportId"] == only
    assert reports(site) == 1


def test_keys_expire_and_maintenance_forgets_them(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    chirp = site.esp()
    first = chirp.post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY}).json()
    other = chirp.post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY + "-b"}).json()
    assert first["reportId"] != other["reportId"]
    with site.instance.db.transaction() as session:
        session.execute(update(IdempotencyKeyRow).where(IdempotencyKeyRow.key == KEY)
                        .values(expires_at=utc_now() - timedelta(seconds=1)))
    # Past its window the key is free again, even before maintenance ran: a new report.
    later = chirp.post("/api/v1/reports", json=sample_content(), headers={"Idempotency-Key": KEY})
    assert later.status_code == 201 and later.json()["reportId"] not in (first["reportId"], other["reportId"])
    assert "idempotent-replayed" not in later.headers
    with site.instance.db.transaction() as session:
        session.execute(update(IdempotencyKeyRow).where(IdempotencyKeyRow.key == KEY)
                        .values(expires_at=utc_now() - timedelta(seconds=1)))
    assert expire_idempotency_keys(site.instance) == 1
    with site.instance.db.transaction() as session:
        assert session.execute(select(IdempotencyKeyRow.key)).scalars().all() == [KEY + "-b"]


def test_the_header_is_described_in_the_openapi_document(site: Site) -> None:
    spec = site.client().get("/openapi.json").json()
    for path in ("/api/v1/reports", "/ispws/submit"):
        parameters = spec["paths"][path]["post"]["parameters"]
        header = [p for p in parameters if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert header and "first answer" in header[0]["description"], path
    replayed = spec["paths"]["/api/v1/reports"]["post"]["responses"]["201"]["headers"]
    assert "Idempotent-Replayed" in replayed
