"""The secret code a public reporter receives with their report number.

With both, the reporter may add to the report later and see whether it has been read. The code is
16 characters from an alphabet without look-alikes (80 random bits), shown once on the receipt and
stored only as an HMAC keyed with the instance's secret key, so a copy of the database does not hold
it. A report locks after `MAX_FAILED` wrong codes; a right one does not reset that count.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.domain.lifecycle import ReportState
from tipline.store.tables import ReportCodeRow, ReportRow

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
LENGTH = 16
MAX_FAILED = 20
MAX_ADDITIONS = 20


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))


def normalise(code: str) -> str:
    """What a person typed, as the code is stored: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())


def _digest(secret_key: bytes, report_id: int, code: str) -> str:
    return hmac.new(secret_key, f"report-code:{report_id}:{normalise(code)}".encode(), hashlib.sha256).hexdigest()


def issue(session: Session, secret_key: bytes, report_id: int) -> str:
    """A new code for a report (in the report's own transaction); returns it to be shown once."""
    code = new_code()
    session.add(ReportCodeRow(report_id=report_id, code_hash=_digest(secret_key, report_id, code),
                              created_at=utc_now(), failed_attempts=0, additions=0))
    return code


class Status:
    """What a reporter may learn about their report: that it arrived, and whether it has been read."""

    WAITING = "waiting"  # received, not yet read by the team
    BEING_READ = "being_read"
    READ = "read"


_READ_STATES = {ReportState.REFERRED.value, ReportState.INFORMATIONAL.value, ReportState.CLOSED_NO_ACTION.value}


@dataclass(frozen=True)
class Access:
    report_id: int
    status: str
    additions: int
    may_add: bool


def check(session: Session, secret_key: bytes, report_id: int | None, code: str) -> Access | None:
    """The report a number and code open, or None (the same None for a wrong number, a wrong code and
    a locked report: nobody learns which reports exist). Counts a wrong code against the report."""
    if report_id is None or not normalise(code):
        return None
    row = session.get(ReportCodeRow, report_id, with_for_update=True)
    if row is None:
        return None
    if row.failed_attempts >= MAX_FAILED:
        return None
    if not hmac.compare_digest(row.code_hash, _digest(secret_key, report_id, code)):
        row.failed_attempts += 1
        return None
    report = session.get(ReportRow, report_id)
    if report is None:
        return None
    if report.state in _READ_STATES:
        status = Status.READ
    elif report.state == ReportState.IN_REVIEW.value:
        status = Status.BEING_READ
    else:
        status = Status.WAITING
    return Access(report_id, status, row.additions, may_add=row.additions < MAX_ADDITIONS)


def count_addition(session: Session, report_id: int) -> None:
    row = session.get(ReportCodeRow, report_id, with_for_update=True)
    if row is not None:
        row.additions += 1
