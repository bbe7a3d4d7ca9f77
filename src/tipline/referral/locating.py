"""Each report's location and suggested agency, kept in `report_jurisdictions`: computed by the
pipeline's resolve_jurisdiction stage, refreshed when the directory changes, confirmed or overridden
by an analyst."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import STORED, utc_now
from tipline.domain.files import FileDetails
from tipline.domain.lifecycle import ReportState
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
from tipline.store.referrals import AgencyRow, ReportJurisdictionRow, list_agencies
from tipline.store.tables import ReportFileRow, ReportRow

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.store.accounts import Principal

log = logging.getLogger("tipline.jurisdiction")
JURISDICTION_ACTOR = Actor.system("pipeline:jurisdiction")
OPEN_STATES = (ReportState.PROCESSING, ReportState.AWAITING_REVIEW, ReportState.IN_REVIEW)


class ChoiceRefused(ValueError):
    """An agency choice that cannot be recorded (unknown or inactive agency, no reason for an override)."""


def clue_context(instance: Instance, agencies: list[AgencyRow]) -> ClueContext:
    problem = None
    try:
        geoip = open_configured(instance.settings.extra)
    except GeoIPDatabaseError as error:
        geoip, problem = None, f"IP addresses were not located: {error}"
        log.warning("%s", problem)
    gazetteer = Gazetteer.standard(a.record().area for a in agencies)
    return ClueContext(geoip=geoip, gazetteer=gazetteer, default_phone_region=instance.settings.default_phone_region,
                       geoip_problem=problem)


def _suggestion(resolution: Resolution, agencies: list[AgencyRow]) -> tuple[int | None, dict[str, Any]]:
    by_code = {a.code: a for a in agencies}
    suggestion = suggest_agency(resolution, [a.record() for a in agencies])
    agency = by_code[suggestion.agency.code] if suggestion.agency else None
    return (agency.id if agency else None), suggestion.to_dict()


def resolve_jurisdiction(instance: Instance, session: Session, report_id: int, *,
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
    resolution = locate(ReportContent.model_validate(row.content, context=STORED), clue_context(instance, agencies),
                        [FileDetails.model_validate(d, context=STORED) if d else None for d in files])
    agency_id, suggestion = _suggestion(resolution, agencies)
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
    instance.audit.append(session, actor, "jurisdiction.resolved", report_id=report_id, details={
        "location": best.describe() if best else None, "confidence": resolution.confidence,
        "clues": len(resolution.clues), "conflicting": len(resolution.conflicts),
        "suggested_agency": suggestion["agency"],
    })
    return stored


def refresh_suggestions(instance: Instance, session: Session) -> int:
    """After the directory changed: suggest again for every report still open (from the stored
    locations, without reading the clues again). Returns how many suggestions changed."""
    agencies = list_agencies(session, active_only=True)
    changed = 0
    rows = session.execute(
        select(ReportJurisdictionRow).join(ReportRow, ReportRow.id == ReportJurisdictionRow.report_id)
        .where(ReportRow.state.in_([s.value for s in OPEN_STATES]))
    ).scalars()
    for stored in rows:
        agency_id, suggestion = _suggestion(Resolution.from_dict(stored.resolution), agencies)
        if agency_id != stored.suggested_agency_id or suggestion != stored.suggestion:
            stored.suggested_agency_id, stored.suggestion = agency_id, suggestion
            changed += 1
    return changed


def stored_jurisdiction(session: Session, report_id: int) -> ReportJurisdictionRow | None:
    """The jurisdiction the stage stored, or None for a report it has not seen yet (one processed
    before the stage existed, or still in the pipeline). Reads only: pages use this."""
    return session.get(ReportJurisdictionRow, report_id)


def jurisdiction_of(instance: Instance, session: Session, report_id: int,
                    actor: Actor = JURISDICTION_ACTOR) -> ReportJurisdictionRow:
    """The stored jurisdiction, computed now for a report the stage has not seen; for state changes
    only (choosing an agency, referring), never for showing a page."""
    stored = stored_jurisdiction(session, report_id)
    return stored if stored is not None else resolve_jurisdiction(instance, session, report_id, actor=actor)


def choose_agency(instance: Instance, session: Session, report_id: int, agency: AgencyRow, principal: Principal,
                  reason: str | None = None) -> ReportJurisdictionRow:
    """An analyst confirms the suggested agency, or overrides it (a reason is then required)."""
    if not agency.active:
        raise ChoiceRefused(f"{agency.name} is inactive in the directory; choose an active agency")
    stored = jurisdiction_of(instance, session, report_id, principal.actor)
    reason = (reason or "").strip()
    override = agency.id != stored.suggested_agency_id
    if override and not reason:
        suggested = session.get(AgencyRow, stored.suggested_agency_id) if stored.suggested_agency_id else None
        raise ChoiceRefused(
            f"say why {agency.name} rather than the suggested {suggested.name}" if suggested else
            f"say why {agency.name}: no agency was suggested for this report")
    if stored.chosen_agency_id == agency.id and (stored.choice_reason or "") == reason:
        return stored
    stored.chosen_agency_id, stored.chosen_by, stored.chosen_at = agency.id, principal.actor.name, utc_now()
    stored.choice_reason = reason[:2000] or None
    instance.audit.append(session, principal.actor, "jurisdiction.overridden" if override else "jurisdiction.confirmed",
                          report_id=report_id, details={"agency": agency.code, "agency_name": agency.name,
                                                        **({"reason": reason[:500]} if reason else {})})
    return stored
