"""A refused form shows the page it came from again: signed in, the reason at the field, what was typed kept,
the refusal's status kept, nothing saved (tipline.web.refusals). Programs still get JSON problems."""

from __future__ import annotations

import re

import lxml.html
from sqlalchemy import select
from websupport import PASSWORD, Site, file_report, token_of

from tipline.store.tables import ReportRow, RoleGrant, User


def version_of(site: Site, report_id: int) -> int:
    with site.instance.db.transaction() as session:
        return session.get(ReportRow, report_id).version


def drawn_at(page: str) -> str:
    return re.search(r'name="drawn_at" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def form_of(page: str, action: str) -> lxml.html.HtmlElement:
    forms = [f for f in lxml.html.document_fromstring(page).iter("form") if f.get("action") == action
             and "refused" in (f.get("class") or "")]
    assert len(forms) == 1, f"no refused form for {action}"
    return forms[0]


def signed_in_page(page: str, name: str) -> None:
    assert "Staff sign in" not in page and f"{name} <span class=\"role\">" in page


def test_a_stale_decision_shows_the_report_again_with_the_choice_kept_and_what_changed(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    page = analyst.get(f"/reports/{report_id}").text
    token, stale, opened = token_of(page), version_of(site, report_id), drawn_at(page)
    assert analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token, "version": stale}).status_code == 303
    # the analyst's other tab, drawn before the claim, sends a correction
    action = f"/reports/{report_id}/incident-type"
    response = analyst.post(action, data={"csrf_token": token, "version": stale, "drawn_at": opened,
                                          "incident_type": "Child Sex Tourism"})
    assert response.status_code == 409
    page = response.text
    signed_in_page(page, "analyst")
    assert f"<title>Report #{report_id} · tipline</title>" in page
    form = form_of(page, action)
    message = form.get_element_by_id("refusal-message")
    assert "changed by someone else" in message.text_content() and message.get("role") == "alert"
    chosen = form.xpath(".//select[@name='incident_type']/option[@selected]")
    assert [o.get("value") for o in chosen] == ["Child Sex Tourism"]  # the choice is kept
    assert form.xpath(".//input[@name='version']")[0].get("value") == str(version_of(site, report_id))  # fresh
    changed = lxml.html.document_fromstring(page).get_element_by_id("changed-since").text_content()
    assert "State changed" in changed and "by analyst" in changed
    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).reviewed_incident_type is None  # nothing saved


def test_an_unknown_assignee_is_refused_at_the_picker_with_the_name_kept(site: Site) -> None:
    report_id = file_report(site)
    supervisor = site.signed_in("supervisor")
    page = supervisor.get(f"/reports/{report_id}").text
    action = f"/reports/{report_id}/assign"
    response = supervisor.post(action, data={"csrf_token": token_of(page), "version": version_of(site, report_id),
                                             "username": "nobody"})
    assert response.status_code == 400
    signed_in_page(response.text, "supervisor")
    form = form_of(response.text, action)
    picker = form.xpath(".//select[@name='username']")[0]
    assert picker.get("aria-invalid") == "true" and picker.get("aria-describedby") == "refusal-message"
    assert picker.get("autofocus") is not None
    assert [o.get("value") for o in picker.xpath("option[@selected]")] == ["nobody"]
    assert "'nobody' is not an active analyst or supervisor" in form.get_element_by_id("refusal-message").text_content()


def test_a_close_without_its_reason_keeps_the_chosen_outcome(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token})
    action = f"/reports/{report_id}/close"
    response = analyst.post(action, data={"csrf_token": token, "outcome": "informational", "reason": "  "})
    assert response.status_code == 400
    form = form_of(response.text, action)
    assert form.xpath(".//input[@value='informational']")[0].get("checked") is not None
    assert form.xpath(".//input[@value='closed_no_action']")[0].get("checked") is None
    reason = form.xpath(".//input[@name='reason']")[0]
    assert reason.get("aria-invalid") == "true"
    # a field the form did not send at all: the request's own validation, answered the same way
    missing = analyst.post(action, data={"csrf_token": token, "reason": "Nothing to act on"})
    assert missing.status_code == 422
    form = form_of(missing.text, action)
    assert "this field is required" in form.get_element_by_id("refusal-message").text_content()
    assert form.xpath(".//input[@name='reason']")[0].get("value") == "Nothing to act on"
    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).state == "in_review"


