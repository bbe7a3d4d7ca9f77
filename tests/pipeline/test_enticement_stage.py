"""Every conversation a report carries is analysed in the pipeline: chat text in the report, and chat
logs attached as files; results are stored for the report page and triage."""

from __future__ import annotations

from sqlalchemy import select
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import finish_report, submit_report
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.pipeline.engine.runner import run_stage_now
from tipline.store.accounts import Principal
from tipline.store.tables import AuditEventRow, ConversationAnalysisRow

ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP, api_account_id=None)

SEXTORTION_CHAT = "\n".join([
    "[2026-10-01 20:01] nightowl77: hey you seem really mature for your age",
    "[2026-10-01 20:02] robin_k: lol thanks",
    "[2026-10-01 20:03] nightowl77: how old are you? what grade are you in?",
    "[2026-10-01 20:04] robin_k: 13, 8th grade",
    "[2026-10-01 20:05] nightowl77: are your parents home right now?",
    "[2026-10-01 20:06] nightowl77: don't tell your parents about me ok, this is our secret",
    "[2026-10-01 20:07] nightowl77: send me a picture of yourself",
    "[2026-10-01 20:09] robin_k: I don't want to",
    "[2026-10-01 20:10] nightowl77: I have the photo you sent. If you don't pay $200 in gift cards I'll send it to your school",
])
CHAT_LOG_CSV = "time,author,text\n" + "\n".join([
    "2026-10-02 18:00,gamerpal,you're so much cooler than the kids in your class",
    "2026-10-02 18:01,kid22,haha thanks",
    "2026-10-02 18:02,gamerpal,how old r u",
    "2026-10-02 18:03,kid22,12",
    "2026-10-02 18:04,gamerpal,I'll buy you a gift card if you send me a pic of yourself",
    "2026-10-02 18:05,gamerpal,lets talk on another app where messages disappear. dont tell ur mom",
    "2026-10-02 18:06,gamerpal,can I pick you up after school on friday?",
])
COACH_CHAT = "\n".join([
    "[2026-10-03 17:00] Coach Dana: Great practice today everyone!",
    "[2026-10-03 17:01] Coach Dana: Parents, the game on Saturday starts at 9, please have the kids there by 8:30",
    "[2026-10-03 17:02] Sam's mum: Thanks coach, we'll be there",
])


def _report(instance: Instance, chat: str | None, files: dict[str, bytes] | None = None) -> int:
    data = sample_content(internetDetails=[{"chatImIncident": {"chatClient": "Chirp", "content": chat}}]
                          if chat else [{"webPageIncident": {"url": ["https://chirp.example/x"]}}])
    with instance.db.transaction() as session:
        row = submit_report(instance, session, ReportContent.model_validate(data), ReportSource.ESP_JSON, ESP,
                            finish=False)
        for name, content in (files or {}).items():
            instance.files.add(session, row.id, content, file_name=name, actor=ESP.actor)
        report_id = row.id
    with instance.db.transaction() as session:
        finish_report(instance, session, report_id, ESP)
    assert InProcessWorker(instance).drain(timeout=120)
    return report_id


def _analyses(instance: Instance, report_id: int) -> list[ConversationAnalysisRow]:
    with instance.db.transaction() as session:
        return list(session.execute(select(ConversationAnalysisRow)
                                    .where(ConversationAnalysisRow.report_id == report_id)).scalars())


def test_sextortion_in_the_reports_chat_text_alerts_and_suggests_the_annotation(instance: Instance) -> None:
    report_id = _report(instance, SEXTORTION_CHAT)
    (analysis,) = _analyses(instance, report_id)
    assert analysis.source == "internet_details" and analysis.source_ref == "internetDetails[0].chatImIncident"
    assert analysis.alert and analysis.level in {"high", "critical"}
    assert analysis.suspected_author == "nightowl77"
    assert "sextortion" in analysis.suggested_annotations["annotations"]
    assert analysis.suggested_incident_type == "Online Enticement of Children for Sexual Acts"
    tactics = {t["tactic"] for t in analysis.result["tactics"]}
    assert {"secrecy", "image_request", "sextortion_threat"} <= tactics


def test_an_attached_chat_log_is_read_through_an_audited_system_read(instance: Instance) -> None:
    report_id = _report(instance, None, {"chat.csv": CHAT_LOG_CSV.encode(), "photo.bin": bytes(range(256)) * 4})
    (analysis,) = _analyses(instance, report_id)
    assert analysis.source == "file" and analysis.alert and analysis.suspected_author == "gamerpal"
    with instance.db.transaction() as session:
        purposes = [e.details["purpose"] for e in session.execute(
            select(AuditEventRow).where(AuditEventRow.action == "file.read")).scalars()]
    assert purposes.count("conversation analysis") == 1


def test_a_coachs_team_message_does_not_alert(instance: Instance) -> None:
    report_id = _report(instance, COACH_CHAT)
    (analysis,) = _analyses(instance, report_id)
    assert not analysis.alert and analysis.level in {"none", "low"}


def test_a_text_file_that_is_not_a_conversation_is_noted_not_fatal(instance: Instance) -> None:
    report_id = _report(instance, None, {"readme.txt": b"\x00\x01 this is not a chat log at all"})
    rows = _analyses(instance, report_id)
    assert all(row.error or not row.alert for row in rows)


def test_analysing_again_replaces_the_results(instance: Instance) -> None:
    report_id = _report(instance, SEXTORTION_CHAT)
    run_stage_now(instance, "analyze_conversations", report_id)
    assert len(_analyses(instance, report_id)) == 1


DISCLOSURE_CHAT = "\n".join([
    "[2026-10-04 19:00] maya: mom can i show u something",
    "[2026-10-04 19:01] mom: of course sweetie what is it",
    "[2026-10-04 19:02] maya: this guy on the game keeps messaging me",
    "[2026-10-04 19:03] maya: he said im really mature for 13 and asked if my parents check my phone",
    "[2026-10-04 19:04] mom: what else did he say",
    "[2026-10-04 19:05] maya: he keeps asking me to send him a pic of myself and said dont tell anyone",
    "[2026-10-04 19:06] maya: he said he wants to meet me at the mall on saturday",
    "[2026-10-04 19:07] mom: thank you for telling me, you did the right thing. we'll report it together",
])


def test_a_disclosure_is_stored_with_the_analysis_and_reaches_triage(instance: Instance) -> None:
    from tipline.pipeline.stages.score_priority import collect_facts
    from tipline.store.tables import ReportRow

    report_id = _report(instance, DISCLOSURE_CHAT)
    (analysis,) = _analyses(instance, report_id)
    assert not analysis.alert and analysis.suggested_incident_type is None
    stored = analysis.result["disclosure"]
    assert stored["discloser"] == "maya" and stored["message_ids"]
    assert "meeting" in stored["urgent"]  # the child tells of a planned meeting
    with instance.db.transaction() as session:
        facts = collect_facts(session, session.get(ReportRow, report_id))
    (conversation,) = facts.conversations
    assert conversation.disclosure is not None and conversation.disclosure.discloser == "maya"
    assert "meeting" in conversation.disclosure.urgent
