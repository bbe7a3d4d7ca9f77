"""The begin_processing stage: a received report is marked as being processed."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tipline.domain.lifecycle import ReportState
from tipline.pipeline.stages.base import PIPELINE_ACTOR, HasReports, Stage


class BeginProcessingContext(HasReports, Protocol):
    """Reads the report's state; moves it from received to processing."""


def begin_processing(context: BeginProcessingContext, session: Session, report_id: int) -> None:
    row = context.reports.row(session, report_id, for_update=True)
    if row.state == ReportState.RECEIVED:
        context.reports.transition(session, report_id, ReportState.PROCESSING, PIPELINE_ACTOR)


STAGE = Stage("begin_processing", "mark the report as being processed", begin_processing)
