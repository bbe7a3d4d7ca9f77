"""Victim identification over HTTP: an agency sees notifications about its own series only (another
agency gets the same 404 as a missing one), the registry's pages and API for specialists, galleries
blurred by default, and a "child identified" outcome confirmed into the registry."""

from __future__ import annotations

import re
from pathlib import Path

from referralsupport import Portal, csrf_of, principal, report_in_review
from sqlalchemy import select
from vidsupport import ACTOR, actions, blocks

from tipline.referral.service import refer
from tipline.store.victim_tables import SeriesNotificationRow
from tipline.victims.media import hash_files


def registered(portal: Portal, tmp_path: Path, name: str, seed: int, agency: str | None = None) -> int:
    path = tmp_path / f"{name}.png"
    path.write_bytes(blocks(seed))
    instance = portal.instance
    with instance.db.transaction() as session:
        row = instance.series.create(session, name, ACTOR)
        instance.series.add_media(session, row, hash_files([path]), ACTOR, instance.banks)
        if agency:
            instance.series.identify(session, row, agency, ACTOR, case_reference="IL-77")
        return row.id


def test_only_the_identifying_agency_sees_its_notification(portal: Portal, tmp_path: Path) -> None:
    registered(portal, tmp_path, "Blue Kite", seed=1, agency="us-il-tf")
    report_id = report_in_review(portal.instance, "analyst", files=[("photo.png", blocks(1))])
    with portal.instance.db.transaction() as session:
        notification_id = session.execute(select(SeriesNotificationRow.id)).scalar_one()
    mine = portal.site.signed_in("agency")
    listing = mine.get("/agency/notifications")
    assert listing.status_code == 200 and "Blue Kite" in listing.text and f"#{report_id}" in listing.text
    detail = mine.get(f"/agency/notifications/{notification_id}")
    assert detail.status_code == 200 and "IL-77" in detail.text and "chirp" in detail.text
    assert "<img" not in detail.text and "/files/" not in detail.text  # never the media
    other = portal.site.signed_in("agency2")
    assert "Blue Kite" not in other.get("/agency/notifications").text
    theirs = other.get(f"/agency/notifications/{notification_id}")
    missing = other.get(f"/agency/notifications/{notification_id + 1000}")
    assert theirs.status_code == missing.status_code == 404
    assert f"notification {notification_id} does not exist" in theirs.text
    assert re.sub(r"notification \d+", "N", theirs.text) == re.sub(r"notification \d+", "N", missing.text)
    assert "series.notification_read" in actions(portal.instance)


def test_specialists_work_the_registry_on_pages_and_in_the_api(portal: Portal, tmp_path: Path) -> None:
    series_id = registered(portal, tmp_path, "Red Fox", seed=2)
    report_id = report_in_review(portal.instance, "analyst", files=[("photo.png", blocks(2))])
    client = portal.site.signed_in("victimid")
    listing = client.get("/series?sort=reports")
    assert listing.status_code == 200 and "Red Fox" in listing.text and "1 new appearance" in listing.text
    page = client.get(f"/series/{series_id}")
    assert page.status_code == 200 and f"Report {report_id}" in page.text
    previews = re.findall(r'<img src="([^"]+)"', page.text)
    assert previews and all(src.endswith("/preview") for src in previews)  # blurred: no reveal token
    queue = client.get("/victim-id/queue")
    assert queue.status_code == 200 and f"Report {report_id}" in queue.text
    assert all(src.endswith("/preview") for src in re.findall(r'<img src="([^"]+)"', queue.text))
    token = csrf_of(client, f"/series/{series_id}")
    refused = client.post(f"/series/{series_id}/victims", data={"pseudonym": "call 5550123456", "sex": "female",
                                                                 "age_band": "6-9", "csrf_token": token})
    assert refused.status_code == 400 and "no direct identifiers" in refused.text
    added = client.post(f"/series/{series_id}/victims", data={"pseudonym": "Child A", "sex": "female",
                                                               "age_band": "6-9", "csrf_token": token})
    assert added.status_code == 303
    headers = {"X-CSRF-Token": token}
    api = client.get(f"/api/v1/series/{series_id}").json()
    assert api["reports"] == [report_id] and api["victims"][0]["pseudonym"] == "Child A"
    assert client.post(f"/api/v1/series/{series_id}/identify", json={"agency": "zz-none"},
                       headers=headers).json()["message"] == "there is no agency with code 'zz-none' (see `tipline agencies list`)"
    assert client.post(f"/api/v1/series/{series_id}/merge", json={"into": series_id}, headers=headers).status_code == 422
    created = client.post("/api/v1/series", json={"name": "Green Owl"}, headers=headers)
    assert created.status_code == 201 and created.json()["status"] == "unidentified"
    identified = client.post(f"/api/v1/series/{series_id}/identify", json={"agency": "gb-ncsu"}, headers=headers)
    assert identified.json()["identified_by"] == "gb-ncsu"
    assert [s["name"] for s in client.get("/api/v1/series?sort=name").json()] == ["Green Owl", "Red Fox"]
    assert portal.site.signed_in("analyst").get(f"/series/{series_id}").status_code == 403
    schema = portal.site.client().get("/openapi.json").json()["paths"]
    assert {"/api/v1/series", "/api/v1/series/{series_id}", "/api/v1/clusters", "/api/v1/clusters/{cluster_id}",
            "/api/v1/clusters/{cluster_id}/promote"} <= set(schema)
    assert "series.viewed" in actions(portal.instance)


