"""Chat-log formats: a parser per format (tipline JSON, CSV, text logs, WhatsApp, Discord, PAN 2012 XML) and auto-detection."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tipline.enticement.conversation import Conversation, Message, Participant

FORMATS: tuple[str, ...] = ("json", "csv", "text", "whatsapp", "discord", "pan12")
"""Format names accepted by `parse_conversations` (besides `auto`)."""


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Bounds on one input so a single upload cannot exhaust memory; generous for real chat logs."""

    max_bytes: int = 20_000_000
    max_conversations: int = 10_000
    max_messages: int = 200_000
    max_message_chars: int = 20_000


DEFAULT_LIMITS = InputLimits()


class ConversationFormatError(ValueError):
    """Input that is not a conversation in the named format; `line` is the 1-based line of the problem, if known."""

    def __init__(self, reason: str, *, line: int | None = None, format: str | None = None) -> None:
        self.reason = reason
        self.line = line
        self.format = format
        where = f"line {line}: " if line is not None else ""
        label = f"{format}: " if format else ""
        super().__init__(f"{label}{where}{reason}")


# ---------------------------------------------------------------------------------------------
# decoding and limits


def decode_input(data: bytes | str, limits: InputLimits = DEFAULT_LIMITS) -> str:
    """The text of an input: UTF-8 (with or without BOM) or UTF-16 with BOM; a precise error otherwise."""
    if isinstance(data, str):
        if len(data) > limits.max_bytes:
            raise ConversationFormatError(f"input is larger than the limit of {limits.max_bytes} characters")
        return data.lstrip("\ufeff")
    if len(data) > limits.max_bytes:
        raise ConversationFormatError(f"input is larger than the limit of {limits.max_bytes} bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ConversationFormatError(f"invalid UTF-16 text: {error.reason}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConversationFormatError(
            f"not UTF-8 text (invalid byte 0x{data[error.start]:02x})", line=line
        ) from None


def _check_message(text: str, line: int | None, fmt: str, limits: InputLimits) -> str:
    if len(text) > limits.max_message_chars:
        raise ConversationFormatError(
            f"message longer than the limit of {limits.max_message_chars} characters", line=line, format=fmt
        )
    return text


def _check_count(count: int, line: int | None, fmt: str, limits: InputLimits) -> None:
    if count > limits.max_messages:
        raise ConversationFormatError(
            f"more than the limit of {limits.max_messages} messages", line=line, format=fmt
        )


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


# ---------------------------------------------------------------------------------------------
# JSON with positions: decode value by value so an error can name the line of the offending object

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


class _Located:
    """A decoded JSON value with the line it starts on; objects and arrays keep located children."""

    __slots__ = ("children", "line", "value")

    def __init__(self, value: Any, line: int, children: Any = None) -> None:
        self.value = value
        self.line = line
        self.children = children


def _load_located(text: str, fmt: str, depth: int = 3) -> _Located:
    """Decode JSON, keeping the line of every object and array element down to `depth` levels."""

    def error(reason: str, pos: int) -> ConversationFormatError:
        return ConversationFormatError(reason, line=_line_of(text, pos), format=fmt)

    def value_at(pos: int, level: int) -> tuple[_Located, int]:
        pos = _skip_ws(text, pos)
        line = _line_of(text, pos)
        if pos >= len(text):
            raise error("unexpected end of input", pos)
        char = text[pos]
        if level > 0 and char == "{":
            children: dict[str, _Located] = {}
            values: dict[str, Any] = {}
            pos = _skip_ws(text, pos + 1)
            if text.startswith("}", pos):
                return _Located(values, line, children), pos + 1
            while True:
                pos = _skip_ws(text, pos)
                if not text.startswith('"', pos):
                    raise error("expected a property name in double quotes", pos)
                key, pos = _raw(pos)
                pos = _skip_ws(text, pos)
                if not text.startswith(":", pos):
                    raise error("expected ':' after a property name", pos)
                child, pos = value_at(pos + 1, level - 1)
                children[key] = child
                values[key] = child.value
                pos = _skip_ws(text, pos)
                if text.startswith(",", pos):
                    pos += 1
                    continue
                if text.startswith("}", pos):
                    return _Located(values, line, children), pos + 1
                raise error("expected ',' or '}' in an object", pos)
        if level > 0 and char == "[":
            items: list[_Located] = []
            pos = _skip_ws(text, pos + 1)
            if text.startswith("]", pos):
                return _Located([], line, items), pos + 1
            while True:
                child, pos = value_at(pos, level - 1)
                items.append(child)
                pos = _skip_ws(text, pos)
                if text.startswith(",", pos):
                    pos += 1
                    continue
                if text.startswith("]", pos):
                    return _Located([c.value for c in items], line, items), pos + 1
                raise error("expected ',' or ']' in an array", pos)
        value, end = _raw(pos)
        return _Located(value, line), end

    def _raw(pos: int) -> tuple[Any, int]:
        try:
            return _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise ConversationFormatError(f"invalid JSON: {err.msg}", line=err.lineno, format=fmt) from None

    located, end = value_at(0, depth)
    end = _skip_ws(text, end)
    if end != len(text):
        raise error("extra data after the JSON value", end)
    return located


def _require(obj: _Located, key: str, kinds: tuple[type, ...], fmt: str, what: str) -> Any:
    if not isinstance(obj.value, dict):
        raise ConversationFormatError(f"{what} must be an object", line=obj.line, format=fmt)
    if key not in obj.value:
        raise ConversationFormatError(f"{what} has no {key!r}", line=obj.line, format=fmt)
    value = obj.value[key]
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        names = " or ".join(k.__name__ for k in kinds)
        line = obj.children[key].line if obj.children else obj.line
        raise ConversationFormatError(f"{what} {key!r} must be {names}", line=line, format=fmt)
    return value


def _opaque_id(value: Any) -> str:
    return str(value)


# ---------------------------------------------------------------------------------------------
# tipline JSON


def parse_tipline_json(text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]:
    """tipline conversation JSON: one object, a list of objects, or one object per line (JSON Lines)."""
    fmt = "json"
    stripped = text.strip()
    if not stripped:
        raise ConversationFormatError("empty input", line=1, format=fmt)
    lines = stripped.splitlines()
    if stripped.startswith("{") and len(lines) > 1 and all(l.strip().startswith("{") for l in lines if l.strip()):
        # JSON Lines when every line is an object on its own; fall back to one multi-line object otherwise.
        try:
            objects = [json.loads(l) for l in lines if l.strip()]
        except json.JSONDecodeError:
            objects = None
        if objects is not None:
            conversations = []
            offset = len(text) - len(text.lstrip())
            first_line = _line_of(text, offset)
            for index, raw in enumerate(lines):
                if raw.strip():
                    located = _load_located(raw, fmt)
                    _shift_lines(located, first_line + index - 1)
                    conversations.append(_tipline_conversation(located, fmt, limits, index))
            return _limit_conversations(conversations, fmt, limits)
    located = _load_located(text, fmt, depth=4)
    if isinstance(located.value, list):
        return _limit_conversations(
            [_tipline_conversation(item, fmt, limits, i) for i, item in enumerate(located.children)], fmt, limits
        )
    return [_tipline_conversation(located, fmt, limits, 0)]


def _shift_lines(located: _Located, by: int) -> None:
    located.line += by
    children = located.children
    if isinstance(children, dict):
        for child in children.values():
            _shift_lines(child, by)
    elif isinstance(children, list):
        for child in children:
            _shift_lines(child, by)


def _limit_conversations(conversations: list[Conversation], fmt: str, limits: InputLimits) -> list[Conversation]:
    if len(conversations) > limits.max_conversations:
        raise ConversationFormatError(
            f"more than the limit of {limits.max_conversations} conversations", format=fmt
        )
    return conversations


def _tipline_conversation(obj: _Located, fmt: str, limits: InputLimits, index: int) -> Conversation:
    if not isinstance(obj.value, dict):
        raise ConversationFormatError("a conversation must be a JSON object", line=obj.line, format=fmt)
    raw_messages = _require(obj, "messages", (list,), fmt, "the conversation")
    _check_count(len(raw_messages), obj.line, fmt, limits)
    conv_id = obj.value.get("id")
    conv_id = _opaque_id(conv_id) if conv_id is not None else f"conversation-{index + 1}"
    platform = obj.value.get("platform")
    participants: list[Participant] = []
    raw_participants = obj.value.get("participants") or []
    if not isinstance(raw_participants, list):
        raise ConversationFormatError("'participants' must be a list", line=obj.children["participants"].line, format=fmt)
    participant_nodes = obj.children["participants"].children if "participants" in obj.children else []
    for position, node in enumerate(participant_nodes or []):
        pid = _require(node, "id", (str, int), fmt, f"participant {position + 1}")
        age = node.value.get("claimed_age")
        if age is not None and (isinstance(age, bool) or not isinstance(age, int) or not 0 < age < 130):
            raise ConversationFormatError(
                f"participant {position + 1} 'claimed_age' must be a whole number of years or null",
                line=node.line,
                format=fmt,
            )
        name = node.value.get("display_name")
        participants.append(Participant(_opaque_id(pid), str(name) if name is not None else None, age))
    messages: list[Message] = []
    for position, node in enumerate(obj.children["messages"].children):
        what = f"message {position + 1}"
        author = _require(node, "author", (str, int), fmt, what)
        body = _require(node, "text", (str,), fmt, what)
        mid = node.value.get("id")
        mid = _opaque_id(mid) if mid is not None else str(position + 1)
        time = node.value.get("time")
        if time is not None and not isinstance(time, str):
            raise ConversationFormatError(f"{what} 'time' must be a string", line=node.line, format=fmt)
        messages.append(
            Message(mid, _opaque_id(author), _check_message(body, node.line, fmt, limits), time, node.line)
        )
    return Conversation(conv_id, messages, participants, str(platform) if platform else None, fmt)


# ---------------------------------------------------------------------------------------------
# Discord (DiscordChatExporter JSON)


def parse_discord(text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]:
    """A DiscordChatExporter JSON export: guild, channel and messages with author objects."""
    fmt = "discord"
    located = _load_located(text, fmt, depth=4)
    raw_messages = _require(located, "messages", (list,), fmt, "the export")
    _check_count(len(raw_messages), located.line, fmt, limits)
    channel = located.value.get("channel") if isinstance(located.value.get("channel"), dict) else {}
    guild = located.value.get("guild") if isinstance(located.value.get("guild"), dict) else {}
    conv_id = str(channel.get("id") or channel.get("name") or "discord")
    participants: dict[str, Participant] = {}
    messages: list[Message] = []
    for position, node in enumerate(located.children["messages"].children):
        what = f"message {position + 1}"
        author = _require(node, "author", (dict,), fmt, what)
        if "id" not in author:
            raise ConversationFormatError(f"{what} author has no 'id'", line=node.line, format=fmt)
        author_id = str(author["id"])
        content = node.value.get("content", "")
        if not isinstance(content, str):
            raise ConversationFormatError(f"{what} 'content' must be a string", line=node.line, format=fmt)
        if node.value.get("type") not in (None, "Default", "Reply"):
            continue  # joins, pins, calls and other system messages carry no conversation text
        attachments = node.value.get("attachments") or []
        names = [str(a.get("fileName", "file")) for a in attachments if isinstance(a, dict)]
        body = content if content else " ".join(f"[attachment: {n}]" for n in names)
        if author_id not in participants:
            display = author.get("nickname") or author.get("name")
            participants[author_id] = Participant(author_id, str(display) if display else None, None)
        mid = str(node.value.get("id", position + 1))
        stamp = node.value.get("timestamp")
        messages.append(
            Message(mid, author_id, _check_message(body, node.line, fmt, limits), str(stamp) if stamp else None, node.line)
        )
    platform = "Discord" + (f" ({guild.get('name')})" if guild.get("name") else "")
    return [Conversation(conv_id, messages, list(participants.values()), platform, fmt)]


# ---------------------------------------------------------------------------------------------
# CSV


def parse_csv(text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]:
    """CSV with a header naming `time`, `author` and `text` columns (others ignored; `id` used if present)."""
    fmt = "csv"
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ConversationFormatError("empty input", line=1, format=fmt) from None
    except csv.Error as error:
        raise ConversationFormatError(f"invalid CSV: {error}", line=1, format=fmt) from None
    columns = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in ("time", "author", "text") if c not in columns]
    if missing:
        raise ConversationFormatError(
            f"the header must name the columns time, author and text (missing: {', '.join(missing)})",
            line=1,
            format=fmt,
        )
    t_col, a_col, x_col = columns.index("time"), columns.index("author"), columns.index("text")
    id_col = columns.index("id") if "id" in columns else None
    messages: list[Message] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < len(columns):
                raise ConversationFormatError(
                    f"expected {len(columns)} fields ({', '.join(columns)}), found {len(row)}", line=line, format=fmt
                )
            author = row[a_col].strip()
            if not author:
                raise ConversationFormatError("the author field is empty", line=line, format=fmt)
            mid = row[id_col].strip() if id_col is not None and row[id_col].strip() else str(len(messages) + 1)
            messages.append(
                Message(mid, author, _check_message(row[x_col], line, fmt, limits), row[t_col].strip() or None, line)
            )
            _check_count(len(messages), line, fmt, limits)
    except csv.Error as error:
        raise ConversationFormatError(f"invalid CSV: {error}", line=reader.line_num, format=fmt) from None
    return [Conversation("conversation-1", messages, _participants_of(messages), None, fmt)]


