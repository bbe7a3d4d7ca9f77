"""The audit trail's rules: what an event is and how each one seals the chain before it."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64


class ActorType(StrEnum):
    USER = "user"  # a person's login
    API_ACCOUNT = "api_account"  # a service provider's API account
    PUBLIC = "public"  # an anonymous member of the public
    SYSTEM = "system"  # the pipeline, the command line, scheduled work


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: every read of report content and every change names one."""

    type: ActorType
    id: str | None
    name: str

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorType.SYSTEM, None, name)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One event as it is sealed into the chain."""

    seq: int
    at: datetime
    actor: Actor
    action: str
    report_id: int | None
    details: dict[str, Any] = field(default_factory=dict)

    def canonical(self) -> bytes:
        """The exact bytes that are sealed: stable across databases and Python versions."""
        body = {
            "seq": self.seq,
            "at": self.at.isoformat(timespec="microseconds"),
            "actor_type": self.actor.type.value,
            "actor_id": self.actor.id,
            "actor_name": self.actor.name,
            "action": self.action,
            "report_id": self.report_id,
            "details": self.details,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(key: bytes, prev_hash: str, record: AuditRecord) -> str:
    """The event's hash: HMAC-SHA256 over the previous hash and the event, keyed so that someone
    holding only the database cannot rewrite history and recompute the chain."""
    return hmac.new(key, prev_hash.encode() + b"\n" + record.canonical(), hashlib.sha256).hexdigest()
