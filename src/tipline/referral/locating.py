"""Each report's location and suggested agency, kept in `report_jurisdictions`: computed by the
pipeline's resolve_jurisdiction stage (tipline.pipeline.stages.resolve_jurisdiction), refreshed when
the directory changes, confirmed or overridden by an analyst."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.lifecycle import ReportState
from tipline.jurisdiction import Resolution
from tipline.pipeline.stages.resolve_jurisdiction import JURISDICTION_ACTOR, resolve_jurisdiction, suggestion_for
from tipline.store.referrals import AgencyRow, ReportJurisdictionRow, list_agencies
from tipline.store.tables import ReportRow

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.store.accounts import Principal

__all__ = ["ChoiceRefused", "choose_agency", "jurisdiction_of", "refresh_suggestions", "resolve_jurisdiction",
           "stored_jurisdiction"]
OPEN_STATES = (ReportState.PROCESSING, ReportState.AWAITING_REVIEW, ReportState.IN_REVIEW)


class ChoiceRefused(ValueError):
    """An agency choice that cannot be recorded (unknown or inactive agency, no reason for an override)."""


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
        agency_id, suggestion = suggestion_for(Resolution.from_dict(stored.resolution), agencies)
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
