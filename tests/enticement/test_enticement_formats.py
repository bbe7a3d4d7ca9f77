"""Every chat-log format parses from realistic samples; broken input gives a precise error with the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tipline.enticement import (
    ConversationFormatError,
    InputLimits,
    detect_format,
    parse_conversations,
)
from tipline.enticement.formats import parse_pan12

GROOMING_TEXTS = [
    "hey, saw your skate videos, you're really talented",
    "thanks lol",
    "how old are you?",
    "13",
]


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("grooming.json", "json", 14),
        ("grooming.csv", "csv", 14),
        ("grooming_bracketed.txt", "text", 14),
        ("grooming_plain.txt", "text", 14),
        ("grooming_whatsapp_android.txt", "whatsapp", 15),
        ("grooming_whatsapp_ios.txt", "whatsapp", 15),
        ("grooming_discord.json", "discord", 15),
    ],
)
def test_every_format_parses_and_is_recognised(data_dir: Path, name: str, fmt: str, count: int) -> None:
    raw = (data_dir / name).read_bytes()
    assert detect_format(raw.decode("utf-8"), name) == fmt
    (conversation,) = parse_conversations(raw, filename=name)
    assert conversation.source_format == fmt
    assert len(conversation.messages) == count
    assert [m.text for m in conversation.messages[:4]] == GROOMING_TEXTS
    assert len({m.author for m in conversation.messages}) == 2
    # forcing the format gives the same messages
    (forced,) = parse_conversations(raw, fmt, filename=name)
    assert [m.text for m in forced.messages] == [m.text for m in conversation.messages]


def test_tipline_json_keeps_ids_participants_and_claimed_ages(data_dir: Path) -> None:
    (conversation,) = parse_conversations((data_dir / "grooming.json").read_bytes())
    assert conversation.id == "case-0001"
    assert conversation.platform == "Instagram"
    assert [m.id for m in conversation.messages[:3]] == ["m1", "m2", "m3"]
    assert conversation.participant("lila.sk8").claimed_age == 18
    assert conversation.messages[0].time == "2024-03-02T19:01:00Z"


def test_tipline_json_list_and_json_lines(data_dir: Path) -> None:
    one = json.loads((data_dir / "grooming.json").read_text())
    two = dict(one, id="case-0002")
    assert [c.id for c in parse_conversations(json.dumps([one, two]))] == ["case-0001", "case-0002"]
    lines = json.dumps(one) + "\n" + json.dumps(two) + "\n"
    assert [c.id for c in parse_conversations(lines)] == ["case-0001", "case-0002"]


def test_whatsapp_android_us_dates_multiline_and_system_lines(data_dir: Path) -> None:
    (conversation,) = parse_conversations((data_dir / "grooming_whatsapp_android.txt").read_bytes())
    first = conversation.messages[0]
    assert first.author == "Night Owl"
    assert first.time == "2024-03-02T19:01:00"  # 3/2/24 with a 12-hour clock is month-first
    assert first.line == 2  # line 1 is the encryption notice, skipped
    assert conversation.messages[13].text == "let's meet at the skate park on Saturday,\nI can pick you up"
    assert conversation.messages[14].text == "<Media omitted>"


def test_whatsapp_ios_day_first_with_seconds_and_marks(data_dir: Path) -> None:
    (conversation,) = parse_conversations((data_dir / "grooming_whatsapp_ios.txt").read_bytes())
    assert conversation.messages[0].time == "2024-03-02T19:01:00"  # 02/03/2024 24-hour: day-first
    assert conversation.messages[-1].author == "Lila"
    assert conversation.messages[-1].text == "image omitted"
    assert not any("end-to-end" in m.text for m in conversation.messages)


def test_whatsapp_day_first_decided_from_a_day_above_twelve() -> None:
    text = "25/12/2023, 10:15 - Ana: hi\n25/12/2023, 10:16 - Ben: hello\n"
    (conversation,) = parse_conversations(text)
    assert conversation.messages[0].time == "2023-12-25T10:15:00"


def test_discord_export_skips_system_messages_and_names_attachments(data_dir: Path) -> None:
    (conversation,) = parse_conversations((data_dir / "grooming_discord.json").read_bytes())
    assert conversation.id == "900000000000000002"
    assert conversation.platform == "Discord (Skate Crew)"
    assert conversation.messages[0].author == "611111111111111111"
    assert conversation.messages[-1].text == "[attachment: skate.png]"
    assert {p.display_name for p in conversation.participants} == {"Night Owl", "Lila"}


def test_pan12_xml(data_dir: Path) -> None:
    conversations = parse_conversations((data_dir / "pan12_corpus.xml").read_bytes())
    assert [len(c.messages) for c in conversations] == [9, 4, 2]
    first = conversations[0]
    assert first.id == "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert first.messages[3].id == "4" and first.messages[3].time == "03:22"
    assert first.messages[7].text == ""  # <text/> is an empty message
    assert conversations[1].messages[3].text == "thanks & see you in class"


def test_text_log_continuation_lines_and_lenient_free_text() -> None:
    (conversation,) = parse_conversations("Ana: hi\nthere\nBen: hello\n", "text")
    assert [(m.author, m.text) for m in conversation.messages] == [("Ana", "hi\nthere"), ("Ben", "hello")]
    (free,) = parse_conversations("he kept asking me how old i am\nthen he said don't tell your parents", lenient=True)
    assert free.messages[0].author == "unknown"


# ------------------------------------------------------------------------------------------------
# precise errors


def _error(data: str | bytes, fmt: str = "auto", **kwargs: object) -> ConversationFormatError:
    with pytest.raises(ConversationFormatError) as caught:
        parse_conversations(data, fmt, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_json_syntax_error_names_the_line() -> None:
    error = _error('{"id": "x",\n "messages": [\n  {"author": "a", "text": "hi"},\n  {"author": "b" "text": "yo"}\n]}')
    assert error.line == 4
    assert "line 4" in str(error)


def test_json_message_without_author_names_its_line() -> None:
    text = '{"id": "x",\n "messages": [\n  {"id": "1", "author": "a", "text": "hi"},\n  {"id": "2",\n   "text": "yo"}\n]}'
    error = _error(text)
    assert error.line == 4
    assert "message 2" in str(error) and "'author'" in str(error)


def test_json_wrong_type_and_bad_claimed_age() -> None:
    error = _error('{"messages": [{"author": "a", "text": 5}]}')
    assert "'text' must be str" in str(error) and error.line == 1
    error = _error('{"participants": [\n {"id": "a", "claimed_age": "old"}], "messages": []}')
    assert error.line == 2 and "claimed_age" in str(error)


def test_csv_errors() -> None:
    error = _error("time,author\n1,a\n", "csv")
    assert error.line == 1 and "text" in str(error)
    error = _error('time,author,text\n10:00,a,hi\n10:01,b\n', "csv")
    assert error.line == 3 and "expected 3 fields" in str(error)
    error = _error("time,author,text\n10:00,,hi\n", "csv")
    assert error.line == 2 and "author" in str(error)


def test_text_and_whatsapp_errors() -> None:
    error = _error("just some words\nAna: hi\n", "text")
    assert error.line == 1
    error = _error("\nhello there\n3/2/24, 7:01 PM - Ana: hi\n", "whatsapp")
    assert error.line == 2


def test_xml_errors() -> None:
    error = _error('<conversations>\n<conversation id="1">\n<message line="1"><author>a</author><text>hi</message>\n</conversation>\n</conversations>', "pan12")
    assert error.line == 3 and "invalid XML" in str(error)
    error = _error('<conversations>\n<conversation>\n</conversation>\n</conversations>', "pan12")
    assert error.line == 2 and "id" in str(error)
    error = _error('<conversations>\n<conversation id="1">\n<message line="1"><text>hi</text></message>\n</conversation>\n</conversations>', "pan12")
    assert error.line == 3 and "author" in str(error)


def test_xml_entities_are_never_expanded() -> None:
    xml = ('<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
           '<conversations><conversation id="1"><message line="1"><author>a</author><text>&x;</text></message>'
           '</conversation></conversations>')
    (conversation,) = parse_pan12(xml)
    assert "root" not in conversation.messages[0].text


def test_discord_error_names_the_line() -> None:
    text = '{"guild": {"id": "1"}, "channel": {"id": "2"},\n "messages": [\n  {"id": "1", "content": "hi",\n   "author": {"name": "x"}}\n]}'
    error = _error(text)
    assert error.line == 3 and "author has no 'id'" in str(error)


def test_undecodable_bytes_unknown_format_and_limits() -> None:
    error = _error(b"Ana: hi\nBen: caf\xe9\n")
    assert error.line == 2 and "UTF-8" in str(error)
    error = _error("<<<>>>\n")
    assert error.line == 1 and "unrecognised" in str(error)
    assert "empty" in str(_error("   \n"))
    error = _error("Ana: hi\n" * 10, limits=InputLimits(max_messages=5))
    assert error.line == 6 and "limit" in str(error)
    error = _error("Ana: " + "x" * 100 + "\n", limits=InputLimits(max_message_chars=50))
    assert error.line == 1
    assert "limit" in str(_error("Ana: hi\n" * 100, limits=InputLimits(max_bytes=100)))
    assert "unknown format" in str(_error("Ana: hi", "yaml"))


def test_whatsapp_variants_dotted_dates_and_narrow_space_am_pm() -> None:
    (german,) = parse_conversations("31.12.23, 21:41 - Ana: hallo\n31.12.23, 21:42 - Ben: hi\n")
    assert german.messages[0].time == "2023-12-31T21:41:00"
    (ios,) = parse_conversations("[12/31/23, 9:41:05\u202fPM] Ana: hi\n[12/31/23, 9:42:00\u202fPM] Ben: hey\n")
    assert ios.source_format == "whatsapp" and ios.messages[0].time == "2023-12-31T21:41:05"


def test_csv_with_id_column_in_any_order() -> None:
    (conversation,) = parse_conversations("text,author,id,time\nhello,ana,a1,10:00\n\"hi, you\",ben,a2,10:01\n")
    assert [(m.id, m.author, m.text) for m in conversation.messages] == [("a1", "ana", "hello"), ("a2", "ben", "hi, you")]
