"""The extract_identifiers stage: every identifier a report names (emails, phones, IPs, screen names,
payment handles ...), normalised, replacing what an earlier run found."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tipline.domain.report import ReportSource
from tipline.linking import ExtractionContext, extract_identifiers
from tipline.pipeline.stages.base import HasIdentifiers, HasReports, HasSettings, Stage


class ExtractIdentifiersContext(HasReports, HasSettings, HasIdentifiers, Protocol):
    """Reads the report and the default phone region; writes the report's identifiers."""


def extract_report_identifiers(context: ExtractIdentifiersContext, session: Session, report_id: int) -> None:
    report = context.reports.load(session, report_id)
    extraction = ExtractionContext(
        default_phone_region=context.settings.default_phone_region,
        provider_service=report.submitted_by,
        include_reporter=report.source == ReportSource.PUBLIC_FORM,
    )
    files = [(position, file.details) for position, file in enumerate(report.files)]
    identifiers = extract_identifiers(report.content, extraction, files)
    context.identifiers.replace(session, report_id, identifiers)


STAGE = Stage("extract_identifiers", "find and normalise every identifier", extract_report_identifiers)
