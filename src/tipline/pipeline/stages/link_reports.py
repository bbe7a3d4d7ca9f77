"""The link_reports stage: reports that share identifiers are linked, and those already scored are
scored again (a new linked report can raise their priority)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tipline.pipeline.stages.base import PIPELINE_ACTOR, HasIdentifiers, HasSettings, Stage
from tipline.pipeline.stages.score_priority import ScorePriorityContext, rescore


class LinkReportsContext(HasIdentifiers, HasSettings, ScorePriorityContext, Protocol):
    """Reads the report's identifiers and the hub limit; writes links, and the linked reports' priority."""


def link_reports(context: LinkReportsContext, session: Session, report_id: int) -> None:
    created = context.identifiers.link(session, report_id, PIPELINE_ACTOR, context.settings.link_hub_limit)
    for other in sorted({link.linked_report_id for link in created}):
        row = context.reports.row(session, other)
        if row.priority is not None:  # reports already scored learn that they have a new linked report
            rescore(context, session, other, "linked report")


STAGE = Stage("link_reports", "link reports that share identifiers", link_reports)
