"""Conversations on the report page (flagged messages marked and labelled) and the analysis API."""

from __future__ import annotations

import re

from sqlalchemy import select
from support import sample_content
from websupport import Site

from tipline.store.tables import AuditEventRow

CHAT = "\n".join([
    "[2026-10-01 20:01] nightowl77: you seem really mature for your age",
    "[2026-10-01 20:03] nightowl77: how old are you? what grade are you in?",
    "[2026-10-01 20:04] robin_k: 13",
    "[2026-10-01 20:05] nightowl77: are your parents home right now?",
    "[2026-10-01 20:06] nightowl77: don't tell your parents about me, this is our secret",
    "[2026-10-01 20:07] nightowl77: send me a picture of yourself",
    "[2026-10-01 20:10] nightowl77: if you don't pay $200 in gift cards I'll send it to your school",
])


def test_the_report_page_marks_the_flagged_messages(site: Site) -> None:
    data = sample_content(internetDetails=[{"chatImIncident": {"chatClient": "Chirp", "content": CHAT}}])
    report_id = site.esp().post("/api/v1/reports", json=data).json()["reportId"]
    site.drain()
    page = site.signed_in("analyst").get(f"/reports/{report_id}").text
    assert 'id="conversations"' in page
    assert re.search(r'class="badge level-(high|critical)"', page)
    assert "suspected: <strong>nightowl77</strong>" in page
    flagged = re.findall(r'<li id="msg-\d+-(\d+)" class="flagged', page)
    assert flagged, "no message was marked"
    assert "demanding secrecy, isolating from carers" in page
    assert "<mark>" in page
    assert "Suggested:" in page and "Sextortion" in page


def test_viewing_an_attached_chat_log_is_an_audited_read(site: Site) -> None:
    report = site.esp().post("/api/v1/reports?finish=false", json=sample_content()).json()["reportId"]
    with site.instance.db.transaction() as session:
        from tipline.domain.audit import Actor

        site.instance.files.add(session, report, (b"time,author,text\n2026-10-02 18:00,gamerpal,how old r u\n"
                                                  b"2026-10-02 18:01,kid22,13\n"
                                                  b"2026-10-02 18:02,gamerpal,send me a pic of yourself\n"
                                                  b"2026-10-02 18:03,gamerpal,dont tell ur parents ok\n"),
                                file_name="chat.csv", actor=Actor.system("test"))
    site.esp().post(f"/api/v1/reports/{report}/finish")
    site.drain()
    page = site.signed_in("supervisor").get(f"/reports/{report}").text
    assert "Attached chat log chat.csv" in page
    assert re.search(r"<mark>[^<]*pic[^<]*</mark>", page), "the request for a picture is not marked"
    with site.instance.db.transaction() as session:
        reads = [(e.actor_name, e.details["purpose"]) for e in session.execute(
            select(AuditEventRow).where(AuditEventRow.action == "file.read")).scalars()]
    assert ("supervisor", "conversation view") in reads


def test_a_provider_analyses_a_conversation_through_the_api(site: Site) -> None:
    conversation = {
        "id": "c-17", "platform": "Chirp",
        "participants": [{"id": "u1", "display_name": "Night Owl", "claimed_age": 15},
                         {"id": "u2", "display_name": "Robin", "claimed_age": 13}],
        "messages": [{"id": str(n), "author": author, "time": f"2026-10-01T20:0{n}:00Z", "text": text}
                     for n, (author, text) in enumerate([
                         ("u1", "you seem really mature for your age"), ("u1", "how old are you?"), ("u2", "13"),
                         ("u1", "don't tell your parents about me"), ("u1", "send me a picture of yourself"),
                         ("u1", "I'll buy you a gift card if you do")])],
    }
    response = site.esp().post("/api/v1/conversations/analyze", json=conversation)
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == {"conversation_id", "risk", "level", "suspected_author", "first_alert_message", "tactics",
                           "suggested_incident_type", "suggested_annotations", "disclosure"}
    assert result["conversation_id"] == "c-17" and result["suspected_author"] == "u1"
    assert result["disclosure"] is None  # the suspect speaks for himself
    assert {"secrecy", "image_request", "incentive"} <= {t["tactic"] for t in result["tactics"]}
    several = site.esp().post("/api/v1/conversations/analyze", json=[conversation, {**conversation, "id": "c-18"}])
    assert [r["conversation_id"] for r in several.json()] == ["c-17", "c-18"]


def test_a_malformed_conversation_is_refused_precisely(site: Site) -> None:
    response = site.esp().post("/api/v1/conversations/analyze", json={"id": "x", "messages": []})
    assert response.status_code == 422 and "messages" in response.text
    response = site.esp().post("/api/v1/conversations/analyze",
                               json={"id": "x", "messages": [{"id": "1", "author": "a", "text": "hi", "mood": "?"}]})
    assert response.status_code == 422 and "mood" in response.text
