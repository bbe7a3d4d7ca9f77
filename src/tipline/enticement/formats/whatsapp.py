"""WhatsApp "export chat" text files, Android (`date, time - name: text`) and iOS (`[date, time] name: text`)."""

from __future__ import annotations

import re
from datetime import datetime

from tipline.enticement.conversation import Conversation, Message
from tipline.enticement.formats.base import (
    DEFAULT_LIMITS,
    ConversationFormatError,
    InputLimits,
    check_count,
    check_message,
    participants_of,
)

name = "whatsapp"

_AMPM = r"(?:[\s\u202f\u00a0]?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?"
_DATE = r"(?P<d1>\d{1,4})[/.\-](?P<d2>\d{1,2})[/.\-](?P<d3>\d{1,4})"
_TIME = r"(?P<hh>\d{1,2})[:.](?P<mm>\d{2})(?:[:.](?P<ss>\d{2}))?" + _AMPM
WHATSAPP_ANDROID = re.compile(r"^[\u200e\u200f]?" + _DATE + r",?\s" + _TIME + r"\s[\-\u2013]\s(?P<rest>.*)$")
WHATSAPP_IOS = re.compile(r"^[\u200e\u200f]?\[" + _DATE + r",?\s" + _TIME + r"\]\s(?P<rest>.*)$")
_WA_SYSTEM = re.compile(r"^(Messages and calls are end-to-end encrypted|Your security code with .* changed)")
_WA_SENDER = re.compile(r"^(?P<name>[^:\n]{1,80}?):\s(?P<text>.*)$|^(?P<name2>[^:\n]{1,80}?):$")


def detect(head: str, first: str, suffix: str) -> int:
    """A first line dated the WhatsApp way; iOS's bracketed lines before text logs' brackets. (See registry.ChatFormat.)"""
    if head.startswith("[") and WHATSAPP_IOS.match(first):
        return 80
    return 60 if WHATSAPP_IOS.match(first) or WHATSAPP_ANDROID.match(first) else 0


def _whatsapp_order(matches: list[re.Match[str]]) -> str:
    """`ymd`, `dmy` or `mdy`: decided from the values seen (a field above 12 cannot be a month)."""
    if any(len(m["d1"]) == 4 for m in matches):
        return "ymd"
    if any(int(m["d1"]) > 12 for m in matches):
        return "dmy"
    if any(int(m["d2"]) > 12 for m in matches):
        return "mdy"
    # Ambiguous throughout: a 12-hour clock is the US (month-first) style, a 24-hour clock day-first.
    return "mdy" if any(m["ampm"] for m in matches) else "dmy"


def _whatsapp_time(match: re.Match[str], order: str) -> str | None:
    d1, d2, d3 = int(match["d1"]), int(match["d2"]), int(match["d3"])
    year, month, day = {"ymd": (d1, d2, d3), "dmy": (d3, d2, d1), "mdy": (d3, d1, d2)}[order]
    if year < 100:
        year += 2000
    hour, minute, second = int(match["hh"]), int(match["mm"]), int(match["ss"] or 0)
    ampm = (match["ampm"] or "").lower().replace(".", "").replace(" ", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:
        return None


def parse_whatsapp(text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]:
    """A WhatsApp "export chat" text file, Android (`date, time - name: text`) or iOS (`[date, time] name: text`)."""
    fmt = "whatsapp"
    lines = text.splitlines()
    pattern = None
    for raw in lines:
        if raw.strip():
            pattern = (
                WHATSAPP_IOS if WHATSAPP_IOS.match(raw) else WHATSAPP_ANDROID if WHATSAPP_ANDROID.match(raw) else None
            )
            break
    if pattern is None:
        first = next((i for i, l in enumerate(lines) if l.strip()), 0)
        raise ConversationFormatError(
            "expected a WhatsApp line such as '12/31/23, 9:41 PM - Name: text' or '[31/12/2023, 21:41:05] Name: text'",
            line=first + 1,
            format=fmt,
        )
    entries: list[tuple[int, re.Match[str], list[str]]] = []
    for number, raw in enumerate(lines, start=1):
        match = pattern.match(raw)
        if match:
            entries.append((number, match, [match["rest"]]))
        elif entries:
            entries[-1][2].append(raw)  # a message that spans several lines
        elif raw.strip():
            raise ConversationFormatError("text before the first dated WhatsApp line", line=number, format=fmt)
    order = _whatsapp_order([m for _, m, _ in entries])
    messages: list[Message] = []
    for number, match, parts in entries:
        sender = _WA_SENDER.match(parts[0])
        if not sender:
            continue  # system lines: encryption notice, joins, changes of number
        name = (sender["name"] or sender["name2"]).strip().strip("\u200e\u202a\u202c")
        body = "\n".join([sender["text"] or ""] + parts[1:]).strip("\u200e")
        if _WA_SYSTEM.match(body):
            continue  # iOS puts the encryption notice under the chat's name
        messages.append(
            Message(
                str(len(messages) + 1),
                name,
                check_message(body, number, fmt, limits),
                _whatsapp_time(match, order),
                number,
            )
        )
        check_count(len(messages), number, fmt, limits)
    return [Conversation("whatsapp-chat", messages, participants_of(messages), "WhatsApp", fmt)]


parse = parse_whatsapp
