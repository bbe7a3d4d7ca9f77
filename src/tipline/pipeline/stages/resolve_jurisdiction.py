"""The resolve_jurisdiction stage: where a report points (its clues: IP addresses, phone numbers,
addresses, places named), and the agency to suggest from the directory; kept in
`report_jurisdictions`. An analyst's choice of agency is kept (tipline.referral.locating)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import STORED, utc_now
from tipline.domain.files import FileDetails
from tipline.domain.report import ReportContent
from tipline.jurisdiction import (
    ClueContext,
    Gazetteer,
    GeoIPDatabaseError,
    Resolution,
    locate,
    open_configured,
    suggest_agency,
)
from tipline.pipeline.stages.base import HasAudit, HasSettings, Stage
from tipline.store.referrals import AgencyRow, ReportJurisdictionRow, list_agencies
from tipline.store.tables import ReportFileRow, ReportRow

log = logging.getLogger("tipline.jurisdiction")
JURISDICTION_ACTOR = Actor.system("pipeline:jurisdiction")


class ResolveJurisdictionContext(HasSettings, HasAudit, Protocol):
    """Reads the report, its files, the directory and the GeoIP settings; writes its jurisdiction."""


def clue_context(context: HasSettings, agencies: list[AgencyRow]) -> ClueContext:
    problem = None
    try:
        geoip = open_configured(context.settings.extra)
    except GeoIPDatabaseError as error:
        geoip, problem = None, f"IP addresses were not located: {error}"
        log.warning("%s", problem)
    gazetteer = Gazetteer.standard(a.record().area for a in agencies)
    return ClueContext(geoip=geoip, gazetteer=gazetteer, default_phone_region=context.settings.default_phone_region,
                       geoip_problem=problem)


def suggestion_for(resolution: Resolution, agencies: list[AgencyRow]) -> tuple[int | None, dict[str, Any]]:
    by_code = {a.code: a for a in agencies}
    suggestion = suggest_agency(resolution, [a.record() for a in agencies])
    agency = by_code[suggestion.agency.code] if suggestion.agency else None
    return (agency.id if agency else None), suggestion.to_dict()


def resolve_jurisdiction(context: ResolveJurisdictionContext, session: Session, report_id: int, *,
                         actor: Actor = JURISDICTION_ACTOR) -> ReportJurisdictionRow:
    """The pipeline stage: locate the report and suggest its agency; keeps an analyst's choice.
    Running it again with the same facts changes nothing (and appends no audit event). `actor` is
    who asked (the pipeline, or an analyst's "Locate now" on a report the stage has not seen)."""
    row = session.get(ReportRow, report_id)
    if row is None:
        raise LookupError(f"report {report_id} does not exist")
    agencies = list_agencies(session, active_only=True)
    files = [f.details for f in session.execute(
        select(ReportFileRow).where(ReportFileRow.report_id == report_id).order_by(ReportFileRow.position)
    ).scalars()]
    resolution = locate(ReportContent.model_validate(row.content, context=STORED), clue_context(context, agencies),
                        [FileDetails.model_validate(d, context=STORED) if d else None for d in files])
    agency_id, suggestion = suggestion_for(resolution, agencies)
    stored = session.get(ReportJurisdictionRow, report_id)
    document = resolution.to_dict()
    if stored is not None and stored.resolution == document and stored.suggested_agency_id == agency_id \
            and stored.suggestion == suggestion:
        return stored
    now = utc_now()
    if stored is None:
        stored = ReportJurisdictionRow(report_id=report_id, resolution=document, suggested_agency_id=agency_id,
                                       suggestion=suggestion, computed_at=now)
        session.add(stored)
    else:
        stored.resolution, stored.suggested_agency_id, stored.suggestion, stored.computed_at = (
            document, agency_id, suggestion, now)
    session.flush()
    best = resolution.best
    context.audit.append(session, actor, "jurisdiction.resolved", report_id=report_id, details={
        "location": best.describe() if best else None, "confidence": resolution.confidence,
        "clues": len(resolution.clues), "conflicting": len(resolution.conflicts),
        "suggested_agency": suggestion["agency"],
    })
    return stored


def resolve_report_jurisdiction(context: ResolveJurisdictionContext, session: Session, report_id: int) -> None:
    resolve_jurisdiction(context, session, report_id)


STAGE = Stage("resolve_jurisdiction", "locate the report and suggest the agency to refer it to",
              resolve_report_jurisdiction)
