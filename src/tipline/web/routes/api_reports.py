"""The JSON reports API: service providers file reports; staff read them (every read audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy.orm import Session

from tipline.domain.identifiers import IdentifierKind
from tipline.domain.incident import IncidentType
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import Report, ReportContent, ReportSource
from tipline.domain.roles import Permission
from tipline.intake.submission import finish_report, retract_report, submit_report
from tipline.store.accounts import Principal
from tipline.store.idempotency import (
    HEADER,
    KEY_DESCRIPTION,
    KEY_PATTERN,
    MAX_KEY_LENGTH,
    REPLAYED_HEADER,
    Idempotency,
    KeyBusy,
    KeyReused,
    run_once,
)
from tipline.store.reports import ReportFilter
from tipline.web.auth import allow
from tipline.web.errors import problem
from tipline.web.params import Id, Offset
from tipline.web.transaction import InTransaction

router = APIRouter(prefix="/api/v1", tags=["reports"])
Submitter = Annotated[Principal, Depends(allow(Permission.REPORT_SUBMIT))]
ReaderOrOwner = Annotated[Principal, Depends(allow(Permission.REPORT_READ, esp_own=True))]
Reader = Annotated[Principal, Depends(allow(Permission.REPORT_READ))]


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send the report as application/json (got {content_type or 'no Content-Type'})",
        )


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class SubmitResult(ApiModel):
    report_id: int = Field(description="The report's number: quote it in every later call")
    state: ReportState


class ReportSummary(ApiModel):
    id: int
    state: ReportState
    source: ReportSource
    incident_type: IncidentType
    platform: str | None
    escalated: bool
    received_at: datetime | None
    opened_at: datetime


class ReportPage(ApiModel):
    total: int
    reports: list[ReportSummary]


class IdentifierOut(ApiModel):
    kind: IdentifierKind
    value: str = Field(description="Normalised form: the key that links reports")
    raw: str = Field(description="As the reporter wrote it")
    role: str
    party_index: int | None
    path: str
    valid: bool
    other_reports: int = Field(description="How many other reports hold the same identifier")


class SharingReports(ApiModel):
    kind: IdentifierKind
    value: str
    report_ids: list[int]


@router.post(
    "/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmitResult,
    dependencies=[Depends(require_json)],
    summary="File a report",
    responses={201: {"headers": {REPLAYED_HEADER: {
                   "description": "`true` when this is the stored answer to an earlier request with the same "
                                  "Idempotency-Key (no new report was stored)", "schema": {"type": "string"}}}},
               400: {"description": "Malformed JSON"}, 413: {"description": "Body too large"},
               409: {"description": "Another request with the same Idempotency-Key was being handled; send it again"},
               415: {"description": "Not application/json"},
               422: {"description": "Invalid report, or an Idempotency-Key already used with a different body: "
                                    "each problem names its field"}},
)
def create_report(
    request: Request,
    response: Response,
    principal: Submitter,
    content: Annotated[ReportContent, Body()],
    finish: Annotated[bool, Query(description="false keeps the report open for files; finish it later")] = True,
    idempotency_key: Annotated[str | None, Header(alias=HEADER, min_length=1, max_length=MAX_KEY_LENGTH,
                                                  pattern=KEY_PATTERN, description=KEY_DESCRIPTION)] = None,
) -> SubmitResult | JSONResponse:
    """File a report as a service provider. Field names are the CyberTipline schema's element names,
    so the same report filed as XML or JSON is stored the same. Timestamps need a time zone.

    Send an `Idempotency-Key` header so that you can safely send the request again when you got no
    answer (a timeout, a dropped connection): a repeat with the same key and body gets the first
    answer and never stores a second report."""
    instance = request.app.state.instance
    once = None
    if idempotency_key is not None and principal.api_account_id is not None:
        once = Idempotency(principal.api_account_id, "api_v1_reports", idempotency_key,
                           Idempotency.document_digest(content.to_wire(), f"finish={finish}"),
                           instance.settings.idempotency_hours)

    def submit(session: Session) -> tuple[int, int, dict[str, Any]]:
        row = submit_report(instance, session, content, ReportSource.ESP_JSON, principal, finish=finish)
        first = SubmitResult(report_id=row.id, state=ReportState(row.state))
        return status.HTTP_201_CREATED, row.id, first.model_dump(mode="json", by_alias=True)

    try:
        with instance.db.transaction() as session:
            outcome = run_once(session, once, submit)
    except KeyReused as error:
        return problem(422, "idempotency_key_reused", str(error),
                       problems=[{"field": HEADER, "problem": str(error), "type": "idempotency_key_reused"}])
    except KeyBusy as error:
        return problem(409, "idempotency_key_busy", str(error),
                       problems=[{"field": HEADER, "problem": str(error), "type": "idempotency_key_busy"}])
    if outcome.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    response.status_code = outcome.status
    return SubmitResult.model_validate(outcome.answer)


@router.post("/reports/{report_id}/finish", response_model=SubmitResult, summary="Finish an open report")
def finish(report_id: Id, principal: Submitter, work: InTransaction) -> SubmitResult:
    row = finish_report(work.instance, work.session, report_id, principal)
    return SubmitResult(report_id=row.id, state=ReportState(row.state))


@router.post("/reports/{report_id}/retract", response_model=SubmitResult, summary="Retract an open report")
def retract(report_id: Id, principal: Submitter, work: InTransaction) -> SubmitResult:
    row = retract_report(work.instance, work.session, report_id, principal)
    return SubmitResult(report_id=row.id, state=ReportState(row.state))


@router.get("/reports/{report_id}", response_model=Report, summary="Read a report")
def read_report(report_id: Id, principal: ReaderOrOwner, work: InTransaction) -> Report:
    """Staff read any report; a service provider reads only its own. Every read is audited."""
    return work.instance.reports.read(work.session, report_id, principal, purpose="api")


@router.get("/reports", response_model=ReportPage, summary="List reports, newest first")
def list_reports(
    principal: Reader,
    work: InTransaction,
    state: Annotated[list[ReportState] | None, Query()] = None,
    incident_type: IncidentType | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> ReportPage:
    rows, total = work.instance.reports.list(
        work.session, ReportFilter(states=state or (), incident_type=incident_type), limit=limit, offset=offset
    )
    return ReportPage(total=total, reports=[ReportSummary.model_validate(row, from_attributes=True) for row in rows])


@router.get("/reports/{report_id}/identifiers", response_model=list[IdentifierOut], summary="A report's identifiers")
def report_identifiers(report_id: Id, principal: Reader, work: InTransaction) -> list[IdentifierOut]:
    work.instance.reports.visible_row(work.session, report_id, principal)
    work.instance.audit.append(work.session, work.actor, "report.read", report_id=report_id,
                               details={"purpose": "identifiers api"})
    return [
        IdentifierOut(
            kind=IdentifierKind(s.row.kind), value=s.row.value, raw=s.row.raw, role=s.row.role,
            party_index=s.row.party_index, path=s.row.path, valid=s.row.valid, other_reports=s.other_reports,
        )
        for s in work.instance.identifiers.of_report(work.session, report_id)
    ]


@router.get("/identifiers/{kind}/reports", response_model=SharingReports, summary="Reports sharing an identifier")
def reports_sharing(
    kind: IdentifierKind,
    principal: Reader,
    work: InTransaction,
    value: Annotated[str, Query(min_length=1, max_length=1024, description="The normalised value")],
) -> SharingReports:
    report_ids = work.instance.identifiers.reports_sharing(work.session, kind.value, value)
    work.instance.audit.append(work.session, work.actor, "identifier.searched",
                               details={"kind": kind.value, "value": value})
    return SharingReports(kind=kind, value=value, report_ids=report_ids)
