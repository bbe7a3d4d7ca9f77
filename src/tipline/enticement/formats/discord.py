"""Discord: a DiscordChatExporter JSON export (guild, channel, messages with author objects)."""

from __future__ import annotations

import re

from tipline.enticement.conversation import Conversation, Message, Participant
from tipline.enticement.formats.base import (
    DEFAULT_LIMITS,
    ConversationFormatError,
    InputLimits,
    check_count,
    check_message,
)
from tipline.enticement.formats.located import load_located, require

name = "discord"


def detect(head: str, first: str, suffix: str) -> int:
    """JSON that names a guild and a channel (before tipline JSON). (See registry.ChatFormat.)"""
    if (
        head.startswith(("{", "["))
        and re.search(r'"guild"\s*:', head[:4000])
        and re.search(r'"channel"\s*:', head[:4000])
    ):
        return 71
    return 0


def parse_discord(text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]:
    """A DiscordChatExporter JSON export: guild, channel and messages with author objects."""
    fmt = "discord"
    located = load_located(text, fmt, depth=4)
    raw_messages = require(located, "messages", (list,), fmt, "the export")
    check_count(len(raw_messages), located.line, fmt, limits)
    channel = located.value.get("channel") if isinstance(located.value.get("channel"), dict) else {}
    guild = located.value.get("guild") if isinstance(located.value.get("guild"), dict) else {}
    conv_id = str(channel.get("id") or channel.get("name") or "discord")
    participants: dict[str, Participant] = {}
    messages: list[Message] = []
    for position, node in enumerate(located.children["messages"].children):
        what = f"message {position + 1}"
        author = require(node, "author", (dict,), fmt, what)
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
            Message(
                mid, author_id, check_message(body, node.line, fmt, limits), str(stamp) if stamp else None, node.line
            )
        )
    platform = "Discord" + (f" ({guild.get('name')})" if guild.get("name") else "")
    return [Conversation(conv_id, messages, list(participants.values()), platform, fmt)]


parse = parse_discord
