"""A supervisor assigns a waiting report by choosing a reviewer from a list (with how many reports each
holds), not by typing a username."""

from __future__ import annotations

import re

import lxml.html
from support import sample_content
from websupport import Site


def test_the_assign_form_lists_the_people_who_can_review_and_assigns(site: Site) -> None:
    report_id = site.esp("chirp").post("/api/v1/reports", json=sample_content()).json()["reportId"]
    site.drain()
    supervisor = site.signed_in("supervisor")
    page = supervisor.get(f"/reports/{report_id}")
    root = lxml.html.fromstring(page.text)
    options = {o.get("value"): " ".join(o.text_content().split()) for o in root.xpath("//select[@id='assign-to']/option")}
    assert set(options) == {"analyst", "supervisor"}  # reviewers only: not the admin, an agency or victim ID
    assert options["analyst"].endswith("holding 0")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    token = match.group(1)
    version = root.xpath("//form[@action=$a]//input[@name='version']/@value", a=f"/reports/{report_id}/assign")[0]
    done = supervisor.post(f"/reports/{report_id}/assign", data={"username": "analyst", "csrf_token": token,
                                                                 "version": version})
    assert done.status_code == 303
    with site.instance.db.transaction() as session:
        row = site.instance.reports.row(session, report_id)
        assert row.state == "in_review" and row.assigned_to is not None