def test_a_child_identified_outcome_is_confirmed_into_the_registry(sqlite_portal: Portal, tmp_path: Path) -> None:
    portal = sqlite_portal
    series_id = registered(portal, tmp_path, "Red Fox", seed=2)
    report_id = report_in_review(portal.instance, "analyst", files=[("photo.png", blocks(2))])
    referral = refer(portal.instance, report_id, principal(portal.instance, "analyst"), "us-il-tf").referral
    agency = portal.site.signed_in("agency")
    token = csrf_of(agency, f"/agency/referrals/{referral.id}")
    assert agency.post(f"/agency/referrals/{referral.id}/outcomes",
                       data={"outcome": "child_identified", "csrf_token": token}).status_code == 303
    specialist = portal.site.signed_in("victimid")
    page = specialist.get(f"/series/{series_id}")
    assert "reported \"child identified\" on referral" in page.text.replace("&#34;", '"')
    confirmation = re.search(r'action="/series/confirmations/(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    token = csrf_of(specialist, f"/series/{series_id}")
    assert specialist.post(f"/series/confirmations/{confirmation}",
                           data={"decision": "confirm", "csrf_token": token}).status_code == 303
    data = specialist.get(f"/api/v1/series/{series_id}").json()
    assert data["status"] == "identified" and data["identified_by"] == "us-il-tf"
    assert data["case_reference"] == f"referral {referral.id}"


def test_a_specialist_splits_a_series_on_its_page(portal: Portal, tmp_path: Path) -> None:
    first = registered(portal, tmp_path, "Blue Kite", seed=1)
    path = tmp_path / "second.png"
    path.write_bytes(blocks(2))
    instance = portal.instance
    with instance.db.transaction() as session:
        kite = instance.series.get(session, first)
        instance.series.add_media(session, kite, hash_files([path]), ACTOR, instance.banks)
        moving = [row.id for row, _bank in instance.series.media(session, kite) if row.source_id == "second.png"]
    client = portal.site.signed_in("victimid")
    page = client.get(f"/series/{first}")
    assert all(f'value="{entry}" form="split-form"' in page.text for entry in moving)
    token = csrf_of(client, f"/series/{first}")
    refused = client.post(f"/series/{first}/split", data={"name": "Nothing chosen", "csrf_token": token})
    assert refused.status_code == 400 and "Nothing was changed" in refused.text
    split = client.post(f"/series/{first}/split", data={"name": "Second Kite", "entry": [str(e) for e in moving],
                                                        "csrf_token": token})
    assert split.status_code == 303
    new_page = client.get(split.headers["location"])
    assert "Split: the chosen media now belong to this new series." in new_page.text and "Second Kite" in new_page.text
    with instance.db.transaction() as session:
        new = instance.series.find(session, "Second Kite")
        assert sorted(row.source_id for row, _ in instance.series.media(session, new) if row.enabled) == \
            ["second.png"] * len(moving)
        assert all(row.source_id != "second.png"
                   for row, _ in instance.series.media(session, instance.series.get(session, first)) if row.enabled)
