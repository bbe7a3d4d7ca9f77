"""The pipeline's count_trends stage: the report's facts into the daily counts, then the detector on the
series and identifiers it touched (so a surge is caught in the same pass that counts it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tipline.trends.counting import count_report
from tipline.trends.detector import check_report

if TYPE_CHECKING:
    from tipline.instance import Instance


def count_trends(instance: Instance, session: Session, report_id: int) -> None:
    counted = count_report(session, report_id)
    if counted is not None:
        day, facts, _added = counted
        check_report(instance, session, report_id, day, facts)