def _participants_of(messages: list[Message]) -> list[Participant]:
    seen: dict[str, Participant] = {}
    for message in messages:
        seen.setdefault(message.author, Participant(message.author, message.author, None))
    return list(seen.values())


# ---------------------------------------------------------------------------------------------
# WhatsApp exports

_AMPM = r"(?:[\s\u202f\u00a0]?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?"
_DATE = r"(?P<d1>\d{1,4})[/.\-](?P<d2>\d{1,2})[/.\-](?P<d3>\d{1,4})"
_TIME = r"(?P<hh>\d{1,2})[:.](?P<mm>\d{2})(?:[:.](?P<ss>\d{2}))?" + _AMPM
WHATSAPP_ANDROID = re.compile(r"^[\u200e\u200f]?" + _DATE + r",?\s" + _TIME + r"\s[\-\u2013]\s(?P<rest>.*)$")
WHATSAPP_IOS = re.compile(r"^[\u200e\u200f]?\[" + _DATE + r",?\s" + _TIME + r"\]\s(?P<rest>.*)$")
_WA_SYSTEM = re.compile(r"^(Messages and calls are end-to-end encrypted|Your security code with .* changed)")
_WA_SENDER = re.compile(r"^(?P<name>[^:\n]{1,80}?):\s(?P<text>.*)$|^(?P<name2>[^:\n]{1,80}?):$")


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
            pattern = WHATSAPP_IOS if WHATSAPP_IOS.match(raw) else WHATSAPP_ANDROID if WHATSAPP_ANDROID.match(raw) else None
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
            Message(str(len(messages) + 1), name, _check_message(body, number, fmt, limits), _whatsapp_time(match, order), number)
        )
        _check_count(len(messages), number, fmt, limits)
    return [Conversation("whatsapp-chat", messages, _participants_of(messages), "WhatsApp", fmt)]