def test_a_refused_note_and_link_keep_what_was_typed(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token})
    action = f"/reports/{report_id}/links"
    response = analyst.post(action, data={"csrf_token": token, "other_report": "999999", "reason": "same phone"})
    assert response.status_code == 404
    form = form_of(response.text, action)
    assert form.xpath(".//input[@name='other_report']")[0].get("value") == "999999"
    assert form.xpath(".//input[@name='reason']")[0].get("value") == "same phone"
    assert form.xpath(".//input[@name='other_report']")[0].get("aria-invalid") == "true"


def test_the_password_form_says_which_field_and_never_sends_a_password_back(site: Site) -> None:
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/settings").text)
    response = analyst.post("/settings/password", data={"csrf_token": token, "current": PASSWORD,
                                                        "new": "a new long passphrase", "again": "a different one!"})
    assert response.status_code == 400
    signed_in_page(response.text, "analyst")
    form = form_of(response.text, "/settings/password")
    assert form.xpath(".//input[@name='again']")[0].get("aria-invalid") == "true"
    assert "the two new passwords differ" in form.get_element_by_id("refusal-message").text_content()
    assert PASSWORD not in response.text and "a new long passphrase" not in response.text
    wrong = analyst.post("/settings/password", data={"csrf_token": token, "current": "not it at all",
                                                     "new": "a new long passphrase", "again": "a new long passphrase"})
    assert wrong.status_code == 400
    assert form_of(wrong.text, "/settings/password").xpath(".//input[@name='current']")[0].get("aria-invalid")


def test_admin_forms_show_the_users_page_again_with_the_input(site: Site) -> None:
    admin = site.signed_in("admin")
    token = token_of(admin.get("/admin/users").text)
    response = admin.post("/admin/users", data={"csrf_token": token, "username": "analyst", "role": "agency",
                                                "display_name": "Ann Other"})
    assert response.status_code == 400
    signed_in_page(response.text, "admin")
    form = form_of(response.text, "/admin/users")
    assert form.xpath(".//input[@name='username']")[0].get("value") == "analyst"
    assert form.xpath(".//input[@name='display_name']")[0].get("value") == "Ann Other"
    assert [o.get("value") for o in form.xpath(".//select[@name='role']/option[@selected]")] == ["agency"]
    own = admin.post("/admin/users/admin/active", data={"csrf_token": token, "active": "no"})
    assert own.status_code == 400 and "you cannot disable your own login" in own.text.lower()
    assert "<title>Users · tipline</title>" in own.text
    with site.instance.db.transaction() as session:
        assert session.execute(select(User.active).where(User.username == "admin")).scalar_one()


def test_programs_still_get_json_and_a_forged_form_keeps_nothing(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    api = analyst.post(f"/reports/{report_id}/close", headers={"Accept": "application/json"},
                       data={"csrf_token": token, "outcome": "informational", "reason": "x"})
    assert api.status_code == 409 and api.json()["error"] == "not_allowed_now"
    forged = analyst.post(f"/reports/{report_id}/links", data={"csrf_token": "wrong", "other_report": "4242424242"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert "4242424242" not in forged.text
    signed_in_page(forged.text, "analyst")


def test_an_error_page_shows_who_is_signed_in(site: Site) -> None:
    analyst = site.signed_in("analyst")
    missing = analyst.get("/reports/999999")
    assert missing.status_code == 404
    signed_in_page(missing.text, "analyst")


def test_a_form_sent_after_signing_out_returns_to_its_page_after_signing_in(site: Site) -> None:
    report_id = file_report(site)
    response = site.client().post(f"/reports/{report_id}/close", data={"outcome": "informational", "reason": "x"})
    assert response.status_code == 303 and response.headers["location"] == f"/login?next=/reports/{report_id}"


def test_a_refused_grant_decision_shows_the_page_it_was_made_on(site: Site) -> None:
    admin = site.signed_in("admin")
    token = token_of(admin.get("/admin/users").text)
    assert admin.post("/admin/users", data={"csrf_token": token, "username": "ana.smith", "role": "analyst"}
                      ).status_code == 200
    with site.instance.db.transaction() as session:
        grant_id = session.execute(select(RoleGrant.id).where(RoleGrant.state == "pending")).scalar_one()
    refused = admin.post(f"/access-grants/{grant_id}/approve", data={"csrf_token": token, "from_page": "/admin/users"})
    assert refused.status_code == 409 and "you asked for this grant" in refused.text
    assert "<title>Users · tipline</title>" in refused.text
    # the page offers no Approve button for one's own request: the reason stands under the heading
    heading = lxml.html.document_fromstring(refused.text).xpath("//main/h1")[0]
    assert heading.getnext().get("id") == "refusal-message"
