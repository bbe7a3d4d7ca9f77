"""Exporting a stored report as CyberTipline XML (to forward it to NCMEC or another hotline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tipline.cybertipline.xmlmap import file_details_to_xml, report_to_xml
from tipline.domain.audit import Actor
from tipline.domain.base import STORED
from tipline.domain.report import ReportContent
from tipline.store.reports import file_to_domain
from tipline.store.tables import ReportFileRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tipline.instance import Instance


@dataclass
class ExportedReport:
    report_id: int
    report_xml: bytes
    file_details_xml: dict[str, bytes] = field(default_factory=dict)  # file id -> <fileDetails>


def export_report(instance: Instance, session: Session, report_id: int, actor: Actor, *,
                  with_file_details: bool = False) -> ExportedReport:
    """The report's <report> document (and each file's <fileDetails>); the read is audited as a
    `report.read` by `actor` with purpose "export cybertipline"."""
    row = instance.reports.row(session, report_id)
    instance.audit.append(session, actor, "report.read", report_id=report_id,
                          details={"purpose": "export cybertipline", "with_file_details": with_file_details})
    exported = ExportedReport(report_id, report_to_xml(ReportContent.model_validate(row.content, context=STORED)))
    if with_file_details:
        files = session.query(ReportFileRow).filter(  # files the reporter sent, not those found inside them
            ReportFileRow.report_id == report_id, ReportFileRow.parent_file_id.is_(None)).order_by(
            ReportFileRow.position)
        for file_row in files:
            exported.file_details_xml[file_row.id] = file_details_to_xml(
                report_id, file_row.id, file_to_domain(file_row).details)
    return exported
