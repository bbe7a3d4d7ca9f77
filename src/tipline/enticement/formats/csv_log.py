"""CSV chat logs: a header naming `time`, `author` and `text` columns."""

from __future__ import annotations

import csv
import io

from tipline.enticement.conversation import Conversation, Message
from tipline.enticement.formats.base import (
    DEFAULT_LIMITS,
    ConversationFormatError,
    InputLimits,
    check_count,
    check_message,
    participants_of,
)

name = "csv"


def detect(head: str, first: str, suffix: str) -> int:
    """A header naming time, author and text, or a `.csv` name. (See registry.ChatFormat.)"""
    header = [c.strip().lower().lstrip("\ufeff") for c in first.split(",")]
    return 50 if suffix == ".csv" or {"time", "author", "text"} <= set(header) else 0


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
                Message(mid, author, check_message(row[x_col], line, fmt, limits), row[t_col].strip() or None, line)
            )
            check_count(len(messages), line, fmt, limits)
    except csv.Error as error:
        raise ConversationFormatError(f"invalid CSV: {error}", line=reader.line_num, format=fmt) from None
    return [Conversation("conversation-1", messages, participants_of(messages), None, fmt)]


parse = parse_csv