# ---------------------------------------------------------------------------------------------
# plain-text logs

_TEXT_BRACKETED = re.compile(r"^\s*[\[(](?P<time>[^\]\)]{1,40})[\])]\s*(?P<name>[^:\n]{1,80}?)\s*:\s?(?P<text>.*)$")
_TEXT_PLAIN = re.compile(r"^\s*(?P<name>[^\s:\[\]][^:\n\[\]]{0,60}?)\s*:\s?(?P<text>.*)$")
_TEXT_BRACKETED_NAME = re.compile(r"^\s*<(?P<name>[^<>\n]{1,80})>\s?(?P<text>.*)$")


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
                    _check_message(match["text"].strip(), number, fmt, limits),
                    time.strip() if time else None,
                    number,
                )
            )
            _check_count(len(messages), number, fmt, limits)
        elif messages:
            last = messages[-1]
            messages[-1] = Message(
                last.id, last.author, _check_message(last.text + "\n" + raw.strip(), number, fmt, limits), last.time, last.line
            )
        elif lenient:
            messages.append(Message(str(len(messages) + 1), "unknown", _check_message(raw.strip(), number, fmt, limits), None, number))
        else:
            raise ConversationFormatError(
                "expected '[time] name: text' or 'name: text'", line=number, format=fmt
            )
    if not messages:
        raise ConversationFormatError("no messages found", line=1, format=fmt)
    return [Conversation("conversation-1", messages, _participants_of(messages), None, fmt)]


