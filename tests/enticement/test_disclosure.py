"""Disclosures: a child or carer telling of an approach is reported as a disclosure, with who disclosed and the
messages that tell it, and does not alert as enticement; the same words said to the child do alert."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tipline.cli.enticement import enticement_group
from tipline.enticement import Conversation, Message, Participant, StreamingAnalyzer, analyze


def chat(*lines: str, ages: dict[str, int] | None = None) -> Conversation:
    """A conversation from 'author: text' lines."""
    messages = []
    for number, line in enumerate(lines, start=1):
        author, _, text = line.partition(": ")
        messages.append(Message(f"m{number}", author, text))
    authors = dict.fromkeys(m.author for m in messages)
    return Conversation("test", messages, [Participant(a, a, (ages or {}).get(a)) for a in authors])


# A 13-year-old tells her mother what a stranger wrote to her (invented, non-explicit).
TOLD_TO_MOM = chat(
    "maya: mom can i show u something",
    "mom: of course sweetie what is it",
    "maya: this guy on the game keeps messaging me",
    "maya: he said im really mature for 13 and asked if my parents check my phone",
    "mom: what else did he say",
    "maya: he keeps asking me to send him a pic of myself and said dont tell anyone",
    "maya: and he wants me to add him on snap",
    "mom: thank you for telling me, you did the right thing. we'll block him and report it together",
    ages={"maya": 13},
)

# The same approach, said by the stranger to the child himself.
SAID_TO_CHILD = chat(
    "gamer_dude: hey ur really good at this game",
    "maya: lol thanks",
    "gamer_dude: how old r u",
    "maya: 13",
    "gamer_dude: ur really mature for 13. do ur parents check ur phone?",
    "maya: not really",
    "gamer_dude: send me a pic of urself, dont tell anyone ok",
    "gamer_dude: add me on snap its more private",
    ages={"maya": 13},
)


def test_a_child_telling_her_mother_is_a_disclosure_not_an_alert() -> None:
    result = analyze(TOLD_TO_MOM)
    assert not result.alert and result.level in ("none", "low", "medium")
    assert result.suggested_incident_type is None
    assert result.disclosure is not None
    assert result.disclosure.discloser == "maya"
    texts = {m.id: m.text for m in TOLD_TO_MOM.messages}
    assert result.disclosure.message_ids
    for message_id, evidence in zip(result.disclosure.message_ids, result.disclosure.evidence, strict=True):
        assert texts[message_id].startswith(evidence) and TOLD_TO_MOM.messages[int(message_id[1:]) - 1].author == "maya"
    assert result.to_dict()["disclosure"]["discloser"] == "maya"
    assert "disclosure" in result.details()  # what the pipeline stores


def test_the_same_approach_said_to_the_child_alerts_and_is_no_disclosure() -> None:
    result = analyze(SAID_TO_CHILD)
    assert result.alert and result.suspected_author == "gamer_dude"
    assert result.disclosure is None
    assert result.to_dict()["disclosure"] is None


def test_a_disclosed_deadline_is_urgent() -> None:
    result = analyze(chat(
        "sam: i need help, someone i met online has a photo of me",
        "counsellor: thank you for reaching out. you are not in trouble. what is happening?",
        "sam: he said he will send it to my whole school unless i pay him $200",
        "sam: he said i have until friday 6pm",
        "counsellor: please don't pay. keep the messages, we can help you report him",
    ))
    assert result.disclosure is not None and result.disclosure.discloser == "sam"
    assert "deadline" in result.disclosure.urgent
    assert not result.alert


def test_streaming_gives_the_same_disclosure_as_whole_analysis() -> None:
    analyzer = StreamingAnalyzer(TOLD_TO_MOM.participants, conversation_id="test")
    for message in TOLD_TO_MOM.messages:
        analyzer.feed(message)
    assert analyzer.result().to_dict() == analyze(TOLD_TO_MOM).to_dict()


def test_analyze_json_shows_the_disclosure(tmp_path: Path) -> None:
    raw = {"id": "told", "participants": [{"id": p.id, "claimed_age": p.claimed_age} for p in TOLD_TO_MOM.participants],
           "messages": [{"id": m.id, "author": m.author, "text": m.text} for m in TOLD_TO_MOM.messages]}
    path = tmp_path / "told.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    output = CliRunner().invoke(enticement_group, ["analyze", str(path), "--json"])
    assert output.exit_code == 0, output.output
    data = json.loads(output.output.strip().splitlines()[0])
    assert data["disclosure"]["discloser"] == "maya" and data["first_alert_message"] is None
    summary = CliRunner().invoke(enticement_group, ["analyze", str(path)])
    assert "DISCLOSURE by maya" in summary.output


def test_a_sextortionist_posing_as_a_fellow_victim_is_no_discloser() -> None:
    """Told of in one line ("he said ..."), but more demands and threats are the writer's own: the alert stands."""
    result = analyze(chat(
        "fake_friend: hey u dont know me but the same guy got both of us",
        "jo: what do u mean",
        "fake_friend: send me $100 in gift card codes by 10 tonight or ur pics go to ur school",
        "jo: i dont have that",
        "fake_friend: dont tell ur parents about this, its between us",
        "fake_friend: send me a new pic of urself too",
        "fake_friend: he said he posts faster if anyone reports",
        "jo: please no",
        "fake_friend: send the codes now or i share them myself",
        ages={"jo": 14},
    ))
    assert result.alert and result.suspected_author == "fake_friend"
    assert result.disclosure is None
