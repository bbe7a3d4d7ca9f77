"""Pages for the staff who review reports: the list, one report in full, reports sharing an identifier."""

from __future__ import annotations

import math
from datetime import UTC
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from tipline.domain.files import CLASSIFICATION_HELP, FILE_ANNOTATION_HELP, FileAnnotations
from tipline.domain.identifiers import IDENTIFIER_LABELS, IdentifierKind, PartyRole
from tipline.domain.incident import IncidentType, ReportAnnotations
from tipline.domain.lifecycle import STAFF_VISIBLE_STATES, ReportState
from tipline.domain.report import SOURCE_LABELS, ReportSource
from tipline.domain.roles import Permission, Role, has_permission
from tipline.forwarding.events import FORWARDING_EVENT_LABELS
from tipline.jurisdiction.places import country_name
from tipline.referral.events import REFERRAL_EVENT_LABELS
from tipline.referral.importing import imported_referral
from tipline.store.accounts import Principal
from tipline.store.reports import ReportFilter
from tipline.store.tables import FileMatchRow, ReportFileRow, ReportRow
from tipline.takedown.events import TAKEDOWN_EVENT_LABELS
from tipline.triage import LEVEL_LABELS
from tipline.triage.exposure import ExposureTargets
from tipline.web.auth import allow
from tipline.web.conversations import conversation_views, tactic_label
from tipline.web.pages import render
from tipline.web.params import Id
from tipline.web.refusals import refusal_of
from tipline.web.routes.forwarding_pages import forwarding_context
from tipline.web.routes.previews import exposure_of, reveal_token_valid
from tipline.web.routes.referral_pages import referral_context
from tipline.web.routes.review_pages import NOTICES, done_notice
from tipline.web.routes.takedown_pages import takedown_context
from tipline.web.timeline import describe

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.REPORT_READ))]
PAGE_SIZE = 50

READ_ACTIONS = frozenset({"report.read", "file.read", "file.revealed"})
"""Events that only record who read or saw what (a reveal too: the viewer's every step towards clear is one):
shown in a report's history on request ("everything")."""

EVENT_LABELS = {
    "report.submitted": "Report submitted",
    "report.state_changed": "State changed",
    "report.read": "Report opened",
    "report.linked": "Linked to another report",
    "report.prioritised": "Priority",
    "report.conversations_analysed": "Conversations analysed",
    "report.free_text_read": "Description read for urgency",
    "file.added": "File added",
    "file.details_set": "File details",
    "file.hashed": "File hashed",
    "file.read": "File read",
    "file.revealed": "Picture revealed",
    "review.incident_type": "Incident type corrected",
    "review.annotations": "Annotations set",
    "review.file_classified": "File classified",
    "review.note_added": "Note added",
    "review.linked": "Linked by an analyst",
    "review.unlinked": "Link dismissed",
    "review.escalated": "Escalated to a supervisor",
    "review.ready_for_referral": "Ready for referral",
}
EVENT_LABELS.update(REFERRAL_EVENT_LABELS)
EVENT_LABELS.update(FORWARDING_EVENT_LABELS)
EVENT_LABELS.update(TAKEDOWN_EVENT_LABELS)
PARTY_SECTIONS = [
    ("personOrUserReported", "Reported persons or users", "reported"),
    ("intendedRecipient", "Intended recipients", "recipients"),
    ("victim", "Victims", "victims"),
    ("internetDetails", "Internet details", "internet"),
]
HEADING_SINGULAR = {
    "personOrUserReported": "Reported person or user",
    "intendedRecipient": "Intended recipient",
    "victim": "Victim",
    "internetDetails": "Internet detail",
}


def _labels(kind: type) -> dict[str, str]:
    return {member.value: member.label for member in kind}  # type: ignore[attr-defined]  # kind is a LabelledEnum class (PartyRole ...)


