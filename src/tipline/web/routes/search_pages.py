"""Search across reports: identifiers, hashes (exact or PDQ-near), text, type, dates and state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from tipline.domain.identifiers import IDENTIFIER_LABELS, IdentifierKind
from tipline.domain.incident import IncidentType
from tipline.domain.lifecycle import ReportState
from tipline.domain.roles import Permission
from tipline.store.accounts import Principal
from tipline.store.search import SearchCriteria, SearchError, search_reports
from tipline.web.auth import allow
from tipline.web.pages import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.REPORT_READ))]


def _day(text: str, field: str, errors: list[str]) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        errors.append(f"{field}: use a date like 2026-11-27")
        return None


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    principal: Reader,
    q: Annotated[str, Query(max_length=500)] = "",
    kind: str = "",
    identifier: Annotated[str, Query(max_length=1024)] = "",
    hash: Annotated[str, Query(max_length=64)] = "",
    distance: Annotated[int, Query(ge=0, le=128)] = 31,
    incident_type: str = "",
    state: str = "",
    received_from: str = "",
    received_to: str = "",
) -> HTMLResponse:
    instance = request.app.state.instance
    errors: list[str] = []
    start, end = _day(received_from, "from", errors), _day(received_to, "to", errors)
    criteria = SearchCriteria(
        text=q.strip(),
        identifier_kind=IdentifierKind(kind) if kind in {k.value for k in IdentifierKind} else None,
        identifier_value=identifier.strip(),
        hash_value=hash.strip(),
        pdq_distance=distance,
        incident_type=IncidentType(incident_type) if incident_type in {t.value for t in IncidentType} else None,
        states=(ReportState(state),) if state in {s.value for s in ReportState} else (),
        received_from=start,
        received_to=end + timedelta(days=1) if end else None,
        default_phone_region=instance.settings.default_phone_region,
    )
    result = None
    if not criteria.is_empty() and not errors:
        try:
            with instance.db.transaction() as session:
                result = search_reports(session, criteria)
                instance.audit.append(session, principal.actor, "search.performed", details={
                    k: v for k, v in {"text": q, "identifier": identifier, "kind": kind, "hash": hash,
                                      "incident_type": incident_type, "state": state, "from": received_from,
                                      "to": received_to}.items() if v})
        except SearchError as error:
            errors.append(str(error))
    return render(request, "search.html", {
        "title": "Search", "result": result, "errors": errors, "q": q, "kind": kind, "identifier": identifier,
        "hash": hash, "distance": distance, "incident_type": incident_type, "state": state,
        "received_from": received_from, "received_to": received_to,
        "kinds": [(k.value, IDENTIFIER_LABELS[k]) for k in IdentifierKind],
        "incident_types": [t.value for t in IncidentType], "states": [(s.value, s.label) for s in ReportState],
    }, status_code=400 if errors else 200)
