"""The audit trail's rules: what an event is, how each one is sealed when it is written and chained
to the one before it, and how the chain's head and its checkpoints are signed.

Every seal is an HMAC-SHA256 with the audit key, over bytes that start with what they seal
("event", "chain", "head", "checkpoint"), so that no seal of one kind can pass for another."""

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
        """The exact bytes sealed by the chain of events written before migration 0016 (`seal`):
        stable across databases and Python versions."""
        return self._json(seq=True)

    def content(self) -> bytes:
        """The event without its number (which the database assigns as the row is inserted): the
        bytes its content seal (`content_mac`) covers."""
        return self._json(seq=False)

    def _json(self, *, seq: bool) -> bytes:
        body = {
            **({"seq": self.seq} if seq else {}),
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
    """The chain seal of an event written before migration 0016 (its `mac` is empty): HMAC-SHA256
    over the previous hash and the event with its number. Newer events are sealed in two steps
    (`content_mac` when written, `chain_seal` when chained)."""
    return hmac.new(key, prev_hash.encode() + b"\n" + record.canonical(), hashlib.sha256).hexdigest()


def content_mac(key: bytes, record: AuditRecord) -> str:
    """An event's own seal, computed as it is written: its content cannot change afterwards without
    the audit key, even before the sealer has chained it."""
    return hmac.new(key, b"event\n" + record.content(), hashlib.sha256).hexdigest()


def chain_seal(key: bytes, prev_hash: str, chain_seq: int, seq: int, mac: str) -> str:
    """An event's place in the chain: its position, its number and its content seal, bound to the
    seal of the event before it. Removing, reordering or replacing sealed events breaks it."""
    message = f"chain\n{prev_hash}\n{chain_seq}\n{seq}\n{mac}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def head_seal(key: bytes, chain_seq: int, hash_: str) -> str:
    """The seal of the chain's head row: someone with only the database cannot set the head to an
    event of their choice (though they can put back a head row they copied earlier)."""
    return hmac.new(key, f"head\n{chain_seq}\n{hash_}".encode(), hashlib.sha256).hexdigest()


def checkpoint_signature(key: bytes, body: dict[str, Any]) -> str:
    """The signature of a checkpoint line (every field but the signature itself)."""
    message = b"checkpoint\n" + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