@router.get("/reports", response_class=HTMLResponse)
def list_reports(
    request: Request,
    principal: Reader,
    state: str = "",
    incident_type: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    instance = request.app.state.instance
    states = [ReportState(state)] if state in {s.value for s in ReportState} else sorted(STAFF_VISIBLE_STATES)
    incident = IncidentType(incident_type) if incident_type in {t.value for t in IncidentType} else None
    with instance.db.transaction() as session:
        rows, total = instance.reports.list(
            session, ReportFilter(states=states, incident_type=incident), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    query = urlencode({k: v for k, v in {"state": state, "incident_type": incident_type}.items() if v})
    return render(
        request,
        "reports.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "base_query": f"{query}&" if query else "",
            "states": [(s.value, s.label) for s in ReportState],
            "selected_state": state,
            "incident_types": [t.value for t in IncidentType],
            "selected_incident_type": incident_type,
            "source_labels": {s.value: label for s, label in SOURCE_LABELS.items()},
        },
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def show_report(request: Request, report_id: Id, principal: Reader,
                history_view: Annotated[str, Query(alias="history", max_length=10)] = "changes") -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        report = instance.reports.read(session, report_id, principal, purpose="report page")
        identifiers = instance.identifiers.of_report(session, report_id)
        linked: dict[int, dict[str, Any]] = {}
        for link, other in instance.identifiers.links_of(session, report_id):
            entry = linked.setdefault(
                other.id, {"state": other.state, "incident_type": other.incident_type, "bases": []}
            )
            entry["bases"].append((link.basis, link.value))
        conversations = conversation_views(instance, session, report, principal)
        referral = referral_context(instance, session, report_id, principal)  # the referral section
        forwarding = forwarding_context(instance, session, report_id, principal)  # the forwarding section
        provenance = partner_provenance(session, report_id)  # where a report imported from a partner came from
        takedown = takedown_context(instance, session, report_id, principal)  # the takedown section
        history = instance.audit.events_for_report(session, report_id)
        reads = sum(1 for event in history if event.action in READ_ACTIONS)
        refusal = refusal_of(request)
        changed_since = ([event for event in history if event.action not in READ_ACTIONS
                          and event.at.replace(tzinfo=event.at.tzinfo or UTC) > refusal.drawn_at]
                         if refusal is not None and refusal.stale and refusal.drawn_at is not None else None)
        if history_view != "all":  # the reads are audited and countable, but hide what changed among them
            history = [event for event in history if event.action not in READ_ACTIONS]
        row = instance.reports.row(session, report_id)
        holder = instance.review.holder_name(session, row)
        notes = instance.review.notes(session, report_id)
        matches: dict[str, list[FileMatchRow]] = {}
        for match in session.execute(select(FileMatchRow).where(FileMatchRow.report_id == report_id)
                                     .order_by(FileMatchRow.suppressed, FileMatchRow.distance)).scalars():
            matches.setdefault(match.file_id, []).append(match)
        series_identified = instance.banks.identified_series(
            session, [m.series for ms in matches.values() for m in ms if m.series])
        banks = instance.banks.names(session)  # not summaries(): counting millions of entries per page view
        exposure = exposure_of(request, session, principal)
        file_reviews = {
            f.id: {"classification": f.reviewed_classification,
                   "annotations": (f.reviewed_annotations or {}).get("annotations", [])}
            for f in session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report_id)).scalars()
        }
    can_review = has_permission(principal.role, Permission.REPORT_REVIEW)
    supervising = has_permission(principal.role, Permission.REPORT_SUPERVISE)
    reviewers: list[dict[str, Any]] = []
    if supervising and row.state == ReportState.AWAITING_REVIEW:  # who the report can be assigned to
        with instance.db.transaction() as session:
            holding = {w["username"]: w["holding"] for w in instance.review.workload(session)}
            reviewers = [{"username": u.username, "name": u.display_name, "holding": holding.get(u.username, 0)}
                         for u in instance.accounts.list_users(session)
                         if u.active and not u.pending_approval and has_permission(Role(u.role), Permission.REPORT_REVIEW)]
    held_by_me = row.assigned_to is not None and row.assigned_to == principal.user_id
    may_decide = can_review and row.state == ReportState.IN_REVIEW and (held_by_me or supervising)
    reveal_file = request.query_params.get("reveal", "")
    reveal_token = request.query_params.get("token", "")
    if not (reveal_file and reveal_token_valid(instance.secret_key, reveal_token, reveal_file, principal.session_id)):
        reveal_file, reveal_token = "", ""
    content = report.content.to_wire()
    annotations = (
        report.content.incident_summary.report_annotations.names()
        if report.content.incident_summary.report_annotations
        else []
    )
    sections = [("incident", "Incident")]
    if content.get("publicReport"):
        sections.append(("public", "Reporter's account"))
    sections += [(anchor, heading) for key, heading, anchor in PARTY_SECTIONS if content.get(key)]
    if content.get("lawEnforcement"):
        sections.append(("law-enforcement", "Law enforcement"))
    if content.get("reporter"):
        sections.append(("reporter", "Reporter"))
    if conversations:
        sections.append(("conversations", "Conversations"))
    sections += [("identifiers", "Identifiers"), ("links", "Linked reports"), ("files", "Files"), ("history", "History")]
    return render(
        request,
        "report.html",
        {
            "report": report,
            "content": content,
            "annotations": annotations,
            "identifiers": identifiers,
            "linked": linked,
            "history": history,
            "history_reads": reads,
            "history_all": history_view == "all",
            "changed_since": changed_since,
            "sections": sections,
            "party_sections": PARTY_SECTIONS,
            "heading_singular": HEADING_SINGULAR,
            "source_label": SOURCE_LABELS[ReportSource(report.source)],
            "identifier_labels": IDENTIFIER_LABELS,
            "role_labels": _labels(PartyRole),
            "event_labels": EVENT_LABELS,
            "describe_event": describe,
            "conversations": conversations,
            "tactic_label": tactic_label,
            "referral": referral,
            "forwarding": forwarding,
            "provenance": provenance,
            "takedown": takedown,
            "row": row,
            "holder": holder,
            "notes": notes,
            "can_review": can_review,
            "supervising": supervising,
            "reviewers": reviewers,
            "held_by_me": held_by_me,
            "may_decide": may_decide,
            "notice": (done_notice(request.query_params.get("after", ""), request.query_params.get("done", ""))
                       if request.query_params.get("notice") == "next"
                       else NOTICES.get(request.query_params.get("notice", ""))),
            "priority_label": LEVEL_LABELS.get(row.priority or "", "not scored"),
            "incident_types": [t.value for t in IncidentType],
            "report_annotation_names": [info.alias or name for name, info in ReportAnnotations.model_fields.items()],
            "current_annotations": (row.reviewed_annotations or {}).get("annotations")
            or (report.content.incident_summary.report_annotations.names()
                if report.content.incident_summary.report_annotations else []),
            "file_reviews": file_reviews,
            "file_names": {f.file_id: f.display_name for f in report.files},
            "matches": matches,
            "series_identified": series_identified,
            "banks": banks,
            "classifications": [("", "choose a classification"), ("A1", "A1"), ("A2", "A2"), ("B1", "B1"),
                                ("B2", "B2"), ("none", "Not apparent CSAM")],
            "classification_help": list(CLASSIFICATION_HELP.items()),
            "file_annotation_help": FILE_ANNOTATION_HELP,
            "classify_choices": classify_choices(report.files, file_reviews),
            "archive_summaries": archive_summaries(report.files, file_reviews),
            "exposure": exposure,
            "targets": ExposureTargets.from_settings(instance.settings.extra),
            "file_annotation_names": [info.alias or name for name, info in FileAnnotations.model_fields.items()],
            "reveal_file": reveal_file,
            "reveal_token": reveal_token,
        },
    )


