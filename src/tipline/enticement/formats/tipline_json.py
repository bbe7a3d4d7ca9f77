"""tipline conversation JSON: one object, a list of objects, or one object per line (JSON Lines)."""

from __future__ import annotations

import json
from typing import Any

from tipline.enticement.conversation import Conversation, Message, Participant
from tipline.enticement.formats.base import (
    DEFAULT_LIMITS,
    ConversationFormatError,
    InputLimits,
    check_count,
    check_message,
    line_of,
)
from tipline.enticement.formats.located import Located, limit_conversations, load_located, opaque_id, require

name = "json"


def detect(head: str, first: str, suffix: str) -> int:
    """JSON text (after Discord); else a `.json` name, the last resort. (See registry.ChatFormat.)"""
    if head.startswith(("{", "[")):
        return 70
    return 20 if suffix == ".json" else 0


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
            first_line = line_of(text, offset)
            for index, raw in enumerate(lines):
                if raw.strip():
                    located = load_located(raw, fmt)
                    _shift_lines(located, first_line + index - 1)
                    conversations.append(_tipline_conversation(located, fmt, limits, index))
            return limit_conversations(conversations, fmt, limits)
    located = load_located(text, fmt, depth=4)
    if isinstance(located.value, list):
        return limit_conversations(
            [_tipline_conversation(item, fmt, limits, i) for i, item in enumerate(located.children)], fmt, limits
        )
    return [_tipline_conversation(located, fmt, limits, 0)]


def _shift_lines(located: Located, by: int) -> None:
    located.line += by
    children = located.children
    if isinstance(children, dict):
        for child in children.values():
            _shift_lines(child, by)
    elif isinstance(children, list):
        for child in children:
            _shift_lines(child, by)


def _tipline_conversation(obj: Located, fmt: str, limits: InputLimits, index: int) -> Conversation:
    if not isinstance(obj.value, dict):
        raise ConversationFormatError("a conversation must be a JSON object", line=obj.line, format=fmt)
    raw_messages = require(obj, "messages", (list,), fmt, "the conversation")
    check_count(len(raw_messages), obj.line, fmt, limits)
    conv_id = obj.value.get("id")
    conv_id = opaque_id(conv_id) if conv_id is not None else f"conversation-{index + 1}"
    platform = obj.value.get("platform")
    participants: list[Participant] = []
    raw_participants = obj.value.get("participants") or []
    if not isinstance(raw_participants, list):
        raise ConversationFormatError(
            "'participants' must be a list", line=obj.children["participants"].line, format=fmt
        )
    participant_nodes = obj.children["participants"].children if "participants" in obj.children else []
    for position, node in enumerate(participant_nodes or []):
        pid = require(node, "id", (str, int), fmt, f"participant {position + 1}")
        age = node.value.get("claimed_age")
        if age is not None and (isinstance(age, bool) or not isinstance(age, int) or not 0 < age < 130):
            raise ConversationFormatError(
                f"participant {position + 1} 'claimed_age' must be a whole number of years or null",
                line=node.line,
                format=fmt,
            )
        name = node.value.get("display_name")
        participants.append(Participant(opaque_id(pid), str(name) if name is not None else None, age))
    messages: list[Message] = []
    for position, node in enumerate(obj.children["messages"].children):
        what = f"message {position + 1}"
        author = require(node, "author", (str, int), fmt, what)
        body = require(node, "text", (str,), fmt, what)
        mid = node.value.get("id")
        mid = opaque_id(mid) if mid is not None else str(position + 1)
        time = node.value.get("time")
        if time is not None and not isinstance(time, str):
            raise ConversationFormatError(f"{what} 'time' must be a string", line=node.line, format=fmt)
        messages.append(Message(mid, opaque_id(author), check_message(body, node.line, fmt, limits), time, node.line))
    return Conversation(conv_id, messages, participants, str(platform) if platform else None, fmt)


def conversation_from_dict(data: dict[str, Any]) -> Conversation:
    """A Conversation from an already-decoded tipline conversation JSON object (e.g. an API request body)."""
    return parse_tipline_json(json.dumps(data))[0]


parse = parse_tipline_json