_URLISH = re.compile(r"^\s*(https?|ftp|mailto)$", re.IGNORECASE)


def _plain_speaker(raw: str) -> re.Match[str] | None:
    match = _TEXT_PLAIN.match(raw)
    if not match or _URLISH.match(match["name"]) or len(match["name"].split()) > 4:
        return None
    return match


# ---------------------------------------------------------------------------------------------
# PAN 2012 XML


def iter_pan12(source: str | bytes | Path, *, limits: InputLimits | None = None) -> Iterator[Conversation]:
    """Conversations of a PAN 2012 sexual-predator-identification XML file, one at a time (the corpus is large).

    `source` is a path or the XML itself. Entities are never resolved and nothing is fetched.
    """
    from lxml import etree

    fmt = "pan12"
    if isinstance(source, Path):
        stream: Any = open(source, "rb")  # noqa: SIM115 - closed in the finally below (a generator)
    else:
        stream = io.BytesIO(source.encode("utf-8") if isinstance(source, str) else source)
    try:
        context = etree.iterparse(
            stream, events=("end",), tag="conversation", resolve_entities=False, no_network=True, huge_tree=True
        )
        count = 0
        try:
            for _, element in context:
                count += 1
                if limits is not None and count > limits.max_conversations:
                    raise ConversationFormatError(
                        f"more than the limit of {limits.max_conversations} conversations", line=element.sourceline, format=fmt
                    )
                yield _pan12_conversation(element, fmt, limits)
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
        except etree.XMLSyntaxError as error:
            raise ConversationFormatError(f"invalid XML: {error.msg}", line=error.lineno, format=fmt) from None
        if count == 0:
            raise ConversationFormatError("no <conversation> elements found", line=1, format=fmt)
    finally:
        stream.close()


