"""The JSON reports API: file, read back, and every kind of bad input refused precisely with nothing stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from support import sample_content
from websupport import Site

from tipline.domain.report import ReportContent
from tipline.store.tables import ReportRow


def _count(site: Site) -> int:
    with site.instance.db.transaction() as session:
        return session.execute(select(func.count()).select_from(ReportRow)).scalar_one()


def test_a_provider_files_a_report_and_staff_read_it_back(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    response = site.esp().post("/api/v1/reports", json=sample_content())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "received" and isinstance(body["reportId"], int)

    site.drain()
    read = site.signed_in("analyst").get(f"/api/v1/reports/{body['reportId']}")
    assert read.status_code == 200
    report = read.json()
    assert report["state"] == "awaiting_review"
    assert report["source"] == "esp_json"
    assert report["submittedBy"] == "chirp"
    assert ReportContent.model_validate(report["content"]) == ReportContent.model_validate(sample_content())

    identifiers = site.signed_in("analyst").get(f"/api/v1/reports/{body['reportId']}/identifiers").json()
    assert {(i["kind"], i["value"]) for i in identifiers} >= {("email", "night.owl@example.com"),
                                                              ("phone", "+12025550143")}


def test_reads_through_the_api_are_audited(site: Site) -> None:
    report_id = site.esp().post("/api/v1/reports", json=sample_content()).json()["reportId"]
    site.signed_in("supervisor").get(f"/api/v1/reports/{report_id}")
    with site.instance.db.transaction() as session:
        reads = [(e.actor_name, e.details) for e in site.instance.audit.events_for_report(session, report_id)
                 if e.action == "report.read"]
    assert reads == [("supervisor", {"purpose": "api"})]


def test_staff_can_use_the_api_with_their_password(site: Site) -> None:
    report_id = site.esp().post("/api/v1/reports", json=sample_content()).json()["reportId"]
    client = site.client()
    client.auth = ("analyst", "correct horse battery staple")
    assert client.get(f"/api/v1/reports/{report_id}").status_code == 200
    client.auth = ("analyst", "wrong")
    assert client.get(f"/api/v1/reports/{report_id}").status_code == 401


def test_a_provider_reads_its_own_report_but_not_anothers(site: Site) -> None:
    report_id = site.esp("chirp").post("/api/v1/reports", json=sample_content()).json()["reportId"]
    assert site.esp("chirp").get(f"/api/v1/reports/{report_id}").status_code == 200
    other = site.esp("pixelgram").get(f"/api/v1/reports/{report_id}")
    missing = site.esp("pixelgram").get("/api/v1/reports/999999")
    assert other.status_code == missing.status_code == 404
    assert other.json()["message"] == f"report {report_id} does not exist"


def test_an_open_report_is_finished_or_retracted_only_by_its_provider(site: Site) -> None:
    opened = site.esp().post("/api/v1/reports?finish=false", json=sample_content()).json()
    assert opened["state"] == "open"
    assert site.esp("pixelgram").post(f"/api/v1/reports/{opened['reportId']}/finish").status_code == 404
    finished = site.esp().post(f"/api/v1/reports/{opened['reportId']}/finish")
    assert finished.status_code == 200 and finished.json()["state"] == "received"
    again = site.esp().post(f"/api/v1/reports/{opened['reportId']}/retract")
    assert again.status_code == 409
    assert "cannot become 'retracted'" in again.json()["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field", "words"),
    [
        ("{not json", "application/json", 400, None, "not valid JSON"),
        (json.dumps(sample_content(additionalInfo=12)), "application/json", 422, "additionalInfo", "string"),
        (json.dumps({**sample_content(), "colour": "red"}), "application/json", 422, "colour", "unknown field"),
        (json.dumps(sample_content(incidentSummary={"incidentType": "Bad things",
                                                    "incidentDateTime": "2026-10-15T08:00:00Z"})),
         "application/json", 422, "incidentSummary.incidentType", "Input should be"),
        (json.dumps(sample_content(incidentSummary={"incidentType": "Child Sex Trafficking",
                                                    "incidentDateTime": "2026-10-15T08:00:00"})),
         "application/json", 422, "incidentSummary.incidentDateTime", "time zone"),
        (json.dumps(sample_content(victim=[{"victimPerson": {"age": "ten"}}])), "application/json", 422,
         "victim[0].victimPerson.age", "integer"),
        (json.dumps({k: v for k, v in sample_content().items() if k != "incidentSummary"}), "application/json", 422,
         "incidentSummary", "required"),
        (json.dumps(sample_content()), "text/plain", 415, None, "application/json"),
        ("", "application/json", 422, None, "required"),
    ],
)
def test_bad_input_gets_a_precise_error_and_nothing_is_stored(
    site: Site, body: str, content_type: str, status: int, field: str | None, words: str
) -> None:
    response = site.esp().post("/api/v1/reports", content=body.encode(), headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    payload = response.json()
    assert words in json.dumps(payload)
    if field is not None:
        assert field in [problem["field"] for problem in payload["problems"]]
    assert "Traceback" not in response.text
    assert _count(site) == 0


def test_an_oversized_body_is_refused_before_it_is_read(site: Site) -> None:
    limit = site.instance.settings.max_body_bytes
    response = site.esp().post("/api/v1/reports", content=b"x" * (limit + 1),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert f"limit of {limit} bytes" in response.json()["message"]
    assert _count(site) == 0


def test_an_oversized_body_without_a_length_is_refused_while_streaming(site: Site) -> None:
    limit = site.instance.settings.max_body_bytes

    def chunks():  # no Content-Length: the limit must hold as the bytes arrive
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    response = site.esp().post("/api/v1/reports", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert _count(site) == 0


def test_a_public_report_cannot_come_through_the_provider_api(site: Site) -> None:
    data = sample_content(publicReport={"description": "something happened"})
    response = site.esp().post("/api/v1/reports", json=data)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "publicReport"
    assert _count(site) == 0


def test_the_openapi_description_covers_the_reports_api(site: Site) -> None:
    spec = site.client().get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/reports", "/api/v1/reports/{report_id}"} <= set(spec["paths"])
    request_schema = spec["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request_schema["$ref"].endswith("/ReportContent")
    names = set(spec["components"]["schemas"]["ReportContent"]["properties"])
    assert {"incidentSummary", "internetDetails", "personOrUserReported", "victim", "reporter"} <= names
    schemes = spec["components"]["securitySchemes"]
    assert schemes["httpBasic"] == {**schemes["httpBasic"], "type": "http", "scheme": "basic"}
    assert (schemes["session"]["type"], schemes["session"]["in"], schemes["session"]["name"]) == (
        "apiKey", "cookie", "tipline_session")
    assert spec["security"] == [{"httpBasic": []}, {"session": []}]  # so /docs can authorise its requests
    docs = site.client().get("/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert site.client().get("/static/swagger/swagger-ui-bundle.js").status_code == 200


def test_the_site_has_an_icon(site: Site) -> None:
    import io

    from PIL import Image

    answer = site.client().get("/favicon.ico")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(answer.content))
    assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]