def _classified_words(value: str | None) -> str:
    return "not classified yet" if not value else ("not apparent CSAM" if value == "none" else f"classified {value}")


def classify_choices(files: list[Any], reviews: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The files the report's classification form offers: each with what it is classified as now; an archive
    with how many files inside it the choice stands for."""
    names = {f.file_id: f.display_name for f in files}
    summaries = archive_summaries(files, reviews)
    members: dict[str, int] = {}
    for f in files:
        if f.extracted_from:
            members[f.extracted_from] = members.get(f.extracted_from, 0) + 1
    return [{"file_id": f.file_id, "name": f.display_name, "members": members.get(f.file_id, 0),
             "in_archive": names.get(f.extracted_from, "") if f.extracted_from else "",
             "current": (f"inside: {summaries[f.file_id]}" if f.file_id in summaries
                         else _classified_words(reviews.get(f.file_id, {}).get("classification")))}
            for f in files]


def archive_summaries(files: list[Any], reviews: dict[str, dict[str, Any]]) -> dict[str, str]:
    """For each archive, its members' classifications in words ("2 B2, 1 not classified yet")."""
    counts: dict[str, dict[str, int]] = {}
    for f in files:
        if f.extracted_from:
            words = _classified_words(reviews.get(f.file_id, {}).get("classification")).removeprefix("classified ")
            tally = counts.setdefault(f.extracted_from, {})
            tally[words] = tally.get(words, 0) + 1
    return {archive: ", ".join(f"{n} {words}" for words, n in sorted(tally.items())) for archive, tally in counts.items()}


def partner_provenance(session: Any, report_id: int) -> dict[str, Any] | None:
    """Where a report imported from a partner hotline came from, in words for the report page."""
    found = imported_referral(session, report_id)
    if found is None:
        return None
    imported, partner = found
    return {"partner": partner.name, "country": country_name(partner.country) or partner.country,
            "sender_report_id": imported.sender_report_id, "sender_referral_id": imported.sender_referral_id,
            "referred_at": imported.referred_at, "imported_at": imported.imported_at,
            "imported_by": imported.imported_by, "signing_key_id": imported.signing_key_id,
            "package_sha256": imported.package_sha256}


@router.get("/identifiers", response_class=HTMLResponse)
def reports_sharing_identifier(
    request: Request,
    principal: Reader,
    kind: IdentifierKind,
    value: Annotated[str, Query(min_length=1, max_length=1024)],
) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        report_ids = instance.identifiers.reports_sharing(session, kind.value, value)
        rows = [session.get(ReportRow, report_id) for report_id in report_ids]
        instance.audit.append(
            session, principal.actor, "identifier.searched", details={"kind": kind.value, "value": value}
        )
    return render(
        request,
        "identifier.html",
        {"rows": [r for r in rows if r is not None], "kind_label": kind.label, "value": value},
    )
