"""The count_trends stage: the report's facts into the daily counts (only what changed, so it can run
again), then the emerging-threat detector on the series and identifiers it touched, so that a surge
is caught in the same pass that counts it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tipline.pipeline.stages.base import Stage
from tipline.trends.counting import count_report
from tipline.trends.detector import DetectorContext, check_report


def count_trends(context: DetectorContext, session: Session, report_id: int) -> None:
    counted = count_report(session, report_id)
    if counted is not None:
        check_report(context, session, report_id, counted.day, counted.facts, counted.counts)


STAGE = Stage("count_trends", "add the report to the daily counts and look for emerging threats", count_trends)
