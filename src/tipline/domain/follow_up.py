"""Follow-up after a public report: what a reporter may ask for, and what an advocate records.

A reporter who wants to be contacted chooses a channel, gives the detail to use and the times that
are safe; nobody contacts them otherwise. Advocates see these requests (never the report's content),
record the contacts they made or tried and the support services they referred the person to, set
when to act next and close the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

CHANNELS = ("phone", "text", "email")  # a call, a text message, an email
CHANNEL_LABELS = {"phone": "Phone call", "text": "Text message", "email": "Email"}
CONTACT_LIMIT = 200
SAFE_TIMES_LIMIT = 500
NOTE_LIMIT = 5000
FIRST_DUE = timedelta(hours=24)  # a new request should be acted on within a day
OPEN = "open"
CLOSED = "closed"

CONTACT_OUTCOMES = {
    "reached": "Spoke with them",
    "no_answer": "No answer",
    "message_left": "Left a message",
    "not_safe": "Not a safe time; will try again",
    "wrong_detail": "The detail did not work",
}
ACTION_KINDS = {"contact": "Contact", "referral": "Referral", "note": "Note", "closed": "Closed",
                "changed": "Request changed by the reporter", "requested": "Requested"}

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def phone_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def contact_ok(channel: str, contact: str) -> bool:
    """Whether a contact detail can be used for a channel: an email address for email, a phone number
    (6 to 15 digits, with spaces, +, -, brackets and dots) for a call or a text."""
    if channel == "email":
        return _EMAIL.match(contact) is not None
    return set(contact) <= set("0123456789+-() .") and 6 <= len(phone_digits(contact)) <= 15


def first_due(requested_at: datetime) -> datetime:
    return requested_at + FIRST_DUE


@dataclass(frozen=True)
class FollowUpRequest:
    """What the reporter asked for (checked at the web boundary)."""

    report_id: int
    channel: str
    contact: str
    safe_times: str
    language: str
    situation: str | None
