"""The review workspace: the queue, claiming, and every decision an analyst takes on a report."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tipline.domain.incident import IncidentType
from tipline.domain.lifecycle import ReportState
from tipline.domain.numbers import parse_whole_number
from tipline.domain.roles import Permission
from tipline.pipeline.engine.runner import run_stage_now
from tipline.pipeline.stages.score_priority import rescore
from tipline.store.accounts import Principal
from tipline.store.review import InvalidDecision, QueueFilter
from tipline.triage import LEVEL_LABELS, LEVELS
from tipline.web.auth import allow
from tipline.web.pages import render
from tipline.web.params import Id, Version
from tipline.web.transaction import InTransaction

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Principal, Depends(allow(Permission.REPORT_REVIEW))]
Supervisor = Annotated[Principal, Depends(allow(Permission.REPORT_SUPERVISE))]
PAGE_SIZE = 50

NOTICES = {
    "claimed": "You hold this report now.",
    "released": "The report is back in the queue.",
    "incident_type": "Incident type recorded.",
    "annotations": "Annotations recorded.",
    "classified": "File classification recorded.",
    "note": "Note added.",
    "linked": "Reports linked.",
    "unlinked": "Link dismissed.",
    "escalated": "Escalated to a supervisor.",
    "ready": "Marked ready for referral.",
    "closed": "Report closed.",
    "reopened": "Report reopened and back in the queue.",
    "assigned": "Report assigned.",
    "banked": "The file's hashes are in the bank; the report's files were matched again.",
}


DONE_NOTICES = frozenset({"escalated", "ready", "closed"})
"""Decisions that finish a report for its analyst: they land on the next report in the queue."""


def back_to_report(report_id: int, notice: str, anchor: str = "review") -> RedirectResponse:
    return RedirectResponse(f"/reports/{report_id}?notice={notice}#{anchor}", status_code=303)


def on_to_next(report_id: int, notice: str) -> RedirectResponse:
    """After a decision that finishes a report: the next one in the queue (see `next_report`)."""
    return RedirectResponse(f"/queue/next?after={report_id}&done={notice}", status_code=303)


def done_notice(after: str, done: str) -> str | None:
    """What the next report's page says about the decision just taken on the previous one."""
    report_id = parse_whole_number(after, minimum=1)
    if report_id is None or done not in DONE_NOTICES:
        return None
    return f"Report #{report_id}: {NOTICES[done]} This is the next report in the queue."


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    principal: Reviewer,
    priority: Annotated[list[str] | None, Query()] = None,
    incident_type: str = "",
    mine: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    instance = request.app.state.instance
    levels = [level for level in (priority or []) if level in LEVELS]
    incident = IncidentType(incident_type) if incident_type in {t.value for t in IncidentType} else None
    filters = QueueFilter(priorities=levels, incident_type=incident, assigned_to=principal.user_id if mine else None)
    with instance.db.transaction() as session:
        rows, total = instance.review.queue(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        counts = instance.review.queue_counts(session)
    query = urlencode([("priority", level) for level in levels]
                      + ([("incident_type", incident_type)] if incident else []) + ([("mine", "true")] if mine else []))
    return render(request, "queue.html", {
        "title": "Review queue",
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "base_query": f"{query}&" if query else "",
        "levels": [(level, LEVEL_LABELS[level]) for level in LEVELS],
        "selected_levels": levels,
        "incident_types": [t.value for t in IncidentType],
        "selected_incident_type": incident_type,
        "mine": mine,
        "counts": counts,
    })


@router.get("/queue/next")
def next_report(request: Request, principal: Reviewer, after: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                done: Annotated[str, Query(max_length=20)] = "") -> RedirectResponse:
    """The next report this analyst may take: one they hold and have not finished, else the most urgent
    unclaimed one (priority, then score, then the longest waiting); the queue when there is none. Opening
    it claims nothing (the `c` key or the Claim button does)."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        report_id = instance.review.next_for(session, principal, after=after)
    if report_id is None:
        notice = f"{done}_none" if done in DONE_NOTICES else "empty"
        return RedirectResponse(f"/queue?notice={notice}", status_code=303)
    query = urlencode({"notice": "next", "after": after, "done": done} if after and done in DONE_NOTICES else {})
    return RedirectResponse(f"/reports/{report_id}{'?' + query if query else ''}#review", status_code=303)


@router.post("/queue/claim-next")
def claim_next(principal: Reviewer, work: InTransaction) -> RedirectResponse:
    rows, _ = work.instance.review.queue(work.session, QueueFilter(states=(ReportState.AWAITING_REVIEW,),
                                                                   unassigned_only=True), limit=1, count=False)
    if not rows:
        return RedirectResponse("/queue?notice=empty", status_code=303)
    report_id = rows[0][0].id
    work.instance.review.claim(work.session, report_id, principal)
    return back_to_report(report_id, "claimed")


@router.post("/reports/{report_id}/claim")
def claim(report_id: Id, principal: Reviewer, work: InTransaction, version: Version = None) -> RedirectResponse:
    work.instance.review.claim(work.session, report_id, principal, version)
    return back_to_report(report_id, "claimed")


@router.post("/reports/{report_id}/assign")
def assign(report_id: Id, principal: Supervisor, work: InTransaction, username: Annotated[str, Form(max_length=64)],
           version: Version = None) -> RedirectResponse:
    user = work.instance.accounts.user_by_name(work.session, username)
    if user is None or not user.active or user.pending_approval or user.role not in ("analyst", "supervisor"):
        raise InvalidDecision(f"{username!r} is not an active analyst or supervisor").at_field("username")
    work.instance.review.claim(work.session, report_id, principal, version, for_user=user)
    return back_to_report(report_id, "assigned")


@router.post("/reports/{report_id}/release")
def release(report_id: Id, principal: Reviewer, work: InTransaction, version: Version = None) -> RedirectResponse:
    work.instance.review.release(work.session, report_id, principal, version)
    return RedirectResponse("/queue?notice=released", status_code=303)


@router.post("/reports/{report_id}/incident-type")
def set_incident_type(report_id: Id, principal: Reviewer, work: InTransaction,
                      incident_type: Annotated[str, Form(max_length=100)], version: Version = None) -> RedirectResponse:
    if incident_type not in {t.value for t in IncidentType}:
        raise InvalidDecision("choose one of the eight incident types").at_field("incident_type")
    work.instance.review.set_incident_type(work.session, report_id, principal, IncidentType(incident_type), version)
    return back_to_report(report_id, "incident_type")


@router.post("/reports/{report_id}/annotations")
def set_annotations(report_id: Id, principal: Reviewer, work: InTransaction,
                    annotation: Annotated[list[str] | None, Form()] = None, version: Version = None) -> RedirectResponse:
    work.instance.review.set_annotations(work.session, report_id, principal, annotation or [], version)
    return back_to_report(report_id, "annotations")


@router.post("/reports/{report_id}/files/{file_id}/classification")
def classify_file(report_id: Id, file_id: str, principal: Reviewer, work: InTransaction,
                  classification: Annotated[str, Form(max_length=10)],
                  annotation: Annotated[list[str] | None, Form()] = None, version: Version = None) -> RedirectResponse:
    work.instance.review.classify_file(work.session, report_id, file_id, principal, classification, annotation or [], version)
    return back_to_report(report_id, "classified", anchor=f"file-{file_id}")


@router.post("/reports/{report_id}/classification")
def classify_files(report_id: Id, principal: Reviewer, work: InTransaction,
                   classification: Annotated[str, Form(max_length=10)] = "",
                   file: Annotated[list[str] | None, Form(max_length=10_000)] = None,
                   annotation: Annotated[list[str] | None, Form()] = None, version: Version = None) -> RedirectResponse:
    """The report's one classification form: the same classification and annotations for every chosen file
    (an archive chosen stands for the files inside it)."""
    work.instance.review.classify_files(work.session, report_id, file or [], principal, classification,
                                        annotation or [], version)
    return back_to_report(report_id, "classified", anchor="classify")


@router.post("/reports/{report_id}/files/{file_id}/bank")
def add_file_to_bank(request: Request, report_id: Id, file_id: str, principal: Reviewer,
                     bank: Annotated[str, Form(max_length=100)],
                     series: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        instance.review.add_file_to_bank(session, instance.banks, report_id, file_id, principal, bank, series)
    with instance.db.transaction() as session:
        instance.matching.matcher(session, fresh=True)  # this process sees the new entries at once
    run_stage_now(instance, "match_files", report_id)
    with instance.db.transaction() as session:
        rescore(instance, session, report_id, "match")
    return back_to_report(report_id, "banked", anchor=f"file-{file_id}")


@router.post("/reports/{report_id}/notes")
def add_note(report_id: Id, principal: Reviewer, work: InTransaction,
             text: Annotated[str, Form(max_length=20_000)]) -> RedirectResponse:
    work.instance.reports.visible_row(work.session, report_id, principal)
    work.instance.review.add_note(work.session, report_id, principal, text)
    return back_to_report(report_id, "note", anchor="notes")


@router.post("/reports/{report_id}/links")
def link(report_id: Id, principal: Reviewer, work: InTransaction, other_report: Annotated[str, Form(max_length=20)],
         reason: Annotated[str, Form(max_length=1000)] = "") -> RedirectResponse:
    other = parse_whole_number(other_report.strip().lstrip("#"), minimum=1)
    if other is None:
        raise InvalidDecision(f"{other_report!r} is not a report number").at_field("other_report")
    work.instance.review.link(work.session, report_id, other, principal, reason)
    return back_to_report(report_id, "linked", anchor="links")


@router.post("/reports/{report_id}/links/{other_id}/dismiss")
def unlink(report_id: Id, other_id: Id, principal: Reviewer, work: InTransaction) -> RedirectResponse:
    work.instance.review.unlink(work.session, report_id, other_id, principal)
    return back_to_report(report_id, "unlinked", anchor="links")


@router.post("/reports/{report_id}/escalate")
def escalate(report_id: Id, principal: Reviewer, work: InTransaction, note: Annotated[str, Form(max_length=5000)],
             version: Version = None) -> RedirectResponse:
    work.instance.review.escalate(work.session, report_id, principal, note, version)
    return on_to_next(report_id, "escalated")


@router.post("/reports/{report_id}/ready-for-referral")
def ready_for_referral(report_id: Id, principal: Reviewer, work: InTransaction, version: Version = None) -> RedirectResponse:
    work.instance.review.mark_ready_for_referral(work.session, report_id, principal, version)
    return on_to_next(report_id, "ready")


@router.post("/reports/{report_id}/close")
def close(report_id: Id, principal: Reviewer, work: InTransaction, outcome: Annotated[str, Form(max_length=30)],
          reason: Annotated[str, Form(max_length=5000)] = "", version: Version = None) -> RedirectResponse:
    if outcome not in (ReportState.INFORMATIONAL.value, ReportState.CLOSED_NO_ACTION.value):
        raise InvalidDecision("close a report as informational or as closed with no action").at_field("outcome")
    work.instance.review.close(work.session, report_id, principal, ReportState(outcome), reason, version)
    return on_to_next(report_id, "closed")


@router.post("/reports/{report_id}/reopen")
def reopen(report_id: Id, principal: Supervisor, work: InTransaction,
           reason: Annotated[str, Form(max_length=2000)] = "") -> RedirectResponse:
    work.instance.review.reopen(work.session, report_id, principal, reason)
    return back_to_report(report_id, "reopened")

