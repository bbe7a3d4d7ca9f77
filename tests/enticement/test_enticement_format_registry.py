"""The chat-log formats are one module each, listed in one table that detection and parsing use."""

from __future__ import annotations

import pytest

from tipline.enticement.conversation import Conversation, Message
from tipline.enticement.formats import (
    FORMATS,
    FORMATS_BY_NAME,
    csv_log,
    detect_format,
    discord,
    pan12,
    parse_conversations,
    text_log,
    tipline_json,
    whatsapp,
)


def test_every_format_has_one_module_in_the_table() -> None:
    assert FORMATS == ("json", "csv", "text", "whatsapp", "discord", "pan12")
    assert [FORMATS_BY_NAME[name] for name in FORMATS] == [tipline_json, csv_log, text_log, whatsapp, discord, pan12]
    for name, module in FORMATS_BY_NAME.items():
        assert module.name == name


@pytest.mark.parametrize(
    ("text", "filename", "expected"),
    [
        ("[12/31/23, 9:41:05 PM] Sam: hi", None, "whatsapp"),  # iOS lines look bracketed too
        ("[21:41] Sam: hi", None, "text"),
        ('{"guild": {}, "channel": {}, "messages": []}', None, "discord"),
        ('{"messages": []}', "log.xml", "json"),  # content beats the name
        ("time,author,text", "log.txt", "csv"),
        ("Sam: hi", "log.csv", "csv"),  # a .csv name beats a text-log line
        ("Sam: hi", "log.xml", "pan12"),
        ("Sam: hi", None, "text"),
        ("just words", "log.json", "json"),
    ],
)
def test_the_strongest_claim_wins(text: str, filename: str | None, expected: str) -> None:
    assert detect_format(text, filename) == expected


def test_parsing_goes_through_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    class Fake:
        name = "csv"

        @staticmethod
        def detect(head: str, first: str, suffix: str) -> int:
            return 0

        @staticmethod
        def parse(text: str, limits: object = None) -> list[Conversation]:
            return [Conversation("fake", [Message("1", "Sam", text.strip(), None, 1)], [], None, "csv")]

    monkeypatch.setitem(FORMATS_BY_NAME, "csv", Fake)
    [conversation] = parse_conversations("hello", "csv")
    assert conversation.id == "fake"
    assert conversation.messages[0].text == "hello"
