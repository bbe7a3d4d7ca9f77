"""The pipeline's stages, in order. Each reads what earlier stages wrote, adds its own facts, and can
run again without harm (a crash anywhere is repaired by running the stage again)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportSource
from tipline.linking import ExtractionContext, extract_identifiers

if TYPE_CHECKING:
    from tipline.instance import Instance

PIPELINE_ACTOR = Actor.system("pipeline")


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[Instance, Session, int], None]


def begin_processing(instance: Instance, session: Session, report_id: int) -> None:
    row = instance.reports.row(session, report_id, for_update=True)
    if row.state == ReportState.RECEIVED:
        instance.reports.transition(session, report_id, ReportState.PROCESSING, PIPELINE_ACTOR)


def extract_report_identifiers(instance: Instance, session: Session, report_id: int) -> None:
    report = instance.reports.load(session, report_id)
    context = ExtractionContext(
        default_phone_region=instance.settings.default_phone_region,
        provider_service=report.submitted_by,
        include_reporter=report.source == ReportSource.PUBLIC_FORM,
    )
    files = [(position, file.details) for position, file in enumerate(report.files)]
    identifiers = extract_identifiers(report.content, context, files)
    instance.identifiers.replace(session, report_id, identifiers)


def link_reports(instance: Instance, session: Session, report_id: int) -> None:
    instance.identifiers.link(session, report_id, PIPELINE_ACTOR, instance.settings.link_hub_limit)


def finish_processing(instance: Instance, session: Session, report_id: int) -> None:
    row = instance.reports.row(session, report_id, for_update=True)
    if row.state == ReportState.PROCESSING:
        instance.reports.transition(session, report_id, ReportState.AWAITING_REVIEW, PIPELINE_ACTOR)


PIPELINE: list[Stage] = [
    Stage("begin_processing", "mark the report as being processed", begin_processing),
    Stage("extract_identifiers", "find and normalise every identifier", extract_report_identifiers),
    Stage("link_reports", "link reports that share identifiers", link_reports),
    Stage("finish_processing", "put the report in the review queue", finish_processing),
]
STAGES = {stage.name: stage for stage in PIPELINE}
FIRST_STAGE = PIPELINE[0].name


def stage_after(name: str) -> str | None:
    names = [stage.name for stage in PIPELINE]
    position = names.index(name)
    return names[position + 1] if position + 1 < len(names) else None
