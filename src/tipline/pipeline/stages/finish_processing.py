"""The finish_processing stage: a processed report goes into the review queue."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tipline.domain.lifecycle import ReportState
from tipline.pipeline.stages.base import PIPELINE_ACTOR, HasReports, Stage


class FinishProcessingContext(HasReports, Protocol):
    """Reads the report's state; moves it from processing to awaiting review."""


def finish_processing(context: FinishProcessingContext, session: Session, report_id: int) -> None:
    row = context.reports.row(session, report_id, for_update=True)
    if row.state == ReportState.PROCESSING:
        context.reports.transition(session, report_id, ReportState.AWAITING_REVIEW, PIPELINE_ACTOR)


STAGE = Stage("finish_processing", "put the report in the review queue", finish_processing)
