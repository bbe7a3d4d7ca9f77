"""Each role against each route: the expected answer is written here, independently of the code.
A route the table does not know fails the test, so every new route needs a decision."""

from __future__ import annotations

import re

import pytest
from support import sample_content
from websupport import Site

from tipline.domain.audit import Actor
from tipline.web.auth import leaf_routes

ROLES = ["public", "esp", "analyst", "supervisor", "victim_id", "agency", "admin", "advocate"]
OK, CREATED, SEE_OTHER, BAD_REQUEST, UNAUTH, FORBIDDEN, NOT_FOUND, CONFLICT = 200, 201, 303, 400, 401, 403, 404, 409
READERS = {"analyst": OK, "supervisor": OK, "victim_id": OK}
SPECIALISTS = {"supervisor": OK, "victim_id": OK}
NOT_FOUND_FOR_SPECIALISTS = {"supervisor": NOT_FOUND, "victim_id": NOT_FOUND}
UNPROCESSABLE_FOR_SPECIALISTS = {"supervisor": 422, "victim_id": 422}


def expect(default: int, **by_role: int) -> dict[str, int]:
    return {role: by_role.get(role, default) for role in ROLES}


# (method, path template, expected status per role). {id} is a report the "chirp" provider filed.
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/", expect(SEE_OTHER)),
    ("GET", "/login", expect(OK, analyst=SEE_OTHER, supervisor=SEE_OTHER, victim_id=SEE_OTHER, agency=SEE_OTHER,
                              admin=SEE_OTHER, advocate=SEE_OTHER)),
    ("POST", "/login", expect(OK)),  # exercised separately (it needs its own CSRF cookie)
    ("GET", "/healthz", expect(OK)),
    ("GET", "/openapi.json", expect(OK)),
    ("GET", "/docs", expect(OK)),
    ("GET", "/favicon.ico", expect(OK)),
    ("GET", "/welcome", expect(OK)),
    ("GET", "/reports", expect(FORBIDDEN, public=SEE_OTHER, **READERS)),
    ("GET", "/reports/{id}", expect(FORBIDDEN, public=SEE_OTHER, **READERS)),
    ("GET", "/identifiers?kind=email&value=night.owl@example.com", expect(FORBIDDEN, public=SEE_OTHER, **READERS)),
    ("GET", "/admin/users", expect(FORBIDDEN, public=SEE_OTHER, admin=OK)),
    ("POST", "/admin/users", expect(FORBIDDEN, public=SEE_OTHER, admin=OK)),
    # Changing the agency user's role to agency changes nothing (303 back to the list); grant 999999 does
    # not exist: another admin or a supervisor may decide on grants of roles that read reports.
    ("POST", "/admin/users/{username}/role", expect(FORBIDDEN, public=SEE_OTHER, admin=SEE_OTHER)),
    ("POST", "/admin/users/{username}/active", expect(FORBIDDEN, public=SEE_OTHER, admin=SEE_OTHER)),
    ("POST", "/admin/users/{username}/password", expect(FORBIDDEN, public=SEE_OTHER, admin=OK)),
    ("POST", "/access-grants/{grant_id}/approve", expect(FORBIDDEN, public=SEE_OTHER, admin=NOT_FOUND,
                                                         supervisor=NOT_FOUND)),
    ("POST", "/access-grants/{grant_id}/refuse", expect(FORBIDDEN, public=SEE_OTHER, admin=NOT_FOUND,
                                                        supervisor=NOT_FOUND)),
    ("GET", "/admin/api-accounts", expect(FORBIDDEN, public=SEE_OTHER, admin=OK)),
    ("POST", "/admin/api-accounts", expect(FORBIDDEN, public=SEE_OTHER, admin=OK)),
    ("GET", "/admin/audit", expect(FORBIDDEN, public=SEE_OTHER, admin=OK, supervisor=OK)),
    # the site's agency user to an agency not in the (empty) directory; a provider named like it does not exist
    ("POST", "/admin/users/{username}/agency", expect(FORBIDDEN, public=SEE_OTHER, admin=BAD_REQUEST)),
    ("POST", "/admin/api-accounts/{username}/secret", expect(FORBIDDEN, public=SEE_OTHER, admin=BAD_REQUEST)),
    ("GET", "/admin/banks", expect(FORBIDDEN, public=SEE_OTHER, admin=OK)),
    ("GET", "/admin/audit.csv", expect(FORBIDDEN, public=SEE_OTHER, admin=OK, supervisor=OK)),
    ("POST", "/admin/audit/verify", expect(FORBIDDEN, public=SEE_OTHER, admin=OK, supervisor=OK)),
    ("POST", "/api/v1/reports", expect(FORBIDDEN, public=UNAUTH, esp=CREATED)),
    ("GET", "/api/v1/reports", expect(FORBIDDEN, public=UNAUTH, **READERS)),
    ("GET", "/api/v1/reports/{id}", expect(FORBIDDEN, public=UNAUTH, esp=OK, **READERS)),
    ("GET", "/api/v1/reports/{id}/identifiers", expect(FORBIDDEN, public=UNAUTH, **READERS)),
    ("GET", "/api/v1/identifiers/{kind}/reports?value=x@example.com", expect(FORBIDDEN, public=UNAUTH, **READERS)),
    ("POST", "/api/v1/reports/{open_id}/finish", expect(FORBIDDEN, public=UNAUTH, esp=OK)),
    ("POST", "/api/v1/reports/{open_id2}/retract", expect(FORBIDDEN, public=UNAUTH, esp=OK)),
    ("POST", "/api/v1/conversations/analyze", expect(FORBIDDEN, public=UNAUTH, esp=OK)),
    ("GET", "/report", expect(OK)),  # the public report form: the same for everyone
    ("POST", "/report", expect(FORBIDDEN)),  # refused without the form's own token (its CSRF), whoever asks
    ("GET", "/report/received/{receipt}", expect(NOT_FOUND)),  # only a signed receipt token shows a receipt
    ("GET", "/report/add", expect(OK)),  # adding to a report: the same page for everyone
    ("POST", "/report/add", expect(FORBIDDEN)),  # refused without the form's own token, whoever asks
    ("GET", "/help", expect(OK)),
    ("GET", "/hotline/logo", expect(NOT_FOUND)),  # no hotline profile with a logo in this test
    # The CyberTipline Reporting API: service provider accounts only. These bodies are empty, so a
    # provider gets 400 (an empty XML document: untyped bodies are read as XML) or 415 (no form);
    # the whole API is tested in tests/intake.
    ("GET", "/ispws/status", expect(FORBIDDEN, public=UNAUTH, esp=OK)),
    ("GET", "/ispws/xsd", expect(FORBIDDEN, public=UNAUTH, esp=OK)),
    ("POST", "/ispws/submit", expect(FORBIDDEN, public=UNAUTH, esp=BAD_REQUEST)),
    ("POST", "/ispws/upload", expect(FORBIDDEN, public=UNAUTH, esp=415)),
    ("POST", "/ispws/fileinfo", expect(FORBIDDEN, public=UNAUTH, esp=BAD_REQUEST)),
    ("POST", "/ispws/finish", expect(FORBIDDEN, public=UNAUTH, esp=415)),
    ("POST", "/ispws/retract", expect(FORBIDDEN, public=UNAUTH, esp=415)),
    # Review: {id} is a received report nobody holds, so allowed people get 409 (not possible now).
    ("GET", "/queue", expect(FORBIDDEN, public=SEE_OTHER, analyst=OK, supervisor=OK)),
    ("POST", "/queue/claim-next", expect(FORBIDDEN, public=SEE_OTHER, analyst=SEE_OTHER, supervisor=SEE_OTHER)),
    ("GET", "/queue/next", expect(FORBIDDEN, public=SEE_OTHER, analyst=SEE_OTHER, supervisor=SEE_OTHER)),
    ("POST", "/reports/{id}/claim", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/release", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/assign", expect(FORBIDDEN, public=SEE_OTHER, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/incident-type", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/annotations", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/files/{file_id}/classification",
     expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/files/{file_id}/bank",
     expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/classification", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/notes", expect(FORBIDDEN, public=SEE_OTHER, analyst=SEE_OTHER, supervisor=SEE_OTHER)),
    ("POST", "/reports/{id}/links", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/links/{id}/dismiss", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/escalate", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/ready-for-referral", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/close", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/reopen", expect(FORBIDDEN, public=SEE_OTHER, supervisor=CONFLICT)),
    ("GET", "/files/{file_id}/preview", expect(FORBIDDEN, public=SEE_OTHER, **{r: NOT_FOUND for r in READERS})),
    ("POST", "/files/{file_id}/reveal", expect(FORBIDDEN, public=SEE_OTHER, **{r: SEE_OTHER for r in READERS})),
    # the viewer: {file_id} is not a picture (404 for readers); a video plays only with a Play's token (403 without)
    ("GET", "/reports/{id}/files/{file_id}/view", expect(FORBIDDEN, public=SEE_OTHER,
                                                         **{r: NOT_FOUND for r in READERS})),
    ("GET", "/files/{file_id}/media", expect(FORBIDDEN, public=SEE_OTHER)),
    ("GET", "/supervisor", expect(FORBIDDEN, public=SEE_OTHER, supervisor=OK)),
    ("GET", "/supervisor/triage", expect(FORBIDDEN, public=SEE_OTHER, supervisor=OK)),
    ("POST", "/supervisor/triage", expect(FORBIDDEN, public=SEE_OTHER, supervisor=BAD_REQUEST)),
    # without confirm=yes, a preview of what the shipped defaults would do: nothing changes
    ("POST", "/supervisor/triage/reset", expect(FORBIDDEN, public=SEE_OTHER, supervisor=OK)),
    ("GET", "/search", expect(FORBIDDEN, public=SEE_OTHER, **READERS)),
    # Trends: counts for readers and admins (no report content); the reports behind a count and the alerts
    # (which name reports) for readers; deciding on an alert for supervisors (alert 999999 does not exist).
    ("GET", "/trends", expect(FORBIDDEN, public=SEE_OTHER, admin=OK, **READERS)),
    ("GET", "/trends/data.csv?table=yoy", expect(FORBIDDEN, public=SEE_OTHER, admin=OK, **READERS)),
    ("GET", "/trends/figures?from=2026-01-01&to=2026-12-31", expect(FORBIDDEN, public=SEE_OTHER, admin=OK, **READERS)),
    ("GET", "/trends/reports?dimension=all&value=reports", expect(FORBIDDEN, public=SEE_OTHER, **READERS)),
    ("GET", "/trends/alerts", expect(FORBIDDEN, public=SEE_OTHER, **READERS)),
    ("POST", "/trends/alerts/{referral_id}/decide", expect(FORBIDDEN, public=SEE_OTHER, supervisor=NOT_FOUND)),
    ("GET", "/settings", expect(OK, public=SEE_OTHER, esp=SEE_OTHER)),
    ("POST", "/settings", expect(SEE_OTHER)),
    # a person's own password: refused here for a wrong current password; the public and providers are sent to sign in
    ("POST", "/settings/password", expect(BAD_REQUEST, public=SEE_OTHER, esp=SEE_OTHER)),
    # one's own second factor: starting one sends back to its page; confirming none begun, or removing
    # with a wrong password, is refused. The code step of signing in needs the sign-in form's own token.
    ("GET", "/settings/second-factor", expect(OK, public=SEE_OTHER, esp=SEE_OTHER)),
    ("POST", "/settings/second-factor/start", expect(SEE_OTHER)),
    ("POST", "/settings/second-factor/confirm", expect(BAD_REQUEST, public=SEE_OTHER, esp=SEE_OTHER)),
    ("POST", "/settings/second-factor/remove", expect(BAD_REQUEST, public=SEE_OTHER, esp=SEE_OTHER)),
    ("POST", "/login/code", expect(BAD_REQUEST)),
    # Referral. {id} is a received report: referring it is not possible now (409); the directory of this
    # site is empty, so confirming an agency names an unknown one (400). Agency routes: the agency user
    # of this site belongs to no agency, so referral 999999 is not found, as every other agency's is.
    ("POST", "/reports/{id}/referral", expect(FORBIDDEN, public=SEE_OTHER, analyst=CONFLICT, supervisor=CONFLICT)),
    ("POST", "/reports/{id}/jurisdiction", expect(FORBIDDEN, public=SEE_OTHER, analyst=BAD_REQUEST,
                                                  supervisor=BAD_REQUEST)),
    ("POST", "/reports/{id}/jurisdiction/locate", expect(FORBIDDEN, public=SEE_OTHER, analyst=SEE_OTHER,
                                                         supervisor=SEE_OTHER)),
    ("GET", "/referrals", expect(FORBIDDEN, public=SEE_OTHER, **READERS)),
    # Forwarding: reviewers may ask for it; this site has no destination, so the one named is unknown (400).
    ("POST", "/reports/{id}/forward", expect(FORBIDDEN, public=SEE_OTHER, analyst=BAD_REQUEST,
                                             supervisor=BAD_REQUEST)),
    # Takedown: reviewers act (this report names no web address, so nothing can be looked up or drafted:
    # 400; notice 999999 does not exist: 404); the list of notices is the supervisors'.
    ("POST", "/reports/{id}/takedown/locate", expect(FORBIDDEN, public=SEE_OTHER, analyst=BAD_REQUEST,
                                                     supervisor=BAD_REQUEST)),
    ("POST", "/reports/{id}/takedown/notices", expect(FORBIDDEN, public=SEE_OTHER, analyst=BAD_REQUEST,
                                                      supervisor=BAD_REQUEST)),
    ("POST", "/takedown/notices/{referral_id}/state", expect(FORBIDDEN, public=SEE_OTHER, analyst=NOT_FOUND,
                                                             supervisor=NOT_FOUND)),
    ("POST", "/takedown/notices/{referral_id}/mail", expect(FORBIDDEN, public=SEE_OTHER, analyst=NOT_FOUND,
                                                            supervisor=NOT_FOUND)),
    ("POST", "/takedown/notices/{referral_id}/check", expect(FORBIDDEN, public=SEE_OTHER, analyst=NOT_FOUND,
                                                             supervisor=NOT_FOUND)),
    ("GET", "/takedown", expect(FORBIDDEN, public=SEE_OTHER, supervisor=OK)),
    ("GET", "/agency/referrals", expect(FORBIDDEN, public=SEE_OTHER, agency=OK)),
    ("GET", "/agency/referrals/{referral_id}", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    ("GET", "/agency/referrals/{referral_id}/package", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    ("GET", "/agency/referrals/{referral_id}/files/{file_id}", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    ("POST", "/agency/referrals/{referral_id}/outcomes", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    ("GET", "/agency/signing-key", expect(FORBIDDEN, public=SEE_OTHER, agency=OK)),
    ("POST", "/agency/referrals/{referral_id}/key", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    ("GET", "/agency/referrals/{referral_id}/read", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    ("GET", "/agency/referrals/{referral_id}/files/{file_id}/preview", expect(FORBIDDEN, public=SEE_OTHER,
                                                                                agency=NOT_FOUND)),
    ("POST", "/agency/referrals/{referral_id}/files/{file_id}/reveal", expect(FORBIDDEN, public=SEE_OTHER,
                                                                                agency=NOT_FOUND)),
    ("POST", "/agency/key/forget", expect(FORBIDDEN, public=SEE_OTHER, agency=SEE_OTHER)),
    ("POST", "/agency/referrals/{referral_id}/messages", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    # {id} is not referred: there is no agency to write to
    ("POST", "/reports/{id}/referral/messages", expect(FORBIDDEN, public=SEE_OTHER, analyst=BAD_REQUEST,
                                                       supervisor=BAD_REQUEST)),
    # HMA-compatible API (docs/matching.md): lookups and hashing for readers and service providers, banks
    # read by readers, changed by supervisors. {kind} is "email": no bank of that name (404); these form
    # bodies are neither JSON (415) nor a multipart upload (400). Details in tests/matching_db/test_hma_api.py.
    ("GET", "/h/hash", expect(FORBIDDEN, public=UNAUTH, esp=BAD_REQUEST, **{r: BAD_REQUEST for r in READERS})),
    ("POST", "/h/hash", expect(FORBIDDEN, public=UNAUTH, esp=BAD_REQUEST, **{r: BAD_REQUEST for r in READERS})),
    ("GET", "/m/lookup?signal_type=md5&signal=00000000000000000000000000000000",
     expect(FORBIDDEN, public=UNAUTH, esp=OK, **READERS)),
    ("POST", "/m/lookup", expect(FORBIDDEN, public=UNAUTH, esp=BAD_REQUEST, **{r: BAD_REQUEST for r in READERS})),
    ("GET", "/c/banks", expect(FORBIDDEN, public=UNAUTH, **READERS)),
    ("POST", "/c/banks", expect(FORBIDDEN, public=UNAUTH, supervisor=415)),
    ("GET", "/c/bank/{kind}", expect(FORBIDDEN, public=UNAUTH, **{r: NOT_FOUND for r in READERS})),
    ("POST", "/c/bank/{kind}/signal", expect(FORBIDDEN, public=UNAUTH, supervisor=NOT_FOUND)),
    ("POST", "/c/bank/{kind}/content", expect(FORBIDDEN, public=UNAUTH, supervisor=NOT_FOUND)),
    ("GET", "/c/bank/{kind}/content/{referral_id}",
     expect(FORBIDDEN, public=UNAUTH, **{r: NOT_FOUND for r in READERS})),
    # Exchanges ({kind} is no exchange; {referral_id} no entry): reading for readers, feedback for those
    # who review (a form body is no JSON: 422), releasing or disabling a held entry for supervisors.
    ("GET", "/c/exchanges", expect(FORBIDDEN, public=UNAUTH, **READERS)),
    ("GET", "/c/exchanges/apis", expect(FORBIDDEN, public=UNAUTH, **READERS)),
    ("GET", "/c/exchange/{kind}", expect(FORBIDDEN, public=UNAUTH, **{r: NOT_FOUND for r in READERS})),
    ("GET", "/c/exchange/{kind}/status", expect(FORBIDDEN, public=UNAUTH, **{r: NOT_FOUND for r in READERS})),
    ("POST", "/c/exchange/{kind}/entry/{referral_id}/feedback",
     expect(FORBIDDEN, public=UNAUTH, analyst=422, supervisor=422)),
    ("POST", "/supervisor/exchange-entries/{referral_id}/release",
     expect(FORBIDDEN, public=SEE_OTHER, supervisor=SEE_OTHER)),
    ("POST", "/supervisor/exchange-entries/{referral_id}/disable",
     expect(FORBIDDEN, public=SEE_OTHER, supervisor=SEE_OTHER)),
    # PUT (disable or enable an entry: supervisors) is sent as POST by this loop, which the path does not take;
    # its roles are checked in tests/matching_db/test_hma_api.py::test_roles_and_credentials.
    ("PUT", "/c/bank/{kind}/content/{referral_id}", expect(405)),
    # Victim identification: specialists and supervisors. {referral_id} (999999) is no series, cluster,
    # queue entry or confirmation: 404. Agency users see only their own series notifications.
    ("GET", "/series", expect(FORBIDDEN, public=SEE_OTHER, **SPECIALISTS)),
    ("POST", "/series", expect(FORBIDDEN, public=SEE_OTHER, victim_id=SEE_OTHER, supervisor=SEE_OTHER)),
    ("GET", "/series/{referral_id}", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/series/{referral_id}/status", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/series/{referral_id}/rename", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/series/{referral_id}/merge", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/series/{referral_id}/split", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/series/{referral_id}/victims", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/series/confirmations/{referral_id}", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("GET", "/victim-id/queue", expect(FORBIDDEN, public=SEE_OTHER, **SPECIALISTS)),
    ("POST", "/victim-id/queue/{referral_id}/reviewed", expect(FORBIDDEN, public=SEE_OTHER,
                                                               **NOT_FOUND_FOR_SPECIALISTS)),
    ("GET", "/clusters", expect(FORBIDDEN, public=SEE_OTHER, **SPECIALISTS)),
    ("GET", "/clusters/{referral_id}", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/clusters/{referral_id}/promote", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("POST", "/clusters/{referral_id}/dismiss", expect(FORBIDDEN, public=SEE_OTHER, **NOT_FOUND_FOR_SPECIALISTS)),
    ("GET", "/agency/notifications", expect(FORBIDDEN, public=SEE_OTHER, agency=OK)),
    ("GET", "/agency/notifications/{referral_id}", expect(FORBIDDEN, public=SEE_OTHER, agency=NOT_FOUND)),
    ("GET", "/api/v1/series", expect(FORBIDDEN, public=UNAUTH, **SPECIALISTS)),
    ("GET", "/api/v1/series/{referral_id}", expect(FORBIDDEN, public=UNAUTH, **NOT_FOUND_FOR_SPECIALISTS)),
    ("GET", "/api/v1/clusters", expect(FORBIDDEN, public=UNAUTH, **SPECIALISTS)),
    ("GET", "/api/v1/clusters/{referral_id}", expect(FORBIDDEN, public=UNAUTH, **NOT_FOUND_FOR_SPECIALISTS)),
    # The JSON operations, sent here as forms (they carry the CSRF token that way): not JSON, 422.
    ("POST", "/api/v1/series", expect(FORBIDDEN, public=UNAUTH, **UNPROCESSABLE_FOR_SPECIALISTS)),
    ("POST", "/api/v1/series/{referral_id}/identify", expect(FORBIDDEN, public=UNAUTH, **UNPROCESSABLE_FOR_SPECIALISTS)),
    ("POST", "/api/v1/series/{referral_id}/merge", expect(FORBIDDEN, public=UNAUTH, **UNPROCESSABLE_FOR_SPECIALISTS)),
    ("POST", "/api/v1/series/{referral_id}/rename", expect(FORBIDDEN, public=UNAUTH, **UNPROCESSABLE_FOR_SPECIALISTS)),
    ("POST", "/api/v1/series/{referral_id}/victims", expect(FORBIDDEN, public=UNAUTH, **UNPROCESSABLE_FOR_SPECIALISTS)),
    ("POST", "/api/v1/clusters/{referral_id}/promote", expect(FORBIDDEN, public=UNAUTH,
                                                              **UNPROCESSABLE_FOR_SPECIALISTS)),
    ("POST", "/api/v1/clusters/{referral_id}/dismiss", expect(FORBIDDEN, public=UNAUTH,
                                                              **UNPROCESSABLE_FOR_SPECIALISTS)),
    # Follow-up: the reporter's request is public (refused without the form's own token, whoever asks);
    # the requests are for advocates alone. Request 999999 does not exist.
    ("GET", "/report/follow-up", expect(OK)),
    ("POST", "/report/follow-up", expect(FORBIDDEN)),
    ("GET", "/follow-ups", expect(FORBIDDEN, public=SEE_OTHER, advocate=OK)),
    ("GET", "/follow-ups/{follow_up_id}", expect(FORBIDDEN, public=SEE_OTHER, advocate=NOT_FOUND)),
    ("POST", "/follow-ups/{follow_up_id}", expect(FORBIDDEN, public=SEE_OTHER, advocate=NOT_FOUND)),
    ("POST", "/logout", expect(SEE_OTHER)),  # last: it ends the session
]
JSON_BODIES = {
    "/api/v1/reports": sample_content(),
    "/api/v1/conversations/analyze": {"id": "c1", "messages": [{"id": "1", "author": "a", "text": "hi"}]},
}
FORM_DATA = {
    "/report/add": {"report_number": "1", "report_code": "ABCD-EFGH-JKLM-NPQR"},
    "/admin/users": {"username": "newperson", "role": "analyst"},
    "/admin/api-accounts": {"username": "newprovider"},
    "/admin/users/{username}/role": {"role": "agency"},
    "/admin/users/{username}/active": {"active": "yes"},
    "/admin/users/{username}/agency": {"agency": "nowhere"},
    "/reports/{id}/assign": {"username": "analyst"},
    "/reports/{id}/incident-type": {"incident_type": "Child Sex Trafficking"},
    "/reports/{id}/files/{file_id}/classification": {"classification": "B2"},
    "/reports/{id}/classification": {"classification": "B2", "file": "any file"},
    "/reports/{id}/notes": {"text": "checked the platform's profile"},
    "/reports/{id}/files/{file_id}/bank": {"bank": "known"},
    "/reports/{id}/links": {"other_report": "999999"},
    "/reports/{id}/escalate": {"note": "needs a second opinion"},
    "/reports/{id}/close": {"outcome": "informational", "reason": "no child involved"},
    "/settings": {"blur": "strong"},
    "/settings/second-factor/confirm": {"code": "123456"},
    "/settings/second-factor/remove": {"password": "not the password"},
    "/login/code": {"code": "123456"},
    "/agency/referrals/{referral_id}/key": {"key_text": "00"},
    "/agency/referrals/{referral_id}/messages": {"body": "Posted by the authorization test."},
    "/reports/{id}/referral/messages": {"body": "Posted by the authorization test."},
    "/settings/password": {"current": "not the password", "new": "a new long passphrase", "again": "a new long passphrase"},
    "/report": {"what": "enticement", "description": "Posted by the authorization test."},
    "/report/follow-up": {"channel": "phone", "contact": "+1 555 0100 200", "safe_times": "evenings"},
    "/follow-ups/{follow_up_id}": {"kind": "note", "note": "Posted by the authorization test."},
    "/reports/{id}/referral": {"agency": "nowhere"},
    "/reports/{id}/jurisdiction": {"agency": "nowhere"},
    "/reports/{id}/forward": {"destination": "nowhere"},
    "/reports/{id}/takedown/notices": {"url": "https://nowhere.example/"},
    "/takedown/notices/{referral_id}/state": {"state": "sent"},
    "/takedown/notices/{referral_id}/check": {"result": "removed"},
    "/agency/referrals/{referral_id}/outcomes": {"outcome": "received"},
    "/series": {"name": "Series made by the authorization test"},
    "/series/{referral_id}/status": {"status": "under_investigation"},
    "/series/{referral_id}/rename": {"name": "Another name"},
    "/series/{referral_id}/merge": {"into": "1"},
    "/series/{referral_id}/split": {"name": "Split by the authorization test", "entry": "1"},
    "/series/{referral_id}/victims": {"pseudonym": "Child A", "sex": "unknown", "age_band": "unknown"},
    "/series/confirmations/{referral_id}": {"decision": "confirm"},
    "/clusters/{referral_id}/promote": {"new_series": "From the authorization test"},
    "/clusters/{referral_id}/dismiss": {"reason": "checked"},
    "/trends/alerts/{referral_id}/decide": {"action": "acknowledge"},
}


def test_the_matrix_names_every_route_of_the_application(site: Site) -> None:
    known = {(method, re.sub(r"\{[a-z_0-9]+\}", "{}", path.split("?")[0])) for method, path, _ in MATRIX}
    routes = set()
    for route in leaf_routes(site.app.routes):
        for method in getattr(route, "methods", None) or []:
            if method == "HEAD":
                continue
            routes.add((method, re.sub(r"\{[a-z_0-9]+\}", "{}", route.path)))
    assert routes - known == set(), "routes without an authorisation decision in this test"


def _client(site: Site, role: str):  # type: ignore[no-untyped-def]
    if role == "public":
        return site.client()
    if role == "esp":
        return site.esp("chirp")
    return site.signed_in(role.replace("_", ""))


def _csrf(client, role: str) -> str | None:  # type: ignore[no-untyped-def]
    if role in ("public", "esp"):
        return None
    page = client.get("/welcome")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return match.group(1) if match else None


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_it_may(site: Site, role: str) -> None:
    chirp = site.esp("chirp")
    report_id = chirp.post("/api/v1/reports", json=sample_content()).json()["reportId"]
    with site.instance.db.transaction() as session:
        file_id = site.instance.files.add(session, report_id, b"benign bytes", file_name="a.bin",
                                          actor=Actor.system("test")).id
    client = _client(site, role)
    token = _csrf(client, role)
    failures = []
    for method, template, expected in MATRIX:
        if template == "/login" and method == "POST":
            continue
        open_id = chirp.post("/api/v1/reports?finish=false", json=sample_content()).json()["reportId"]
        path = template.format(id=report_id, open_id=open_id, open_id2=open_id, kind="email",
                               receipt="not-a-receipt", file_id=file_id, referral_id=999999,
                               username="agency", grant_id=999999, follow_up_id=999999)
        if method == "GET":
            response = client.get(path)
        elif path in JSON_BODIES:
            response = client.post(path, json=JSON_BODIES[path])
        else:
            data = dict(FORM_DATA.get(template, {}))
            if token:
                data["csrf_token"] = token
            response = client.post(path, data=data)
        if response.status_code != expected[role]:
            failures.append(f"{method} {path}: expected {expected[role]}, got {response.status_code}")
        if role == "public" and expected[role] == SEE_OTHER and path.startswith(("/reports", "/admin", "/ident")):
            assert response.headers["location"].startswith("/login?next=")
    assert failures == []


def test_another_providers_report_is_not_found_rather_than_forbidden(site: Site) -> None:
    report_id = site.esp("chirp").post("/api/v1/reports", json=sample_content()).json()["reportId"]
    other = site.esp("pixelgram")
    assert other.get(f"/api/v1/reports/{report_id}").status_code == 404
    opened = site.esp("chirp").post("/api/v1/reports?finish=false", json=sample_content()).json()["reportId"]
    assert other.post(f"/api/v1/reports/{opened}/finish").status_code == 404
    assert other.post(f"/api/v1/reports/{opened}/retract").status_code == 404


def test_a_state_change_without_the_csrf_token_is_refused(site: Site) -> None:
    admin = site.signed_in("admin")
    response = admin.post("/admin/users", data={"username": "sneaky", "role": "admin"})
    assert response.status_code == 403
    assert "CSRF" in response.text
    forged = admin.post("/admin/users", data={"username": "sneaky", "role": "admin", "csrf_token": "forged"})
    assert forged.status_code == 403
    with site.instance.db.transaction() as session:
        assert site.instance.accounts.user_by_name(session, "sneaky") is None


def test_a_revoked_session_no_longer_works(site: Site) -> None:
    analyst = site.signed_in("analyst")
    assert analyst.get("/reports").status_code == 200
    token = _csrf(analyst, "analyst")
    assert analyst.post("/logout", data={"csrf_token": token}).status_code == 303
    analyst.cookies.set("tipline_session", "stale")
    assert analyst.get("/reports").status_code == 303


def test_disabling_a_user_ends_their_sessions(site: Site) -> None:
    from tipline.domain.audit import Actor

    analyst = site.signed_in("analyst")
    with site.instance.db.transaction() as session:
        site.instance.accounts.set_active(session, "analyst", False, Actor.system("test"))
    assert analyst.get("/reports").status_code == 303
