"""JSON with positions: decode value by value so an error can name the line of the offending object."""

from __future__ import annotations

import json
import re
from typing import Any

from tipline.enticement.conversation import Conversation
from tipline.enticement.formats.base import ConversationFormatError, InputLimits, line_of

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


class Located:
    """A decoded JSON value with the line it starts on; objects and arrays keep located children."""

    __slots__ = ("children", "line", "value")

    def __init__(self, value: Any, line: int, children: Any = None) -> None:
        self.value = value
        self.line = line
        self.children = children


def load_located(text: str, fmt: str, depth: int = 3) -> Located:
    """Decode JSON, keeping the line of every object and array element down to `depth` levels."""

    def error(reason: str, pos: int) -> ConversationFormatError:
        return ConversationFormatError(reason, line=line_of(text, pos), format=fmt)

    def value_at(pos: int, level: int) -> tuple[Located, int]:
        pos = _skip_ws(text, pos)
        line = line_of(text, pos)
        if pos >= len(text):
            raise error("unexpected end of input", pos)
        char = text[pos]
        if level > 0 and char == "{":
            children: dict[str, Located] = {}
            values: dict[str, Any] = {}
            pos = _skip_ws(text, pos + 1)
            if text.startswith("}", pos):
                return Located(values, line, children), pos + 1
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
                    return Located(values, line, children), pos + 1
                raise error("expected ',' or '}' in an object", pos)
        if level > 0 and char == "[":
            items: list[Located] = []
            pos = _skip_ws(text, pos + 1)
            if text.startswith("]", pos):
                return Located([], line, items), pos + 1
            while True:
                child, pos = value_at(pos, level - 1)
                items.append(child)
                pos = _skip_ws(text, pos)
                if text.startswith(",", pos):
                    pos += 1
                    continue
                if text.startswith("]", pos):
                    return Located([c.value for c in items], line, items), pos + 1
                raise error("expected ',' or ']' in an array", pos)
        value, end = _raw(pos)
        return Located(value, line), end

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


def require(obj: Located, key: str, kinds: tuple[type, ...], fmt: str, what: str) -> Any:
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


def opaque_id(value: Any) -> str:
    return str(value)


def limit_conversations(conversations: list[Conversation], fmt: str, limits: InputLimits) -> list[Conversation]:
    if len(conversations) > limits.max_conversations:
        raise ConversationFormatError(f"more than the limit of {limits.max_conversations} conversations", format=fmt)
    return conversations