def _pan12_conversation(element: Any, fmt: str, limits: InputLimits | None) -> Conversation:
    conv_id = element.get("id")
    if not conv_id:
        raise ConversationFormatError("<conversation> without an id attribute", line=element.sourceline, format=fmt)
    messages: list[Message] = []
    for position, node in enumerate(element.iterfind("message"), start=1):
        author = node.findtext("author")
        if author is None or not author.strip():
            raise ConversationFormatError("<message> without an <author>", line=node.sourceline, format=fmt)
        body = node.findtext("text") or ""
        if limits is not None:
            _check_message(body, node.sourceline, fmt, limits)
        line = node.get("line") or str(position)
        messages.append(Message(line, author.strip(), body, (node.findtext("time") or "").strip() or None, node.sourceline))
    if limits is not None:
        _check_count(len(messages), element.sourceline, fmt, limits)
    return Conversation(conv_id, messages, _participants_of(messages), None, fmt)


def parse_pan12(text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]:
    """PAN 2012 XML: `<conversations><conversation id><message line><author/><time/><text/></message>…`."""
    return list(iter_pan12(text, limits=limits))


# ---------------------------------------------------------------------------------------------
# detection and entry point

PARSERS: dict[str, Callable[[str, InputLimits], list[Conversation]]] = {
    "json": parse_tipline_json,
    "csv": parse_csv,
    "text": parse_text_log,
    "whatsapp": parse_whatsapp,
    "discord": parse_discord,
    "pan12": parse_pan12,
}


