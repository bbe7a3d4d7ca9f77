"""Plain-text chat logs, one message a line: `[time] name: text`, `name: text` or `<name> text`."""

from __future__ import annotations

import re

from tipline.enticement.conversation import Conversation, Message
from tipline.enticement.formats.base import (
    DEFAULT_LIMITS,
    ConversationFormatError,
    InputLimits,
    check_count,
    check_message,
    participants_of,
)

name = "text"

_TEXT_BRACKETED = re.compile(r"^\s*[\[(](?P<time>[^\]\)]{1,40})[\])]\s*(?P<name>[^:\n]{1,80}?)\s*:\s?(?P<text>.*)$")
_TEXT_PLAIN = re.compile(r"^\s*(?P<name>[^\s:\[\]][^:\n\[\]]{0,60}?)\s*:\s?(?P<text>.*)$")
_TEXT_BRACKETED_NAME = re.compile(r"^\s*<(?P<name>[^<>\n]{1,80})>\s?(?P<text>.*)$")

_URLISH = re.compile(r"^\s*(https?|ftp|mailto)$", re.IGNORECASE)


def _plain_speaker(raw: str) -> re.Match[str] | None:
    match = _TEXT_PLAIN.match(raw)
    if not match or _URLISH.match(match["name"]) or len(match["name"].split()) > 4:
        return None
    return match


def detect(head: str, first: str, suffix: str) -> int:
    """A first line like `[time] name: text`, `<name> text` or `name: text`. (See registry.ChatFormat.)"""
    if head.startswith("[") and _TEXT_BRACKETED.match(first):
        return 79  # below WhatsApp's iOS lines, which look bracketed too
    if _TEXT_BRACKETED.match(first) or _TEXT_BRACKETED_NAME.match(first) or _plain_speaker(first):
        return 30
    return 0


def parse_text_log(text: str, limits: InputLimits = DEFAULT_LIMITS, *, lenient: bool = False) -> list[Conversation]:
    """A plain-text log, one message a line: `[time] name: text`, `name: text` or `<name> text`.

    Lines that match none of these continue the previous message. With `lenient`, text that has no
    author at all becomes messages of an author named `unknown` instead of an error (for free text
    such as the content of a chat/IM incident).
    """
    fmt = "text"
    messages: list[Message] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _TEXT_BRACKETED.match(raw) or _TEXT_BRACKETED_NAME.match(raw) or _plain_speaker(raw)
        if match:
            time = match.groupdict().get("time")
            messages.append(
                Message(
                    str(len(messages) + 1),
                    match["name"].strip(),
                    check_message(match["text"].strip(), number, fmt, limits),
                    time.strip() if time else None,
                    number,
                )
            )
            check_count(len(messages), number, fmt, limits)
        elif messages:
            last = messages[-1]
            messages[-1] = Message(
                last.id,
                last.author,
                check_message(last.text + "\n" + raw.strip(), number, fmt, limits),
                last.time,
                last.line,
            )
        elif lenient:
            messages.append(
                Message(
                    str(len(messages) + 1), "unknown", check_message(raw.strip(), number, fmt, limits), None, number
                )
            )
        else:
            raise ConversationFormatError("expected '[time] name: text' or 'name: text'", line=number, format=fmt)
    if not messages:
        raise ConversationFormatError("no messages found", line=1, format=fmt)
    return [Conversation("conversation-1", messages, participants_of(messages), None, fmt)]


parse = parse_text_log
