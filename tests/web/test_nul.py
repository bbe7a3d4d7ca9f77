"""The NUL character (U+0000) in any text a report brings is refused with a 422 that names the field,
on SQLite as on PostgreSQL (which can store it neither in text nor in JSONB), so an ESP's retry
without it succeeds; nothing is half-written. Content stored before the rule still reads back."""

from __future__ import annotations

import io

from sqlalchemy import func, select, update
from support import sample_content
from websupport import Site, token_of

from tipline.store.tables import ReportFileRow, ReportRow

XML = {"Content-Type": "text/xml; charset=utf-8"}


def _reports(site: Site) -> int:
    with site.instance.db.transaction() as session:
        return session.execute(select(func.count()).select_from(ReportRow)).scalar_one()


def test_nul_in_any_json_text_field_is_refused_naming_the_field(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    chirp = site.esp()
    cases = {
        "additionalInfo": sample_content(additionalInfo="see\x00attached"),
        "reporter.reportingPerson.firstName": sample_content(
            reporter={"reportingPerson": {"firstName": "Tr\x00ust", "email": ["safety@chirp.example"]}}),
        "personOrUserReported[0].screenName": sample_content(
            personOrUserReported=[{"screenName": "@Night\x00Owl77"}]),
        "internetDetails[0].chatImIncident.content": sample_content(
            internetDetails=[{"chatImIncident": {"chatClient": "Chirp", "content": "u1: hi\x00"}}]),
        "reporter.reportingPerson.email[0].value": sample_content(
            reporter={"reportingPerson": {"email": ["safety\x00@chirp.example"]}}),
    }
    for field, content in cases.items():
        answer = chirp.post("/api/v1/reports", json=content)
        assert answer.status_code == 422, (field, answer.status_code, answer.text[:300])
        problems = answer.json()["problems"]
        assert any(p["field"] == field and "NUL" in p["problem"] for p in problems), (field, problems)
    assert _reports(site) == 0
    assert chirp.post("/api/v1/reports", json=sample_content(additionalInfo="see attached")).status_code == 201


def test_nul_in_an_ispws_report_is_refused_as_a_bad_document(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    chirp = site.esp()
    document = ("<?xml version='1.0' encoding='UTF-8'?><report><incidentSummary>"
                "<incidentType>Online Enticement of Children for Sexual Acts</incidentType>"
                "<incidentDateTime>2026-10-15T08:00:00Z</incidentDateTime></incidentSummary>"
                "<reporter><reportingPerson><firstName>{name}</firstName>"
                "<email>safety@chirp.example</email></reportingPerson></reporter></report>")
    for name in ("Tr&#0;ust", "Tr\x00ust", "Tr&#x0;ust"):
        answer = chirp.post("/ispws/submit", content=document.format(name=name).encode(), headers=XML)
        assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text[:300])
        assert "<responseCode>" in answer.text
    assert _reports(site) == 0
    assert chirp.post("/ispws/submit", content=document.format(name="Trust").encode(), headers=XML).status_code == 200


def test_nul_in_an_uploaded_file_name_is_refused_or_dropped(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    chirp = site.esp()
    report_id = chirp.post("/api/v1/reports?finish=false", json=sample_content()).json()["reportId"]
    answer = chirp.post("/ispws/upload", data={"id": str(report_id)},
                        files={"file": ("pic\x00ture.jpg", io.BytesIO(b"not really a picture"), "image/jpeg")})
    assert answer.status_code < 500, answer.text[:300]
    with site.instance.db.transaction() as session:
        names = session.execute(select(ReportFileRow.file_name)).scalars().all()
    assert all("\x00" not in (name or "") for name in names)


def test_a_report_stored_with_nul_before_the_rule_still_reads(site: Site) -> None:
    chirp = site.esp()
    report_id = chirp.post("/api/v1/reports", json=sample_content(additionalInfo="see attached")).json()["reportId"]
    with site.instance.db.transaction() as session:  # as SQLite kept it before NUL was refused
        content = session.get(ReportRow, report_id).content
        session.execute(update(ReportRow).where(ReportRow.id == report_id)
                        .values(content={**content, "additionalInfo": "see\x00attached"}))
    answer = site.signed_in("analyst").get(f"/api/v1/reports/{report_id}")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["content"]["additionalInfo"] == "see\x00attached"


def test_nul_in_a_query_a_path_or_a_form_field_is_refused_naming_it(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/settings").text)
    report_id = site.esp().post("/api/v1/reports", json=sample_content()).json()["reportId"]
    for path, field in [("/search?q=night%00owl", "q"), ("/api/v1/identifiers/email/reports?value=a%00b", "value"),
                        ("/identifiers?kind=email&value=a%00b", "value"), ("/files/a%00b/preview", "(path)")]:
        answer = analyst.get(path)
        assert answer.status_code == 422, (path, answer.status_code, answer.text[:200])
        assert answer.json()["problems"][0]["field"] == field
        assert "NUL" in answer.json()["problems"][0]["problem"]
    note = analyst.post(f"/reports/{report_id}/notes", data={"csrf_token": token, "text": "checked\x00"})
    assert note.status_code == 422 and note.json()["problems"][0]["field"] == "text"
    login = site.client().post("/login", data={"username": "ana\x00", "password": "x", "csrf_token": "t"},
                               cookies={"tipline_login_csrf": "t"})
    assert login.status_code == 422 and login.json()["problems"][0]["field"] == "username"
    supervisor = site.signed_in("supervisor")
    supervisor.headers["x-csrf-token"] = token_of(supervisor.get("/settings").text)
    bank = supervisor.post("/c/banks", json={"name": "KNOWN\x00ONE"})
    assert bank.status_code == 400 and bank.json()["message"].startswith("name: ")
    # the text "%00" (sent as %2500) is not a NUL: searched like any other text
    assert analyst.get("/search?q=%2500").status_code == 200
    assert analyst.post(f"/reports/{report_id}/notes", data={"csrf_token": token, "text": "50%00 off"}).status_code == 303


def test_nul_that_reaches_postgresql_another_way_is_a_422_not_a_500(site_on_each_backend: Site, backend: str) -> None:
    """The backstop: a multipart form field is not read by the entry checks; PostgreSQL refuses its
    NUL, the transaction rolls back, and the answer says why."""
    site = site_on_each_backend
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/settings").text)
    report_id = site.esp().post("/api/v1/reports", json=sample_content()).json()["reportId"]
    answer = analyst.post(f"/reports/{report_id}/notes", data={"csrf_token": token, "text": "checked\x00"},
                          files={"unused": ("a.txt", b"x", "text/plain")})
    if backend == "postgresql":
        assert answer.status_code == 422, answer.text[:300]
        assert "NUL" in answer.text
    else:
        assert answer.status_code == 303  # SQLite stores it; only PostgreSQL cannot
