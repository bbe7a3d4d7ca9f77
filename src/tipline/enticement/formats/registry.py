"""The table of chat-log formats, detection by the strongest claim, and `parse_conversations`.

A format is a module with `name`, `detect(head, first, suffix)` and `parse(text, limits)`; adding a
format means writing its module and listing it in `FORMATS_BY_NAME`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tipline.enticement.conversation import Conversation
from tipline.enticement.formats import csv_log, discord, pan12, text_log, tipline_json, whatsapp
from tipline.enticement.formats.base import DEFAULT_LIMITS, ConversationFormatError, InputLimits, decode_input


class ChatFormat(Protocol):
    """One chat-log format: its name, how sure it is a text is in it, and its parser."""

    name: str

    def detect(self, head: str, first: str, suffix: str) -> int:
        """How strongly a chat log looks like this format (0: not at all; the strongest claim wins).

        `head` is the text without leading BOM and whitespace, `first` its first non-empty line, `suffix`
        the file name's extension in lower case ('' when there is no name).
        """
        ...

    def parse(self, text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]: ...


FORMATS_BY_NAME: dict[str, ChatFormat] = {
    module.name: module for module in (tipline_json, csv_log, text_log, whatsapp, discord, pan12)
}
"""Every format by its name, in the order error messages and the command line list them."""

FORMATS: tuple[str, ...] = tuple(FORMATS_BY_NAME)
"""Format names accepted by `parse_conversations` (besides `auto`)."""

PARSERS: dict[str, Callable[[str, InputLimits], list[Conversation]]] = {
    name: fmt.parse for name, fmt in FORMATS_BY_NAME.items()
}


def detect_format(text: str, filename: str | None = None) -> str:
    """The format of a chat log from its content (and file name as a hint); a precise error if none fits."""
    head = text.lstrip("\ufeff \t\r\n")
    suffix = Path(filename).suffix.lower() if filename else ""
    first = next((l for l in text.splitlines() if l.strip()), "")
    best, strength = None, 0
    for name, fmt in FORMATS_BY_NAME.items():
        claim = fmt.detect(head, first, suffix)
        if claim > strength:
            best, strength = name, claim
    if best is not None:
        return best
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
    if format not in FORMATS_BY_NAME:
        raise ConversationFormatError(f"unknown format {format!r}; expected auto or one of {', '.join(FORMATS)}")
    if format == text_log.name:
        conversations = text_log.parse_text_log(text, limits, lenient=lenient)
    else:
        conversations = FORMATS_BY_NAME[format].parse(text, limits)
    if filename and len(conversations) == 1 and conversations[0].id in ("conversation-1", "whatsapp-chat"):
        conversations[0].id = Path(filename).name
    return conversations
