"""The pipeline's stages, in order. Each reads what earlier stages wrote, adds its own facts, and can
run again without harm (a crash anywhere is repaired by running the stage again)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportSource
from tipline.linking import ExtractionContext, extract_identifiers
from tipline.pipeline.archive_stage import store_unpacked_members, unpack_report_archives
from tipline.pipeline.enticement_stage import (
    analyse_report_conversations,
    store_conversation_analyses,
)
from tipline.pipeline.free_text_stage import read_report_free_text, store_text_findings
from tipline.pipeline.matching_stage import match_report_files
from tipline.pipeline.media_stage import hash_report_files, store_file_hashes
from tipline.referral.locating import resolve_jurisdiction
from tipline.trends.stage import count_trends

if TYPE_CHECKING:
    from tipline.instance import Instance

PIPELINE_ACTOR = Actor.system("pipeline")


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline. `run` writes its facts inside the job's transaction; a stage with
    heavy work (decoding media, reading conversations) does it first in `prepare`, outside any
    transaction, and `run` receives the result as its fourth argument."""

    name: str
    description: str
    run: Callable[..., None]
    prepare: Callable[[Instance, int], Any] | None = None

    def execute(self, instance: Instance, session: Session, report_id: int, prepared: Any = None) -> None:
        if self.prepare is None:
            self.run(instance, session, report_id)
        else:
            self.run(instance, session, report_id, prepared)


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
    created = instance.identifiers.link(session, report_id, PIPELINE_ACTOR, instance.settings.link_hub_limit)
    for other in sorted({link.linked_report_id for link in created}):
        row = instance.reports.row(session, other)
        if row.priority is not None:  # reports already scored learn that they have a new linked report
            instance.review.rescore(session, other, "linked report")


def score_priority(instance: Instance, session: Session, report_id: int) -> None:
    instance.review.rescore(session, report_id, "pipeline")


def finish_processing(instance: Instance, session: Session, report_id: int) -> None:
    row = instance.reports.row(session, report_id, for_update=True)
    if row.state == ReportState.PROCESSING:
        instance.reports.transition(session, report_id, ReportState.AWAITING_REVIEW, PIPELINE_ACTOR)


PIPELINE: list[Stage] = [
    Stage("begin_processing", "mark the report as being processed", begin_processing),
    Stage("hash_files", "hash every file (MD5, SHA-1, SHA-256, PDQ, video frames)", store_file_hashes,
          prepare=hash_report_files),
    Stage("unpack_archives", "add the files inside ZIP attachments to the report, hashed", store_unpacked_members,
          prepare=unpack_report_archives),
    Stage("match_files", "look every file up in the hash banks", match_report_files),
    Stage("analyze_conversations", "detect enticement tactics in attached chat logs and chat text",
          store_conversation_analyses, prepare=analyse_report_conversations),
    Stage("read_free_text", "read descriptions and notes for threats, deadlines, demands, meetings and ages",
          store_text_findings, prepare=read_report_free_text),
    Stage("extract_identifiers", "find and normalise every identifier", extract_report_identifiers),
    Stage("link_reports", "link reports that share identifiers", link_reports),
    Stage("score_priority", "score the report's priority with its reasons", score_priority),
    Stage("resolve_jurisdiction", "locate the report and suggest the agency to refer it to", resolve_jurisdiction),
    Stage("count_trends", "add the report to the daily counts and look for emerging threats", count_trends),
    Stage("finish_processing", "put the report in the review queue", finish_processing),
]
STAGES = {stage.name: stage for stage in PIPELINE}
FIRST_STAGE = PIPELINE[0].name


def stage_after(name: str) -> str | None:
    names = [stage.name for stage in PIPELINE]
    position = names.index(name)
    return names[position + 1] if position + 1 < len(names) else None
