"""A conversation as the detector reads it: participants and messages in order, whatever the source format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone who writes in a conversation; `claimed_age` is what a profile or platform says, if known."""

    id: str
    display_name: str | None = None
    claimed_age: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "display_name": self.display_name, "claimed_age": self.claimed_age}


@dataclass(frozen=True, slots=True)
class Message:
    """One message: an opaque id, the author's participant id, the time as written (ISO 8601 when known), the text."""

    id: str
    author: str
    text: str
    time: str | None = None
    line: int | None = None
    """The line of the source file the message starts on, when the format has lines."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "author": self.author, "time": self.time, "text": self.text}


@dataclass(slots=True)
class Conversation:
    """A whole conversation: its id, the platform if known, the participants and the messages in reading order."""

    id: str
    messages: list[Message]
    participants: list[Participant] = field(default_factory=list)
    platform: str | None = None
    source_format: str | None = None

    def participant(self, author: str) -> Participant | None:
        """The participant with this id, if listed."""
        for participant in self.participants:
            if participant.id == author:
                return participant
        return None

    def authors(self) -> list[str]:
        """Every author, listed participants first, then others in order of their first message."""
        seen: dict[str, None] = {p.id: None for p in self.participants}
        for message in self.messages:
            seen.setdefault(message.author, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        """The tipline conversation JSON."""
        return {
            "id": self.id,
            "platform": self.platform,
            "participants": [p.to_dict() for p in self.participants],
            "messages": [m.to_dict() for m in self.messages],
        }
