"""The analyzer: results on a grooming log, streaming equals whole-log analysis, first alerts, hard negatives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tipline.domain.incident import IncidentType
from tipline.enticement import (
    TACTICS,
    Conversation,
    Message,
    Participant,
    StreamingAnalyzer,
    analyze,
    analyze_file,
    analyze_text,
    parse_conversations,
)
from tipline.enticement.evaluation import load_dataset

RESULT_FIELDS = {"conversation_id", "risk", "level", "suspected_author", "first_alert_message", "tactics",
                 "suggested_incident_type", "suggested_annotations", "disclosure"}
CORPUS = Path(__file__).resolve().parents[2] / "data" / "enticement"


def chat(*lines: str, ages: dict[str, int] | None = None) -> Conversation:
    """A conversation from 'author: text' lines."""
    messages = []
    for number, line in enumerate(lines, start=1):
        author, _, text = line.partition(": ")
        messages.append(Message(f"m{number}", author, text))
    authors = dict.fromkeys(m.author for m in messages)
    participants = [Participant(a, a, (ages or {}).get(a)) for a in authors]
    return Conversation("test", messages, participants)


def test_grooming_log_result(data_dir: Path) -> None:
    (conversation,) = parse_conversations((data_dir / "grooming.json").read_bytes())
    result = analyze(conversation)
    assert result.level in ("high", "critical") and result.alert
    assert 0.6 <= result.risk <= 1
    assert result.suspected_author == "nightowl_77"
    assert result.suggested_incident_type == IncidentType.ONLINE_ENTICEMENT.value
    found = {f.tactic for f in result.tactics}
    assert {"age_probe", "risk_check", "secrecy", "platform_move", "image_request", "incentive", "meeting_request"} <= found
    texts = {m.id: m.text for m in conversation.messages}
    for finding in result.tactics:
        assert finding.tactic in TACTICS
        assert finding.author == "nightowl_77"  # the child's replies are never flagged
        assert finding.evidence and finding.evidence in texts[finding.message_id]
        assert 0 < finding.score <= 1
    by_message = result.flagged_messages()
    assert "secrecy" in by_message["m8"]
    assert "tell your parents" in next(f.evidence for f in result.tactics if f.tactic == "secrecy")
    # the alert comes when the author checks for carers after learning the child is 13, not at the hello
    ids = [m.id for m in conversation.messages]
    assert 3 <= ids.index(result.first_alert_message) <= 8


def test_to_dict_has_exactly_the_cli_fields_and_is_json(data_dir: Path) -> None:
    (result,) = analyze_file((data_dir / "grooming.csv").read_bytes(), filename="grooming.csv")
    data = result.to_dict()
    assert set(data) == RESULT_FIELDS
    assert set(data["tactics"][0]) == {"tactic", "message_id", "author", "score", "evidence"}
    assert json.loads(json.dumps(data)) == data
    assert data["conversation_id"] == "grooming.csv"
    assert json.dumps(result.details())


def test_analyze_accepts_the_tipline_json_object(data_dir: Path) -> None:
    raw = json.loads((data_dir / "grooming.json").read_text())
    assert analyze(raw).to_dict() == analyze(parse_conversations(json.dumps(raw))[0]).to_dict()


def test_sextortion_is_critical_with_the_annotation() -> None:
    conversation = chat(
        "ghost.lens: hey cutie, how old are you?",
        "mia_2011: 14",
        "ghost.lens: send me a picture of yourself",
        "mia_2011: [photo]",
        "ghost.lens: I'll share that photo with your school unless you pay $200",
        "mia_2011: please don't, I don't have money",
        "ghost.lens: buy me a gift card or your family sees it. you have 2 hours",
    )
    result = analyze(conversation)
    assert result.level == "critical"
    assert result.suspected_author == "ghost.lens"
    assert "sextortion" in result.suggested_annotations
    assert "sextortion_threat" in {f.tactic for f in result.tactics}


def test_streaming_equals_whole_conversation_analysis_on_the_corpus() -> None:
    items = load_dataset(CORPUS / "dev.jsonl")[:40]
    for item in items:
        conversation = item.conversation
        analyzer = StreamingAnalyzer(conversation.participants, conversation_id=conversation.id)
        for message in conversation.messages:
            analyzer.feed({"id": message.id, "author": message.author, "text": message.text, "time": message.time})
        assert analyzer.result().to_dict() == analyze(conversation).to_dict()


def test_result_at_any_point_is_the_analysis_of_the_prefix(data_dir: Path) -> None:
    (conversation,) = parse_conversations((data_dir / "grooming.json").read_bytes())
    analyzer = StreamingAnalyzer(conversation.participants, conversation_id=conversation.id)
    for k, message in enumerate(conversation.messages, start=1):
        analyzer.feed(message)
        prefix = Conversation(conversation.id, conversation.messages[:k], conversation.participants)
        assert analyzer.result().to_dict() == analyze(prefix).to_dict()


def test_first_alert_is_the_first_message_where_the_level_reaches_high(data_dir: Path) -> None:
    (conversation,) = parse_conversations((data_dir / "grooming.json").read_bytes())
    analyzer = StreamingAnalyzer(conversation.participants)
    assessments = [analyzer.feed(m) for m in conversation.messages]
    firsts = [a for a in assessments if a.first_alert]
    assert len(firsts) == 1
    index = assessments.index(firsts[0])
    assert all(not a.alert and a.level in ("none", "low", "medium") for a in assessments[:index])
    assert all(a.alert and a.level in ("high", "critical") for a in assessments[index:])
    assert analyzer.result().first_alert_message == firsts[0].message_id
    # once raised, an alert stays (the level is the highest reached while reading)
    risks = [a.risk for a in assessments]
    assert risks == sorted(risks)


def test_short_benign_opening_has_no_alert() -> None:
    result = analyze(chat("sam: hey", "kim: hi", "sam: what games do you play?", "kim: minecraft mostly"))
    assert result.level == "none" and result.first_alert_message is None and result.tactics == []
    assert result.suspected_author is None and result.suggested_incident_type is None


HARD_NEGATIVES = {
    "coach": chat(
        "CoachDan: Hi Maya, it's Coach Dan. Is your mom home? I want to drop off your jersey before the game",
        "Maya: yes she's home",
        "CoachDan: Great, tell her I'll be there at 6. Practice moved to Thursday",
        "Maya: ok coach",
        "CoachDan: Great game Saturday, you played really well. Pizza after the tournament is on the club",
        "CoachDan: Please ask your parents to sign the permission slip and send me a photo of it",
        "Maya: ok my dad signed it",
    ),
    "peers": chat(
        "jaxx09: how old r u",
        "emz.k: 14 u?",
        "jaxx09: same im 14 lol",
        "jaxx09: do u like anyone at school",
        "emz.k: maybe lol hbu",
        "jaxx09: add me on snap",
        "emz.k: ok",
        "jaxx09: wanna go to the mall saturday with everyone",
        "emz.k: yes!! jess is coming too",
    ),
    "relative": chat(
        "GrandmaRuth: Send Grandma a picture of you in your new costume!",
        "toby: [photo]",
        "GrandmaRuth: So handsome! Don't tell your mom about the surprise party, it's our secret",
        "toby: i won't tell",
        "GrandmaRuth: I'll pick you up from school on Friday, your dad said it's fine",
        "GrandmaRuth: I put a gift card in your birthday card sweetheart",
    ),
    "gaming_trade": chat(
        "neonwolf: I'll give you a $20 gift card for your dragon pet",
        "pixelkat: hmm send a screenshot of your inventory first",
        "neonwolf: [image] add me on discord to trade",
        "pixelkat: ok deal, use a middleman from the server",
        "neonwolf: gg, sending the trade request now",
    ),
    "adults_flirting": chat(
        "dan_84: you have a great smile",
        "rosa.m: haha thanks, how old are you?",
        "dan_84: I'm 39, you?",
        "rosa.m: 36, divorced with two kids",
        "dan_84: send me a pic from today?",
        "rosa.m: [photo]",
        "dan_84: want to get a drink Friday after work? let's move to WhatsApp",
        "rosa.m: sure, here's my number",
    ),
    "teacher": chat(
        "MsOkafor: Hi Liam, can you send a picture of your worksheet so I can check it?",
        "Liam: ok i sent it",
        "MsOkafor: Thanks! You're one of my most thoughtful students",
        "MsOkafor: Please ask your parents to sign the field trip form",
        "Liam: my mom signed it",
        "MsOkafor: Office hours are in room 12 after school on Tuesday if you want help",
    ),
}


@pytest.mark.parametrize("kind", sorted(HARD_NEGATIVES))
def test_hard_negatives_do_not_alarm(kind: str) -> None:
    result = analyze(HARD_NEGATIVES[kind])
    assert not result.alert, (kind, result.details())
    assert result.level in ("none", "low", "medium")


def test_the_same_question_alarms_in_a_grooming_context() -> None:
    """ENTICEMENT.md: 'are your parents home?' is benign from a coach, alarming after flattery, age and secrecy."""
    coach = analyze(HARD_NEGATIVES["coach"])
    groomer = analyze(chat(
        "stranger88: you're so mature for your age",
        "kid: thanks",
        "stranger88: how old are you?",
        "kid: 12",
        "stranger88: are your parents home?",
        "kid: no",
        "stranger88: good, don't tell them about me, delete our chat",
    ))
    assert groomer.alert and not coach.alert
    assert groomer.risk > coach.risk


def test_adult_claiming_to_be_a_peer_is_caught() -> None:
    result = analyze(chat(
        "skyler_15: hey",
        "nina: hi who r u",
        "skyler_15: im 15 too lol",
        "nina: im 13",
        "skyler_15: are your parents asleep yet?",
        "nina: ya",
        "skyler_15: want to see a picture of me? I'll send you one",
        "skyler_15: now send me a pic of you, don't tell anyone",
    ), )
    assert result.alert and result.suspected_author == "skyler_15"


def test_free_text_content_of_a_chat_incident() -> None:
    content = ("[21:02] gamerdude: how old are you\n[21:03] sunny: 12\n[21:04] gamerdude: don't tell your parents we talk\n"
               "[21:05] gamerdude: send me a picture of yourself and I'll send you 1000 robux")
    (result,) = analyze_text(content)
    assert result.alert and result.suspected_author == "gamerdude"
    (prose,) = analyze_text("The user kept messaging my daughter.\nHe asked her to send pictures.")
    assert prose.conversation_id == "content"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(FileNotFoundError):
        StreamingAnalyzer(language="xx") if False else analyze(chat("a: hi"), language="xx")
