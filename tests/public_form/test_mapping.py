"""Every answer of the form lands in the report where analysts expect it, and the report goes
through the normal pipeline (identifiers included) like any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from public_form.formsupport import MINIMAL, FormClient, counts, load
from sqlalchemy import select
from websupport import Site

from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportSource
from tipline.store.tables import AuditEventRow

EVERYTHING = {
    "what": "sextortion",
    "description": "Someone my son met in a game says he will post a photo unless he pays.\nHe is scared.",
    "danger": "yes",
    "where": "chat",
    "platform": "Chirp",
    "links": "https://chirp.example/chat/4471\n\nchirp.example/post/99",
    "when_date": "2025-03-14",
    "when_time": "18:30",
    "when_note": "It started the weekend before",
    "tz": "America/Chicago",
    "child_age": "14",
    "child_gender": "male",
    "child_username": "river_kid_09",
    "other_usernames": "@Shadow.Fox\nfoxy_gamer_22",
    "other_profiles": "https://chirp.example/u/shadowfox",
    "other_first_name": "Casey",
    "other_last_name": "Moreland",
    "other_email": "shadow.fox@example.com",
    "other_phone": "+1 202 555 0143",
    "other_age": "25",
    "other_description": "Says he lives in Springfield and plays every night.",
    "relationship": "parent_or_carer",
    "offender_known": "online_only",
    "contact_name": "Jordan Avery",
    "contact_email": "jordan.avery@example.org",
    "contact_phone": "(202) 555-0178",
    "may_contact": "yes",
}


def test_every_answer_maps_onto_the_report_and_reaches_review_with_its_identifiers(
    site_on_each_backend: Site,
) -> None:
    site = site_on_each_backend
    visitor = FormClient(site)
    number, _ = visitor.receipt(visitor.send(EVERYTHING))
    site.drain()

    report = load(site, number)
    assert report.state == ReportState.AWAITING_REVIEW
    assert report.source == ReportSource.PUBLIC_FORM
    assert report.submitted_by is None
    assert report.content.to_wire() == {
        "incidentSummary": {
            "incidentType": "Online Enticement of Children for Sexual Acts",
            "platform": "Chirp",
            "escalateToHighPriority": "The reporter says a child is in danger right now.",
            "reportAnnotations": {"sextortion": True},
            "incidentDateTime": "2025-03-14T18:30:00-05:00",
            "incidentDateTimeDescription": "Time zone: America/Chicago (from the reporter's browser). "
                                           "In the reporter's words: It started the weekend before",
        },
        "internetDetails": [
            {"chatImIncident": {"chatClient": "Chirp"}},
            {"webPageIncident": {"url": ["https://chirp.example/chat/4471", "chirp.example/post/99"]}},
        ],
        "personOrUserReported": [
            {
                "espService": "Chirp",
                "screenName": "@Shadow.Fox",
                "profileUrl": ["https://chirp.example/u/shadowfox"],
                "personOrUserReportedPerson": {
                    "firstName": "Casey",
                    "lastName": "Moreland",
                    "email": [{"value": "shadow.fox@example.com"}],
                    "phone": [{"value": "+1 202 555 0143"}],
                    "age": 25,
                },
            },
            {"espService": "Chirp", "screenName": "foxy_gamer_22"},
        ],
        "victim": [{"espService": "Chirp", "screenName": "river_kid_09", "victimPerson": {"age": 14}}],
        "publicReport": {
            "description": "Someone my son met in a game says he will post a photo unless he pays.\nHe is scared.",
            "reporterRelationship": "parent_or_carer",
            "childInDangerNow": True,
            "childGender": "male",
            "childAge": {"low": 14, "high": 14, "words": "14"},
            "otherPersonAge": {"low": 25, "high": 25, "words": "25"},
            "otherPersonDescription": "Says he lives in Springfield and plays every night.",
            "offenderKnown": "online_only",
            "language": "en",
            "contact": {"name": "Jordan Avery", "email": "jordan.avery@example.org", "phone": "(202) 555-0178",
                        "mayContact": True},
        },
    }

    with site.instance.db.transaction() as session:
        found = {(shared.row.kind, shared.row.raw, shared.row.role)
                 for shared in site.instance.identifiers.of_report(session, number)}
    assert found == {
        ("screen_name", "@Shadow.Fox", "reported"),
        ("screen_name", "foxy_gamer_22", "reported"),
        ("email", "shadow.fox@example.com", "reported"),
        ("phone", "+1 202 555 0143", "reported"),
        ("profile_url", "https://chirp.example/u/shadowfox", "reported"),
        ("screen_name", "river_kid_09", "victim"),
        ("url", "https://chirp.example/chat/4471", "incident"),
        ("url", "chirp.example/post/99", "incident"),
        ("email", "jordan.avery@example.org", "reporter"),  # a public reporter's own details link too
        ("phone", "(202) 555-0178", "reporter"),
    }


@pytest.mark.parametrize(("typed", "low", "high", "exact"), [
    ("about 14", 14, 14, 14),
    ("fourteen-ish", 14, 14, 14),
    ("13 or 14", 13, 14, None),
    ("a teenager", 13, 17, None),
])
def test_a_childs_age_given_as_a_guess_is_kept_as_a_range_with_the_words(
    site: Site, visitor: FormClient, typed: str, low: int, high: int, exact: int | None
) -> None:
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "child_age": typed, "other_age": "maybe 20s"}))
    content = load(site, number).content
    assert content.public_report.child_age.model_dump() == {"low": low, "high": high, "words": typed}
    assert [victim.person.age for victim in content.victims] == [exact]
    other = content.public_report.other_person_age
    assert (other.low, other.high, other.words) == (20, 29, "maybe 20s")
    # an exact age is the schema's age; a range is not claimed as one
    assert content.persons_or_users_reported == []


def test_a_range_of_ages_counts_in_triage_as_its_youngest_end(site: Site, visitor: FormClient) -> None:
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "child_age": "11 or 12"}))
    site.drain()
    with site.instance.db.transaction() as session:
        row = site.instance.reports.row(session, number)
    reasons = {reason["code"]: reason for reason in row.priority_reasons["reasons"]}
    assert "victim_age_12_or_under" in reasons, sorted(reasons)


def test_a_username_named_in_two_reports_links_them(site: Site, visitor: FormClient) -> None:
    first, _ = visitor.receipt(visitor.send({**MINIMAL, "platform": "Chirp", "other_usernames": "@Shadow.Fox"}))
    second, _ = visitor.receipt(visitor.send({**MINIMAL, "platform": "chirp", "other_usernames": "shadow.fox"}))
    site.drain()
    with site.instance.db.transaction() as session:
        linked = [other.id for _, other in site.instance.identifiers.links_of(session, second)]
    assert linked == [first]


def test_a_cash_app_tag_in_two_parents_descriptions_links_the_reports(site: Site, visitor: FormClient) -> None:
    first, _ = visitor.receipt(visitor.send({**MINIMAL, "description": "Someone wants $300 on Cash App to "
                                                                        "$Jake_Money99 or he shares my son's photo."}))
    second, _ = visitor.receipt(visitor.send({**MINIMAL, "description": "my daughter was told to pay "
                                                                         "$jake_money99 by friday 6pm"}))
    site.drain()
    with site.instance.db.transaction() as session:
        linked = [other.id for _, other in site.instance.identifiers.links_of(session, second)]
        kinds = {(shared.row.kind, shared.row.value) for shared in site.instance.identifiers.of_report(session, first)}
    assert linked == [first]
    assert ("payment", "cashapp:$jake_money99") in kinds


def test_a_parents_description_of_a_sextortion_deadline_makes_the_report_p1_with_the_words(
        site: Site, visitor: FormClient) -> None:
    sentence = "He says he will send her photo to her school unless she pays $500 in gift cards by Friday 6pm."
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "description": f"My daughter is 14. {sentence}"}))
    site.drain()
    with site.instance.db.transaction() as session:
        row = site.instance.reports.row(session, number)
    assert row.priority == "P1"
    reasons = {reason["code"]: reason for reason in row.priority_reasons["reasons"]}
    quoted = [evidence["text"] for evidence in reasons["sextortion_threat"]["evidence"]]
    assert sentence in quoted
    assert reasons["victim_age_13_to_15"]["evidence"][0]["text"] == "My daughter is 14."


def test_a_minimal_report_is_anonymous_and_dated_when_it_was_sent(site: Site, visitor: FormClient) -> None:
    before = datetime.now(UTC)
    number, _ = visitor.receipt(visitor.send(MINIMAL))
    after = datetime.now(UTC)
    report = load(site, number)
    wire = report.content.to_wire()
    assert set(wire) == {"incidentSummary", "publicReport"}
    # relationship "not_said" is the default; the form records the language it was filled in
    assert wire["publicReport"] == {"description": MINIMAL["description"], "language": "en"}
    assert report.content.public_report.contact is None
    assert report.content.public_report.reporter_relationship == "not_said"
    assert report.content.reporter is None
    summary = report.content.incident_summary
    assert summary.incident_type.value == "Online Enticement of Children for Sexual Acts"
    assert summary.escalate_to_high_priority is None and summary.report_annotations is None
    assert before - timedelta(seconds=1) <= summary.incident_date_time <= after + timedelta(seconds=1)
    assert summary.incident_date_time.utcoffset() == timedelta(0)  # no browser zone: the default, UTC
    assert summary.incident_date_time_description == "The reporter gave no date; this is when the report was sent."


@pytest.mark.parametrize(("what", "incident_type", "sextortion"), [
    ("sextortion", "Online Enticement of Children for Sexual Acts", True),
    ("enticement", "Online Enticement of Children for Sexual Acts", False),
    ("images", "Child Pornography (possession, manufacture, and distribution)", False),
    ("sent_to_child", "Unsolicited Obscene Material Sent to a Child", False),
    ("abuse", "Child Sexual Molestation", False),
    ("trafficking", "Child Sex Trafficking", False),
    ("travel", "Child Sex Tourism", False),
    ("misleading_words", "Misleading Words or Digital Images on the Internet", False),
    ("misleading_site", "Misleading Domain Name", False),
])
def test_each_answer_to_what_happened_is_its_incident_type(
    site: Site, visitor: FormClient, what: str, incident_type: str, sextortion: bool
) -> None:
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "what": what}))
    summary = load(site, number).content.to_wire()["incidentSummary"]
    assert summary["incidentType"] == incident_type
    assert summary.get("reportAnnotations") == ({"sextortion": True} if sextortion else None)


@pytest.mark.parametrize(("where", "details"), [
    ("chat", [{"chatImIncident": {"chatClient": "Pixelgram"}}]),
    ("social", [{"webPageIncident": {"url": ["https://pixelgram.example/p/1"]}}]),
    ("game", [{"onlineGamingIncident": {"gameName": "Pixelgram"}},
              {"webPageIncident": {"url": ["https://pixelgram.example/p/1"]}}]),
    ("email", [{"emailIncident": {"emailAddress": [{"value": "blue.heron@example.net"}]}},
               {"webPageIncident": {"url": ["https://pixelgram.example/p/1"]}}]),
    ("phone", [{"cellPhoneIncident": {"phoneNumber": {"value": "202-555-0199"}}},
               {"webPageIncident": {"url": ["https://pixelgram.example/p/1"]}}]),
    ("offline", [{"nonInternetIncident": {"locationName": "Pixelgram"}},
                 {"webPageIncident": {"url": ["https://pixelgram.example/p/1"]}}]),
    ("other", [{"webPageIncident": {"url": ["https://pixelgram.example/p/1"]}}]),
])
def test_each_answer_to_where_is_its_kind_of_internet_details(
    site: Site, visitor: FormClient, where: str, details: list[dict[str, object]]
) -> None:
    answers = {**MINIMAL, "where": where, "platform": "Pixelgram", "other_email": "blue.heron@example.net",
               "other_phone": "202-555-0199"}
    if where != "chat":
        answers["links"] = "https://pixelgram.example/p/1"
    number, _ = visitor.receipt(visitor.send(answers))
    wire = load(site, number).content.to_wire()
    assert wire["internetDetails"] == details
    # in person, the name is a place rather than a service
    assert wire["incidentSummary"].get("platform") == (None if where == "offline" else "Pixelgram")


def test_a_date_without_a_time_and_without_a_browser_zone_uses_the_configured_zone(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(TIPLINE_PUBLIC_FORM_TIME_ZONE="Europe/Berlin")
    visitor = FormClient(site)
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "when_date": "2025-07-01"}))
    summary = load(site, number).content.to_wire()["incidentSummary"]
    assert summary["incidentDateTime"] == "2025-07-01T00:00:00+02:00"
    assert summary["incidentDateTimeDescription"] == (
        "The reporter gave a date without a time. Time zone: Europe/Berlin (assumed: the browser did not say).")


def test_an_unknown_browser_zone_falls_back_to_the_default(site: Site, visitor: FormClient) -> None:
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "when_date": "2025-01-02", "when_time": "07:05",
                                              "tz": "Mars/Olympus_Mons"}))
    summary = load(site, number).content.to_wire()["incidentSummary"]
    assert summary["incidentDateTime"] == "2025-01-02T07:05:00Z"
    assert "assumed" in summary["incidentDateTimeDescription"]


def test_not_sure_words_alone_are_kept_with_the_time_of_the_report(site: Site, visitor: FormClient) -> None:
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "when_note": "sometime last summer"}))
    description = load(site, number).content.incident_summary.incident_date_time_description
    assert description == ("The reporter gave no date; this is when the report was sent. "
                           "In the reporter's words: sometime last summer")


def test_contact_details_without_permission_are_kept_but_not_marked_safe(site: Site, visitor: FormClient) -> None:
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "contact_email": "sam.teacher@example.org",
                                              "relationship": "professional"}))
    public = load(site, number).content.public_report
    assert public.reporter_relationship == "professional"
    assert public.contact is not None
    assert (public.contact.name, public.contact.email, public.contact.phone, public.contact.may_contact) == (
        None, "sam.teacher@example.org", None, False)


def test_only_a_profile_link_still_makes_a_reported_account(site: Site, visitor: FormClient) -> None:
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "other_profiles": "https://chirp.example/u/quietowl"}))
    wire = load(site, number).content.to_wire()
    assert wire["personOrUserReported"] == [{"profileUrl": ["https://chirp.example/u/quietowl"]}]
    assert "victim" not in wire


def test_the_submission_is_audited_as_the_public_even_when_staff_are_signed_in(site: Site) -> None:
    visitor = FormClient(site)
    signed_in = site.signed_in("analyst")
    visitor.http.cookies.update(signed_in.cookies)  # the analyst's session cookie goes along
    number, _ = visitor.receipt(visitor.send(MINIMAL))
    with site.instance.db.transaction() as session:
        events = session.execute(select(AuditEventRow).where(AuditEventRow.report_id == number)).scalars().all()
    submitted = [e for e in events if e.action == "report.submitted"]
    assert len(submitted) == 1
    assert (submitted[0].actor_type, submitted[0].actor_name) == ("public", "public")
    assert load(site, number).source == ReportSource.PUBLIC_FORM


def test_one_submission_is_one_report_one_job_and_its_audit(site: Site, visitor: FormClient) -> None:
    visitor.open()
    before = counts(site.instance)
    visitor.receipt(visitor.send(MINIMAL))
    after = counts(site.instance)
    assert after["reports"] == before["reports"] + 1
    assert after["jobs"] == before["jobs"] + 1
    assert after["audit"] == before["audit"] + 1  # report.submitted
    assert after["files"] == before["files"] and after["blobs"] == before["blobs"]


def test_utc_needs_no_time_zone_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoneinfo import ZoneInfoNotFoundError

    from tipline.web.public_form import questions

    def missing(name: str) -> None:
        raise ZoneInfoNotFoundError(name)

    monkeypatch.setattr(questions, "ZoneInfo", missing)
    zone, from_browser = questions.zone_for("Europe/Paris", "UTC")
    assert (zone.utcoffset(None), questions.zone_name(zone), from_browser) == (timedelta(0), "UTC", False)


def test_analysts_read_a_form_report_on_the_usual_report_page(site: Site, visitor: FormClient) -> None:
    number, _ = visitor.receipt(visitor.send(EVERYTHING))
    site.drain()
    page = site.signed_in("analyst").get(f"/reports/{number}")
    assert page.status_code == 200
    for shown in ("What the reporter told us", "Someone my son met in a game", "@Shadow.Fox", "river_kid_09",
                  "The reporter says a child is in danger right now.", "Public report form"):
        assert shown in page.text, shown