def detect_format(text: str, filename: str | None = None) -> str:
    """The format of a chat log from its content (and file name as a hint); a precise error if none fits."""
    head = text.lstrip("\ufeff \t\r\n")
    suffix = Path(filename).suffix.lower() if filename else ""
    if head.startswith(("<?xml", "<conversations")):
        return "pan12"
    first = next((l for l in text.splitlines() if l.strip()), "")
    if head.startswith("[") and (WHATSAPP_IOS.match(first) or _TEXT_BRACKETED.match(first)):
        return "whatsapp" if WHATSAPP_IOS.match(first) else "text"
    if head.startswith(("{", "[")):
        if re.search(r'"guild"\s*:', head[:4000]) and re.search(r'"channel"\s*:', head[:4000]):
            return "discord"
        return "json"
    if WHATSAPP_IOS.match(first) or WHATSAPP_ANDROID.match(first):
        return "whatsapp"
    header = [c.strip().lower().lstrip("\ufeff") for c in first.split(",")]
    if suffix == ".csv" or {"time", "author", "text"} <= set(header):
        return "csv"
    if suffix == ".xml":
        return "pan12"
    if _TEXT_BRACKETED.match(first) or _TEXT_BRACKETED_NAME.match(first) or _plain_speaker(first):
        return "text"
    if suffix == ".json":
        return "json"
    line = next((i for i, l in enumerate(text.splitlines(), start=1) if l.strip()), 1)
    raise ConversationFormatError(
        "unrecognised chat-log format (expected tipline JSON, CSV with time,author,text, a text log "
        "'[time] name: text', a WhatsApp or Discord export, or PAN 2012 XML)",
        line=line,
    )


def parse_conversations(
    data: bytes | str,
    format: str = "auto",
    *,
    filename: str | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    lenient: bool = False,
) -> list[Conversation]:
    """Every conversation in a chat log, in order. `format` is `auto` or one of FORMATS.

    With `lenient`, free text that no format recognises is read as a text log whose unattributed
    lines belong to an author named `unknown` (for chat content typed into a report form).
    """
    text = decode_input(data, limits)
    if not text.strip():
        raise ConversationFormatError("empty input", line=1)
    if format == "auto":
        try:
            format = detect_format(text, filename)
        except ConversationFormatError:
            if not lenient:
                raise
            format = "text"
    if format not in PARSERS:
        raise ConversationFormatError(f"unknown format {format!r}; expected auto or one of {', '.join(FORMATS)}")
    if format == "text":
        conversations = parse_text_log(text, limits, lenient=lenient)
    else:
        conversations = PARSERS[format](text, limits)
    if filename and len(conversations) == 1 and conversations[0].id in ("conversation-1", "whatsapp-chat"):
        conversations[0].id = Path(filename).name
    return conversations


def conversation_from_dict(data: dict[str, Any]) -> Conversation:
    """A Conversation from an already-decoded tipline conversation JSON object (e.g. an API request body)."""
    return parse_tipline_json(json.dumps(data))[0]
