"""Victim identification in the browser: the series registry (`/series`, `/series/{id}`), the
victim-identification queue and the clusters of unidentified material. For victim-identification
specialists and supervisors; every page read is audited; pictures appear only as blurred greyscale
previews (the reviewers' wellness defaults), revealed one at a time by a deliberate, audited act."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from tipline.domain.numbers import parse_whole_number
from tipline.domain.roles import Permission
from tipline.domain.victims import (
    AGE_BAND_LABELS,
    SERIES_STATUS_LABELS,
    VICTIM_SEX_LABELS,
    VICTIM_STATUS_LABELS,
    VictimRecordError,
)
from tipline.jurisdiction.places import country_name
from tipline.store.accounts import Principal
from tipline.store.referrals import AgencyRow, list_agencies
from tipline.store.series import SeriesError, SeriesNotFound
from tipline.victims import clusters as cluster_ops
from tipline.victims import sightings
from tipline.web.auth import allow
from tipline.web.errors import page_error
from tipline.web.pages import render
from tipline.web.refusals import FormRefused

router = APIRouter(include_in_schema=False)
Specialist = Annotated[Principal, Depends(allow(Permission.SERIES_MANAGE))]
SeriesId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A series' number")]
ClusterId = Annotated[int, Path(ge=1, le=2**62, description="A cluster's number")]
RowId = Annotated[int, Path(ge=1, le=2**62, description="A row's number")]
REFUSALS = (SeriesError, VictimRecordError, cluster_ops.ClusterError)
NOTICES = {
    "created": "Series registered.", "status": "Status changed.", "renamed": "Renamed; the old name is kept as an alias.",
    "merged": "Merged.", "split": "Split: the chosen media now belong to this new series.", "victim": "Victim recorded.", "confirmed": "Marked identified by the agency that reported it.",
    "declined": "Declined.", "promoted": "Cluster promoted; its reports were matched again.",
    "dismissed": "Cluster dismissed.", "reviewed": "Marked reviewed.",
}
SORTS = {"last_seen": "Last seen", "reports": "Reports", "name": "Name"}


def _series_or_404(instance: Any, session: Any, series_id: int) -> Any:
    try:
        return instance.series.get(session, series_id)
    except SeriesNotFound:
        raise HTTPException(404, f"series {series_id} does not exist") from None


def _change(request: Request, title: str, work: Callable[[Any, Any], str]) -> Response:
    """Run a change in one transaction; a refusal shows its reason and changes nothing."""
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            target = work(instance, session)
    except REFUSALS as error:
        raise FormRefused(title, f"{error}. Nothing was changed") from None
    except (SeriesNotFound, LookupError) as error:
        raise HTTPException(404, str(error).strip("'\"")) from None
    return RedirectResponse(target, status_code=303)


# --- the registry ----------------------------------------------------------------------------------


@router.get("/series", response_class=HTMLResponse)
def series_list(request: Request, principal: Specialist, q: Annotated[str, Query(max_length=200)] = "",
                status: Annotated[str, Query(max_length=30)] = "",
                sort: Annotated[str, Query(max_length=20)] = "last_seen",
                page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    instance = request.app.state.instance
    if sort not in SORTS or (status and status not in {s.value for s in SERIES_STATUS_LABELS}):
        return page_error(request, 400, "Series", "Sort by last seen, reports or name; filter by a known status.")
    with instance.db.transaction() as session:
        rows, total = instance.series.listing(session, query=q, status=status or None, sort=sort, limit=50,
                                              offset=(page - 1) * 50)
        agencies = {a.id: a for a in list_agencies(session)}
        pending = len(sightings.victim_id_queue(session))
        instance.audit.append(session, principal.actor, "series.listed", details={"query": q, "count": len(rows)})
    return render(request, "series_list.html", {
        "title": "Series", "rows": rows, "total": total, "q": q, "status": status, "sort": sort, "sorts": SORTS,
        "statuses": SERIES_STATUS_LABELS, "agencies": agencies, "page": page, "pages": max(1, -(-total // 50)),
        "pending": pending, "notice": NOTICES.get(request.query_params.get("notice", "")),
    })


@router.post("/series")
def series_create(request: Request, principal: Specialist, name: Annotated[str, Form(max_length=200)],
                  notes: Annotated[str, Form(max_length=5000)] = "") -> Response:
    def work(instance: Any, session: Any) -> str:
        row = instance.series.create(session, name, principal.actor, notes=notes)
        return f"/series/{row.id}?notice=created"

    return _change(request, "Series not registered", work)


@router.get("/series/{series_id}", response_class=HTMLResponse)
def series_show(request: Request, series_id: SeriesId, principal: Specialist) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        series = _series_or_404(instance, session, series_id)
        from tipline.store.series import names_of

        data = {
            "aliases": names_of(session, series)[1:],
            "notifications": [{"agency": code, "report_id": n.report_id}
                              for n, code in instance.series.notifications(session, series)][-50:],
            "media": [{"entry_id": row.id, "bank": bank, "signal_type": row.signal_type, "source": row.source,
                       "source_id": row.source_id, "added_by": row.added_by, "added_at": row.added_at.isoformat(),
                       "enabled": row.enabled} for row, bank in instance.series.media(session, series, limit=200)],
        }
        context = {
            "title": f"Series {series.name}", "series": series, "data": data,
            "agency": session.get(AgencyRow, series.identified_by_agency_id) if series.identified_by_agency_id else None,
            "history": instance.series.history(session, series), "victims": instance.series.victims(session, series),
            "sightings": instance.series.sightings(session, series, limit=100),
            "gallery": instance.series.gallery(session, series),
            "confirmations": instance.series.pending_confirmations(session, series),
            "clusters": instance.series.clusters(session, series),
            "agencies": [a for a in list_agencies(session, active_only=True)],
            "others": [s for s in instance.series.listing(session, sort="name", limit=500)[0] if s.id != series.id],
        }
        instance.audit.append(session, principal.actor, "series.viewed", details={"series": series.name,
                                                                                  "series_id": series.id})
    return render(request, "series_show.html", {
        **context, "statuses": SERIES_STATUS_LABELS, "sexes": VICTIM_SEX_LABELS, "age_bands": AGE_BAND_LABELS,
        "victim_statuses": VICTIM_STATUS_LABELS, "country_name": country_name,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    })


@router.post("/series/{series_id}/status")
def series_status(request: Request, series_id: SeriesId, principal: Specialist,
                  status: Annotated[str, Form(max_length=30)], agency: Annotated[str, Form(max_length=64)] = "",
                  case_reference: Annotated[str, Form(max_length=200)] = "") -> Response:
    def work(instance: Any, session: Any) -> str:
        series = _series_or_404(instance, session, series_id)
        instance.series.set_status(session, series, status, principal.actor, agency_code=agency or None,
                                   case_reference=case_reference or None)
        return f"/series/{series_id}?notice=status"

    return _change(request, "Status not changed", work)


@router.post("/series/{series_id}/rename")
def series_rename(request: Request, series_id: SeriesId, principal: Specialist,
                  name: Annotated[str, Form(max_length=200)]) -> Response:
    def work(instance: Any, session: Any) -> str:
        instance.series.rename(session, _series_or_404(instance, session, series_id), name, principal.actor)
        return f"/series/{series_id}?notice=renamed"

    return _change(request, "Series not renamed", work)


@router.post("/series/{series_id}/merge")
def series_merge(request: Request, series_id: SeriesId, principal: Specialist,
                 into: Annotated[int, Form(ge=1, le=2**31 - 1)]) -> Response:
    def work(instance: Any, session: Any) -> str:
        source = _series_or_404(instance, session, series_id)
        target = _series_or_404(instance, session, into)
        instance.series.merge(session, source, target, principal.actor)
        return f"/series/{into}?notice=merged"

    return _change(request, "Series not merged", work)


@router.post("/series/{series_id}/split")
def series_split(request: Request, series_id: SeriesId, principal: Specialist,
                 name: Annotated[str, Form(max_length=200)],
                 entry: Annotated[list[str], Form(max_length=10_000)] = []) -> Response:  # noqa: B006 - FastAPI's form default
    def work(instance: Any, session: Any) -> str:
        source = _series_or_404(instance, session, series_id)
        chosen = [parse_whole_number(value.strip(), 1, 2**63 - 1) for value in entry]
        if any(value is None for value in chosen):
            raise SeriesError("choose the media to move by their entry numbers")
        created = instance.series.split(session, source, name, [v for v in chosen if v is not None],
                                        principal.actor, instance.banks)
        return f"/series/{created.id}?notice=split"

    return _change(request, "Series not split", work)


@router.post("/series/{series_id}/victims")
def series_add_victim(request: Request, series_id: SeriesId, principal: Specialist,
                      pseudonym: Annotated[str, Form(max_length=100)], sex: Annotated[str, Form(max_length=20)],
                      age_band: Annotated[str, Form(max_length=20)],
                      status: Annotated[str, Form(max_length=20)] = "unidentified") -> Response:
    def work(instance: Any, session: Any) -> str:
        instance.series.add_victim(session, _series_or_404(instance, session, series_id), principal.actor,
                                   pseudonym=pseudonym, sex=sex, age_band=age_band, status=status)
        return f"/series/{series_id}?notice=victim#victims"

    return _change(request, "Victim not recorded", work)


@router.post("/series/confirmations/{confirmation_id}")
def decide_confirmation(request: Request, confirmation_id: RowId, principal: Specialist,
                        decision: Annotated[str, Form(max_length=20)]) -> Response:
    if decision not in ("confirm", "decline"):
        raise FormRefused("Nothing decided", "Choose confirm or decline.", field="decision")

    def work(instance: Any, session: Any) -> str:
        row = sightings.decide_confirmation(instance, session, confirmation_id, decision == "confirm",
                                            principal.actor)
        return f"/series/{row.series_id}?notice={'confirmed' if decision == 'confirm' else 'declined'}"

    return _change(request, "Nothing decided", work)


# --- the victim-identification queue -------------------------------------------------------------


@router.get("/victim-id/queue", response_class=HTMLResponse)
def queue(request: Request, principal: Specialist) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        rows = sightings.victim_id_queue(session)
        files = {q.id: [(f, rid) for f, rid in instance.series.gallery(session, s, limit=200) if rid == r.id][:4]
                 for q, s, r in rows}
        instance.audit.append(session, principal.actor, "series.queue_viewed", details={"count": len(rows)})
    return render(request, "victim_id_queue.html", {"title": "Victim identification", "rows": rows, "files": files,
                                                    "notice": NOTICES.get(request.query_params.get("notice", ""))})


@router.post("/victim-id/queue/{queue_id}/reviewed")
def queue_reviewed(request: Request, queue_id: RowId, principal: Specialist) -> Response:
    def work(instance: Any, session: Any) -> str:
        sightings.mark_reviewed(instance, session, queue_id, principal.actor)
        return "/victim-id/queue?notice=reviewed"

    return _change(request, "Not marked", work)


# --- clusters --------------------------------------------------------------------------------------


@router.get("/clusters", response_class=HTMLResponse)
def clusters(request: Request, principal: Specialist, status: Annotated[str, Query(max_length=20)] = "open",
             page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    instance = request.app.state.instance
    if status not in cluster_ops.STATUSES:
        return page_error(request, 400, "Clusters", "Show open, promoted or dismissed clusters.")
    with instance.db.transaction() as session:
        rows, total = cluster_ops.clusters_page(session, status=status, limit=50, offset=(page - 1) * 50)
        described = [cluster_ops.describe_cluster(session, row) for row in rows]
        instance.audit.append(session, principal.actor, "cluster.listed", details={"count": len(rows)})
    return render(request, "clusters.html", {"title": "Clusters", "rows": described, "total": total, "status": status,
                                             "page": page, "pages": max(1, -(-total // 50)),
                                             "notice": NOTICES.get(request.query_params.get("notice", ""))})


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_show(request: Request, cluster_id: ClusterId, principal: Specialist) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        try:
            cluster = cluster_ops.get_cluster(session, cluster_id)
        except LookupError:
            raise HTTPException(404, f"cluster {cluster_id} does not exist") from None
        data = cluster_ops.describe_cluster(session, cluster, with_files=True)
        series = instance.series.listing(session, sort="name", limit=500)[0]
        instance.audit.append(session, principal.actor, "cluster.viewed", details={"cluster_id": cluster_id})
    return render(request, "cluster_show.html", {"title": f"Cluster {cluster_id}", "cluster": data, "series": series,
                                                 "gallery": [(m["file_id"], m["report_id"]) for m in data["members"]],
                                                 "notice": NOTICES.get(request.query_params.get("notice", ""))})


@router.post("/clusters/{cluster_id}/promote")
def cluster_promote(request: Request, cluster_id: ClusterId, principal: Specialist,
                    new_series: Annotated[str, Form(max_length=200)] = "",
                    series: Annotated[str, Form(max_length=200)] = "") -> Response:
    instance = request.app.state.instance
    if bool(new_series.strip()) == bool(series.strip()):
        raise FormRefused("Cluster not promoted", "Name a new series or choose an existing one (not both). "
                                                  "Nothing was changed.", field="new_series")
    try:
        result = cluster_ops.promote_cluster(instance, cluster_id, principal.actor, series_name=new_series or series,
                                             create=bool(new_series.strip()))
    except REFUSALS as error:
        raise FormRefused("Cluster not promoted", f"{error}. Nothing was changed.") from None
    except LookupError as error:
        raise HTTPException(404, str(error).strip("'\"")) from None
    return RedirectResponse(f"/series/{result['series_id']}?notice=promoted", status_code=303)


@router.post("/clusters/{cluster_id}/dismiss")
def cluster_dismiss(request: Request, cluster_id: ClusterId, principal: Specialist,
                    reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    def work(instance: Any, session: Any) -> str:
        cluster_ops.dismiss_cluster(instance, session, cluster_id, reason, principal.actor)
        return "/clusters?notice=dismissed"

    return _change(request, "Cluster not dismissed", work)
