"""The review workspace: the queue in priority order, claiming, decisions with their audit events,
stale forms and wrong states refused without partial change, safe previews, search, weights."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
from PIL import Image
from sqlalchemy import select
from support import sample_content
from websupport import SEXTORTION, Site, file_report, picture, token_of

from tipline.domain.audit import Actor
from tipline.domain.roles import Role
from tipline.store.tables import AuditEventRow, ConversationAnalysisRow, ReportFileRow, ReportRow


def version_of(site: Site, report_id: int) -> int:
    with site.instance.db.transaction() as session:
        return session.get(ReportRow, report_id).version


def actions(site: Site, report_id: int) -> list[str]:
    with site.instance.db.transaction() as session:
        return [e.action for e in site.instance.audit.events_for_report(session, report_id)]


def test_the_queue_puts_the_urgent_report_first_with_its_reasons(site: Site) -> None:
    calm = file_report(site)
    urgent_data = sample_content(internetDetails=[{"chatImIncident": {"chatClient": "Chirp", "content": SEXTORTION}}])
    urgent = file_report(site, urgent_data)
    page = site.signed_in("analyst").get("/queue").text
    assert page.index(f'href="/reports/{urgent}"') < page.index(f'href="/reports/{calm}"')
    assert "Sextortion: threats, deadlines or demands" in page
    assert re.search(r'badge priority-P1">P1', page)


def test_claim_decide_and_close_each_decision_audited(site: Site) -> None:
    report_id = file_report(site, files={"photo.png": picture()})
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)

    def post(path: str, **data: object) -> int:
        data = {"csrf_token": token, "version": version_of(site, report_id), **data}
        return analyst.post(f"/reports/{report_id}{path}", data=data).status_code

    assert post("/claim") == 303
    with site.instance.db.transaction() as session:
        file_id = session.execute(select(ReportFileRow.id)).scalar_one()
    assert post("/incident-type", incident_type="Child Sex Trafficking") == 303
    assert post("/annotations", annotation=["sextortion", "minorToMinorInteraction"]) == 303
    assert post(f"/files/{file_id}/classification", classification="none", annotation=["potentialMeme"]) == 303
    assert post("/notes", text="Profile checked; the account is new.") == 303
    assert post("/escalate", note="Second opinion on the age") == 303
    assert post("/ready-for-referral") == 303
    assert post("/close", outcome="informational", reason="No child identifiable; kept for information") == 303
    with site.instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        file = session.get(ReportFileRow, file_id)
        assert row.state == "informational" and row.reviewed_incident_type == "Child Sex Trafficking"
        assert row.incident_type == "Online Enticement of Children for Sexual Acts"  # the reporter's own fact stays
        assert row.reviewed_annotations == {"annotations": ["minorToMinorInteraction", "sextortion"]}
        assert file.reviewed_classification == "none"
        assert row.closed_reason.startswith("No child identifiable")
    done = actions(site, report_id)
    for action in ("review.incident_type", "review.annotations", "review.file_classified", "review.note_added",
                   "review.escalated", "review.ready_for_referral"):
        assert action in done
    page = analyst.get(f"/reports/{report_id}").text
    assert "Profile checked; the account is new." in page and "closed: No child identifiable" in page


def test_a_stale_form_changes_nothing(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    stale = version_of(site, report_id)
    assert analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token, "version": stale}).status_code == 303
    response = analyst.post(f"/reports/{report_id}/incident-type",
                            data={"csrf_token": token, "version": stale, "incident_type": "Child Sex Tourism"})
    assert response.status_code == 409 and "changed by someone else" in response.text
    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).reviewed_incident_type is None


def test_two_analysts_cannot_both_hold_a_report(site: Site) -> None:
    report_id = file_report(site)
    with site.instance.db.transaction() as session:
        site.instance.accounts.add_user(session, "second", Role.ANALYST,
                                        Actor.system("test"), password="correct horse battery staple")
    first, second = site.signed_in("analyst"), site.signed_in("second")
    version = version_of(site, report_id)
    t1, t2 = token_of(first.get("/queue").text), token_of(second.get("/queue").text)
    assert first.post(f"/reports/{report_id}/claim", data={"csrf_token": t1, "version": version}).status_code == 303
    late = second.post(f"/reports/{report_id}/claim", data={"csrf_token": t2, "version": version})
    assert late.status_code == 409
    decide = second.post(f"/reports/{report_id}/close", data={"csrf_token": t2, "outcome": "closed_no_action",
                                                             "reason": "x"})
    assert decide.status_code == 409 and "held by someone else" in decide.text
    supervisor = site.signed_in("supervisor")
    ts = token_of(supervisor.get("/queue").text)
    assert supervisor.post(f"/reports/{report_id}/notes", data={"csrf_token": ts, "text": "looked"}).status_code == 303


def test_a_decision_not_allowed_in_the_current_state_is_refused(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/queue").text)
    response = analyst.post(f"/reports/{report_id}/close",
                            data={"csrf_token": token, "outcome": "informational", "reason": "x"})
    assert response.status_code == 409 and "claim it first" in response.text
    empty_reason = analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token})
    assert empty_reason.status_code == 303
    no_reason = analyst.post(f"/reports/{report_id}/close", data={"csrf_token": token, "outcome": "informational",
                                                                  "reason": "  "})
    assert no_reason.status_code == 400 and "give a reason" in no_reason.text
    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).state == "in_review"


def test_linking_and_dismissing_a_link(site: Site) -> None:
    first = file_report(site)
    other_person = [{"screenName": "someone_else", "espService": "Chirp"}]
    second = file_report(site, sample_content(personOrUserReported=other_person))
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/queue").text)
    analyst.post(f"/reports/{second}/claim", data={"csrf_token": token})
    assert analyst.post(f"/reports/{second}/links", data={"csrf_token": token, "other_report": f"#{first}",
                                                          "reason": "same family named"}).status_code == 303
    assert f'href="/reports/{first}"' in analyst.get(f"/reports/{second}").text
    assert analyst.post(f"/reports/{second}/links/{first}/dismiss", data={"csrf_token": token}).status_code == 303
    page = analyst.get(f"/reports/{second}").text
    assert "Linked reports (0)" in page


def test_previews_are_blurred_and_greyscale_until_an_audited_reveal(site: Site) -> None:
    report_id = file_report(site, files={"photo.png": picture()})
    with site.instance.db.transaction() as session:
        file_id = session.execute(select(ReportFileRow.id)).scalar_one()
    analyst = site.signed_in("analyst")
    page = analyst.get(f"/reports/{report_id}").text
    assert f'src="/files/{file_id}/preview"' in page and "Blurred greyscale preview" in page
    blurred = Image.open(io.BytesIO(analyst.get(f"/files/{file_id}/preview").content)).convert("RGB")
    pixels = np.asarray(blurred).astype(int)
    assert np.abs(pixels[..., 0] - pixels[..., 1]).max() <= 3  # greyscale
    assert np.abs(np.diff(pixels[..., 0], axis=1)).max() < 40  # blurred: no sharp block edges left

    revealed = analyst.post(f"/files/{file_id}/reveal", headers={"Accept": "application/json",
                                                                 "X-CSRF-Token": token_of(page)})
    url = revealed.json()["url"]
    clear = np.asarray(Image.open(io.BytesIO(analyst.get(url).content)).convert("RGB")).astype(int)
    assert np.abs(clear[..., 0] - clear[..., 1]).max() > 30  # colour is back
    assert "file.revealed" in actions(site, report_id)
    other = site.signed_in("supervisor")
    assert other.get(url).status_code == 403  # the reveal belongs to the session that asked for it


def test_search_by_identifier_hash_near_pdq_and_text(site: Site) -> None:
    image = picture(7)
    with_image = file_report(site, files={"a.png": image})
    plain = file_report(site, sample_content(additionalInfo="The account used a yellow submarine avatar."))
    analyst = site.signed_in("analyst")
    by_phone = analyst.get("/search", params={"kind": "phone", "identifier": "202-555-0143"}).text
    assert f'href="/reports/{with_image}"' in by_phone and "+12025550143" in by_phone
    with site.instance.db.transaction() as session:
        file = session.execute(select(ReportFileRow)).scalar_one()
    assert f'href="/reports/{with_image}"' in analyst.get("/search", params={"hash": file.md5}).text
    edited = Image.open(io.BytesIO(image)).convert("RGB").resize((230, 180))
    from tipline.media import pdq_from_image

    near = pdq_from_image(edited).hex
    found = analyst.get("/search", params={"hash": near}).text
    assert f'href="/reports/{with_image}"' in found and "image PDQ of file" in found
    text = analyst.get("/search", params={"q": "yellow submarine"}).text
    assert f'href="/reports/{plain}"' in text and f'href="/reports/{with_image}"' not in text
    bad = analyst.get("/search", params={"hash": "xyz"})
    assert bad.status_code == 400 and "hexadecimal" in bad.text
    with site.instance.db.transaction() as session:
        assert session.execute(select(AuditEventRow).where(AuditEventRow.action == "search.performed")).first()


def test_a_supervisor_changes_the_weights_and_waiting_reports_are_scored_again(site: Site) -> None:
    report_id = file_report(site)
    with site.instance.db.transaction() as session:
        before = session.get(ReportRow, report_id).priority_score
    supervisor = site.signed_in("supervisor")
    page = supervisor.get("/supervisor/triage").text
    fields = dict(re.findall(r'name="([a-z0-9_]+)" value="(\d+)"', page))
    assert fields["shared_identifier_per_report"] == "4"
    fields.update({"csrf_token": token_of(page), "victim_age_13_to_15": "70"})
    saved = supervisor.post("/supervisor/triage", data=fields)
    assert saved.status_code == 303
    with site.instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        assert row.priority_score == before - 15 + 70  # the 13-year-old victim now weighs 70 instead of 15
        assert row.priority == "P1"
    fields.update({"p1_from": "10", "p2_from": "20"})
    refused = supervisor.post("/supervisor/triage", data=fields)
    assert refused.status_code == 400 and "thresholds must fall" in refused.text
    assert "triage.weights_changed" in [a for a in _all_actions(site)]


def _all_actions(site: Site) -> list[str]:
    with site.instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow.action)).scalars())


def test_the_supervisor_view_shows_workload_and_escalations(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/queue").text)
    analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token})
    analyst.post(f"/reports/{report_id}/escalate", data={"csrf_token": token, "note": "threats of self-harm"})
    page = site.signed_in("supervisor").get("/supervisor").text
    assert "analyst" in page and "threats of self-harm" in page and f'href="/reports/{report_id}"' in page


def test_an_analyst_applies_the_detectors_suggestions_in_one_click(site: Site) -> None:
    data = sample_content(internetDetails=[{"chatImIncident": {"chatClient": "Chirp", "content": SEXTORTION}}])
    data["incidentSummary"]["incidentType"] = "Misleading Words or Digital Images on the Internet"
    del data["incidentSummary"]["reportAnnotations"]
    report_id = file_report(site, data)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/queue").text)
    analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token})
    page = analyst.get(f"/reports/{report_id}").text
    assert "Apply the suggested incident type" in page and "Apply the suggested annotation" in page
    version = version_of(site, report_id)
    analyst.post(f"/reports/{report_id}/incident-type", data={
        "csrf_token": token, "version": version, "incident_type": "Online Enticement of Children for Sexual Acts"})
    with site.instance.db.transaction() as session:
        suggested = session.execute(select(ConversationAnalysisRow.suggested_annotations)).scalar_one()["annotations"]
    assert "sextortion" in suggested
    analyst.post(f"/reports/{report_id}/annotations", data={
        "csrf_token": token, "version": version_of(site, report_id), "annotation": suggested})
    page = analyst.get(f"/reports/{report_id}").text
    assert "Apply the suggested" not in page
    with site.instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
    assert row.reviewed_incident_type == "Online Enticement of Children for Sexual Acts"
    assert row.reviewed_annotations == {"annotations": sorted(suggested)}


def test_the_supervisor_view_reminds_of_referrals_not_opened(site: Site) -> None:
    page = site.signed_in("supervisor").get("/supervisor").text
    assert 'id="referral-reminders"' in page and "Referrals not opened (0)" in page


def test_an_analyst_adds_a_files_hashes_to_a_bank_and_the_match_shows(site: Site) -> None:
    report_id = file_report(site, files={"photo.png": picture(11)})
    with site.instance.db.transaction() as session:
        site.instance.banks.create(session, "reviewed-known", "known_material", Actor.system("test"))
        file_id = session.execute(select(ReportFileRow.id)).scalar_one()
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get("/queue").text)
    analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token})
    page = analyst.get(f"/reports/{report_id}").text
    assert "No match in any bank: possibly new material." in page
    response = analyst.post(f"/reports/{report_id}/files/{file_id}/bank",
                            data={"csrf_token": token, "bank": "reviewed-known"})
    assert response.status_code == 303
    page = analyst.get(f"/reports/{report_id}").text
    assert "<strong>reviewed-known</strong>" in page and f"tipline report {report_id}" in page
    with site.instance.db.transaction() as session:
        entries = list(site.instance.banks.entries(session, "reviewed-known"))
        row = session.get(ReportRow, report_id)
    assert {e.signal_type.value for e in entries} == {"md5", "sha256", "pdq"}
    assert all(e.added_by == "analyst" and e.source_id == file_id for e in entries)
    assert "known_material_match" in {r["code"] for r in row.priority_reasons["reasons"]}
    assert "review.file_banked" in actions(site, report_id)
    unknown = analyst.post(f"/reports/{report_id}/files/{file_id}/bank", data={"csrf_token": token, "bank": "nope"})
    assert unknown.status_code == 400 and "no bank named" in unknown.text


def test_files_found_in_a_zip_are_shown_under_their_archive_blurred_like_any_file(site: Site) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("trip/one.png", picture(4))
        zipped.writestr("trip/two.png", picture(5))
    report_id = file_report(site, files={"trip.zip": archive.getvalue()})
    with site.instance.db.transaction() as session:
        rows = {r.file_name: r for r in session.execute(
            select(ReportFileRow).where(ReportFileRow.report_id == report_id)).scalars()}
    page = site.signed_in("analyst").get(f"/reports/{report_id}").text
    assert "2 files inside, listed below" in page
    member = rows["one.png"]
    row_html = page[page.index(f'id="file-{member.id}"'):]
    row_html = row_html[:row_html.index("</tr>")]
    assert f'Found in <a href="#file-{rows["trip.zip"].id}">trip.zip</a> at <code>trip/one.png</code>' in row_html
    assert f'src="/files/{member.id}/preview"' in row_html  # blurred by default, as every picture
