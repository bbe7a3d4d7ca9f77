"""The detector's regular run inside the workers' upkeep (tipline.pipeline.engine.maintenance), hourly: recount
the reports decided or referred since the last run (decisions happen after the pipeline counted them),
then judge every series of yesterday (now complete) and today. `tipline trends detect` does the same
from cron or by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from tipline.domain.base import utc_now
from tipline.store.tables import ReportRow
from tipline.trends.counting import rebuild
from tipline.trends.detector import detect_day

if TYPE_CHECKING:
    from tipline.instance import Instance

AFTER_PIPELINE = ("awaiting_review", "in_review", "referred", "informational", "closed_no_action")
LOOK_BACK = timedelta(hours=2)


def run_trends_upkeep(instance: Instance) -> int:
    now = utc_now()
    with instance.db.transaction() as session:
        changed = list(session.execute(select(ReportRow.id).where(
            ReportRow.updated_at >= now - LOOK_BACK, ReportRow.state.in_(AFTER_PIPELINE),
            ReportRow.received_at.is_not(None)).order_by(ReportRow.id)).scalars())
    touched = rebuild(instance, report_ids=changed)["reports"] if changed else 0
    for day in (now.date() - timedelta(days=1), now.date()):
        with instance.db.transaction() as session:
            touched += detect_day(instance, session, day)
    return touched
