"""The demo's follow-up side: the example support-service directory, and a few public reporters who
asked to be contacted (invented contact details from reserved ranges), one of them overdue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.follow_up import FollowUpRequest
from tipline.domain.report import ReportSource
from tipline.domain.support_resources import parse_resources
from tipline.instance import Instance
from tipline.store import follow_ups
from tipline.store.accounts import PUBLIC
from tipline.store.tables import ReportRow

DIRECTORY = Path(__file__).parent / "support_directory.csv"
# (channel, contact, safe times, language, situation, hours ago the request was made)
REQUESTS = [
    ("phone", "+1 555 0100 241", "weekdays after 4pm; please do not leave a message", "en", "parent", 40),
    ("text", "+52 55 0100 2000", "entre semana después de las 4 de la tarde", "es", "sextortion", 6),
    ("email", "parent.example@example.org", "any time", "en", "enticement", 2),
]


def load_demo_follow_ups(instance: Instance, actor: Actor) -> int:
    """The directory and the requests (on the first public-form reports); returns the requests made."""
    with instance.db.transaction() as session:
        follow_ups.replace_resources(session, instance.audit, parse_resources(DIRECTORY.read_bytes()), actor,
                                     source=DIRECTORY.name)
        reports = list(session.execute(select(ReportRow.id).where(ReportRow.source == ReportSource.PUBLIC_FORM.value)
                                       .order_by(ReportRow.id).limit(len(REQUESTS))).scalars())
    now = utc_now()
    made = 0
    for report_id, (channel, contact, when, language, situation, hours_ago) in zip(reports, REQUESTS, strict=False):
        with instance.db.transaction() as session:
            wanted = FollowUpRequest(report_id, channel, contact, when, language, situation)
            if follow_ups.request(session, instance.audit, wanted, PUBLIC.actor,
                                  now=now - timedelta(hours=hours_ago)) is not None:
                made += 1
    return made
