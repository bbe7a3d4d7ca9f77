"""The series registry and the clusters of unidentified material as JSON, for victim-identification
specialists and supervisors (their login). Every read and change is audited; no media is served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tipline.domain.roles import Permission
from tipline.domain.victims import VictimRecordError
from tipline.store.accounts import Principal
from tipline.store.series import SeriesError, SeriesNotFound
from tipline.victims import clusters as cluster_ops
from tipline.web.auth import allow
from tipline.web.errors import problem

router = APIRouter(prefix="/api/v1", tags=["victim identification"])
Specialist = Annotated[Principal, Depends(allow(Permission.SERIES_MANAGE))]
SeriesId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A series' number")]
ClusterId = Annotated[int, Path(ge=1, le=2**62, description="A cluster's number")]
REFUSED: dict[int | str, dict[str, Any]] = {422: {"description": "Refused (unknown agency, merging into itself, a bad pseudonym, ...): nothing changed"},
           404: {"description": "No such series or cluster"}}


class SeriesSummary(BaseModel):
    id: int
    name: str
    aliases: list[str]
    status: Literal["unidentified", "under_investigation", "identified"]
    identified_by: str | None = Field(description="The code of the agency that identified the child")
    case_reference: str | None
    report_count: int
    last_seen: str | None


class SeriesVictim(BaseModel):
    id: int
    pseudonym: str
    sex: str
    age_band: str
    status: str


class SeriesMediaEntry(BaseModel):
    entry_id: int
    bank: str
    signal_type: str
    value: str
    source: str | None
    source_id: str | None
    added_by: str
    added_at: str
    enabled: bool


class SeriesNotification(BaseModel):
    agency: str = Field(description="The identifying agency's code")
    report_id: int


class SeriesDetail(BaseModel):
    id: int
    name: str
    aliases: list[str]
    status: str
    identified_by: str | None
    identified_at: str | None
    case_reference: str | None
    notes: str
    victims: list[SeriesVictim]
    media: list[SeriesMediaEntry] = Field(description="Hash-bank entries of the series, with their provenance")
    reports: list[int] = Field(description="Reports in which the series was seen")
    notifications: list[SeriesNotification]
    last_seen: str | None


class SeriesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=5000)
    status: Literal["unidentified", "under_investigation"] = "unidentified"


class SeriesCreated(BaseModel):
    id: int
    name: str
    status: str


class SeriesIdentify(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agency: str = Field(min_length=1, max_length=64, description="The identifying agency's code")
    case_reference: str | None = Field(default=None, max_length=200)


class SeriesMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: int = Field(ge=1, le=2**31 - 1, description="The series this one is merged into")


class SeriesRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class SeriesVictimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pseudonym: str = Field(min_length=1, max_length=40, description="Never a real name or contact detail")
    sex: Literal["female", "male", "unknown"] = "unknown"
    age_band: Literal["0-2", "3-5", "6-9", "10-12", "13-15", "16-17", "unknown"] = "unknown"
    status: Literal["unidentified", "identified", "safeguarded"] = "unidentified"


class ClusterMemberOut(BaseModel):
    file_id: str
    report_id: int
    media_kind: str | None
    md5: str | None
    sha256: str | None
    pdq: str | None
    basis: str = Field(description="How it joined: sha256, md5, pdq or vpdq")
    distance: int


class ClusterOut(BaseModel):
    id: int
    status: str
    files: int
    reports: list[int]
    providers: list[str]
    countries: int
    youngest: str | None = Field(description="The youngest apparent age in the files' annotations")
    first_seen: str | None
    last_seen: str | None
    score: int
    series_id: int | None
    reason: str | None
    members: list[ClusterMemberOut] | None = None


class ClusterPromote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_series: str | None = Field(default=None, max_length=200, description="Create a series of this name")
    series: str | None = Field(default=None, max_length=200, description="Or add to this existing series")


class ClusterPromoted(BaseModel):
    cluster: int
    series: str
    series_id: int
    entries_added: int
    reports: list[int]


class ClusterDismiss(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


def _run(request: Request, work: Callable[[Any, Any], Any]) -> Any:
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            return work(instance, session)
    except (SeriesError, VictimRecordError, cluster_ops.ClusterError) as error:
        return problem(422, "refused", str(error))
    except (SeriesNotFound, LookupError) as error:
        return problem(404, "not_found", str(error).strip("'\""))


def _summary(instance: Any, session: Any, row: Any) -> dict[str, Any]:
    data = instance.series.describe(session, row)
    return {k: data[k] for k in ("id", "name", "aliases", "status", "identified_by", "case_reference", "last_seen")} | {
        "report_count": row.report_count}


@router.get("/series", response_model=list[SeriesSummary], summary="List series", responses=REFUSED)
def list_series(request: Request, principal: Specialist, q: Annotated[str, Query(max_length=200)] = "",
                status: Literal["unidentified", "under_investigation", "identified"] | None = None,
                sort: Literal["last_seen", "reports", "name"] = "last_seen",
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    """Series whose name or an alias contains `q`, sorted by when last seen, reports or name."""
    def work(instance: Any, session: Any) -> Any:
        rows, _total = instance.series.listing(session, query=q, status=status, sort=sort, limit=limit, offset=offset)
        instance.audit.append(session, principal.actor, "series.listed", details={"count": len(rows)})
        return [_summary(instance, session, row) for row in rows]

    return _run(request, work)


@router.post("/series", response_model=SeriesCreated, status_code=201, summary="Register a series", responses=REFUSED)
def create_series(request: Request, principal: Specialist, body: SeriesCreate) -> Any:
    def work(instance: Any, session: Any) -> Any:
        row = instance.series.create(session, body.name, principal.actor, notes=body.notes, status=body.status)
        return JSONResponse({"id": row.id, "name": row.name, "status": row.status}, status_code=201)

    return _run(request, work)


@router.get("/series/{series_id}", response_model=SeriesDetail, summary="A series in full", responses=REFUSED)
def show_series(request: Request, series_id: SeriesId, principal: Specialist) -> Any:
    """Status, identifying agency, victims (pseudonymous), media with provenance, reports, notifications."""
    def work(instance: Any, session: Any) -> Any:
        row = instance.series.get(session, series_id)
        instance.audit.append(session, principal.actor, "series.viewed", details={"series": row.name,
                                                                                  "series_id": row.id})
        return instance.series.describe(session, row)

    return _run(request, work)


@router.post("/series/{series_id}/identify", response_model=SeriesSummary, summary="Mark a series identified",
             responses=REFUSED)
def identify_series(request: Request, series_id: SeriesId, principal: Specialist, body: SeriesIdentify) -> Any:
    """From now on, a report matching the series notifies this agency (once per report)."""
    def work(instance: Any, session: Any) -> Any:
        row = instance.series.identify(session, instance.series.get(session, series_id), body.agency,
                                       principal.actor, case_reference=body.case_reference)
        return _summary(instance, session, row)

    return _run(request, work)


@router.post("/series/{series_id}/merge", response_model=SeriesSummary, summary="SeriesMerge a series into another",
             responses=REFUSED)
def merge_series(request: Request, series_id: SeriesId, principal: Specialist, body: SeriesMerge) -> Any:
    def work(instance: Any, session: Any) -> Any:
        source = instance.series.get(session, series_id)
        target = instance.series.get(session, body.into)
        return _summary(instance, session, instance.series.merge(session, source, target, principal.actor))

    return _run(request, work)


@router.post("/series/{series_id}/rename", response_model=SeriesSummary, summary="SeriesRename a series",
             responses=REFUSED)
def rename_series(request: Request, series_id: SeriesId, principal: Specialist, body: SeriesRename) -> Any:
    """The old name is kept as an alias."""
    def work(instance: Any, session: Any) -> Any:
        row = instance.series.rename(session, instance.series.get(session, series_id), body.name, principal.actor)
        return _summary(instance, session, row)

    return _run(request, work)


@router.post("/series/{series_id}/victims", response_model=SeriesVictim, status_code=201,
             summary="Record a victim of a series (pseudonymous)", responses=REFUSED)
def add_victim(request: Request, series_id: SeriesId, principal: Specialist, body: SeriesVictimIn) -> Any:
    def work(instance: Any, session: Any) -> Any:
        victim = instance.series.add_victim(session, instance.series.get(session, series_id), principal.actor,
                                            pseudonym=body.pseudonym, sex=body.sex, age_band=body.age_band,
                                            status=body.status)
        return JSONResponse({"id": victim.id, "pseudonym": victim.pseudonym, "sex": victim.sex,
                             "age_band": victim.age_band, "status": victim.status}, status_code=201)

    return _run(request, work)


@router.get("/clusters", response_model=list[ClusterOut], summary="List clusters of unidentified material",
            responses=REFUSED)
def list_clusters(request: Request, principal: Specialist,
                  status: Literal["open", "promoted", "dismissed"] = "open",
                  limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    """Highest ranked first: by reports, providers, countries, time span and the youngest apparent age."""
    def work(instance: Any, session: Any) -> Any:
        rows, _total = cluster_ops.clusters_page(session, status=status, limit=limit, offset=offset)
        instance.audit.append(session, principal.actor, "cluster.listed", details={"count": len(rows)})
        return [cluster_ops.describe_cluster(session, row) for row in rows]

    return _run(request, work)


@router.get("/clusters/{cluster_id}", response_model=ClusterOut, summary="A cluster with its files' hashes",
            responses=REFUSED)
def show_cluster(request: Request, cluster_id: ClusterId, principal: Specialist) -> Any:
    def work(instance: Any, session: Any) -> Any:
        data = cluster_ops.describe_cluster(session, cluster_ops.get_cluster(session, cluster_id), with_files=True)
        instance.audit.append(session, principal.actor, "cluster.viewed", details={"cluster_id": cluster_id})
        return data

    return _run(request, work)


@router.post("/clusters/{cluster_id}/promote", response_model=ClusterPromoted, summary="ClusterPromote a cluster to a series",
             responses=REFUSED)
def promote(request: Request, cluster_id: ClusterId, principal: Specialist, body: ClusterPromote) -> Any:
    """Its files' hashes join the series' bank (provenance: the cluster), and its reports are matched again."""
    if bool(body.new_series) == bool(body.series):
        return problem(422, "refused", "give either new_series or series")
    instance = request.app.state.instance
    try:
        return cluster_ops.promote_cluster(instance, cluster_id, principal.actor,
                                           series_name=body.new_series or body.series or "",
                                           create=bool(body.new_series))
    except (SeriesError, VictimRecordError, cluster_ops.ClusterError) as error:
        return problem(422, "refused", str(error))
    except LookupError as error:
        return problem(404, "not_found", str(error).strip("'\""))


@router.post("/clusters/{cluster_id}/dismiss", response_model=ClusterOut, summary="ClusterDismiss a cluster with a reason",
             responses=REFUSED)
def dismiss(request: Request, cluster_id: ClusterId, principal: Specialist, body: ClusterDismiss) -> Any:
    def work(instance: Any, session: Any) -> Any:
        row = cluster_ops.dismiss_cluster(instance, session, cluster_id, body.reason, principal.actor)
        return cluster_ops.describe_cluster(session, row)

    return _run(request, work)
