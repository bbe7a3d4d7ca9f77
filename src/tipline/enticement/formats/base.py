"""What every chat-log format shares: input limits, the format error with its line, decoding and counting."""

from __future__ import annotations

from dataclasses import dataclass

from tipline.enticement.conversation import Message, Participant


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
        raise ConversationFormatError(f"not UTF-8 text (invalid byte 0x{data[error.start]:02x})", line=line) from None


def check_message(text: str, line: int | None, fmt: str, limits: InputLimits) -> str:
    if len(text) > limits.max_message_chars:
        raise ConversationFormatError(
            f"message longer than the limit of {limits.max_message_chars} characters", line=line, format=fmt
        )
    return text


def check_count(count: int, line: int | None, fmt: str, limits: InputLimits) -> None:
    if count > limits.max_messages:
        raise ConversationFormatError(f"more than the limit of {limits.max_messages} messages", line=line, format=fmt)


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def participants_of(messages: list[Message]) -> list[Participant]:
    seen: dict[str, Participant] = {}
    for message in messages:
        seen.setdefault(message.author, Participant(message.author, message.author, None))
    return list(seen.values())
