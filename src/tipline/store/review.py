"""Review: the triage weights, the queue, claiming, and every analyst decision (audited). Scores are kept
current by the score_priority stage (tipline.pipeline.stages.score_priority)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, asc, bindparam, cast, desc, func, or_, select
from sqlalchemy.orm import Session, load_only

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.errors import TiplineError
from tipline.domain.files import FileAnnotations
from tipline.domain.incident import IncidentType, ReportAnnotations
from tipline.domain.lifecycle import QUEUE_STATES, ReportState
from tipline.domain.roles import Permission, has_permission
from tipline.matching import (
    PDQ_MIN_QUALITY,
    BankEntry,
    SignalType,
    VpdqFrame,
    format_vpdq,
    parse_classification,
)
from tipline.pipeline.stages.score_priority import WEIGHTS_KEY, rescore, triage_weights
from tipline.store.accounts import Principal
from tipline.store.audit import AuditLog
from tipline.store.banks import BankError, BankStore
from tipline.store.reports import ReportNotFound, ReportStore, StaleReport
from tipline.store.tables import (
    AuditEventRow,
    FileSignalRow,
    InstanceSetting,
    ReportFileRow,
    ReportLinkRow,
    ReportNote,
    ReportRow,
    User,
)
from tipline.triage import TriageWeights

CLASSIFICATIONS = ("A1", "A2", "B1", "B2", "none")  # "none": not apparent CSAM


WEIGHTS_CHANGED = "triage.weights_changed"


@dataclass(frozen=True)
class WeightsChange:
    """One change of the triage weights, as the audit trail keeps it."""

    at: datetime
    by: str
    changed: dict[str, tuple[Any, Any]]  # setting -> (old, new)
    reset: bool = False  # back to the shipped defaults


class ReviewRefused(TiplineError, PermissionError):
    """A decision this person may not take on this report now, with the reason."""

    status, code, title = 409, "not_allowed_now", "Not possible now"


class InvalidDecision(TiplineError, ValueError):
    """A decision whose content is wrong (an unknown classification, an empty reason), with the fix."""

    status, code, title = 400, "invalid_decision", "Please check the decision"


@dataclass(frozen=True)
class QueueFilter:
    priorities: Sequence[str] = ()
    incident_type: IncidentType | None = None
    states: Sequence[ReportState] = QUEUE_STATES
    assigned_to: int | None = None
    unassigned_only: bool = False
    undecided_only: bool = False
    """Only reports not yet marked ready for referral."""
    excluding: int | None = None
    """Leave this report out (the one just decided on)."""


class ReviewStore:
    def __init__(self, audit: AuditLog, reports: ReportStore) -> None:
        self.audit = audit
        self.reports = reports

    # --- triage ---------------------------------------------------------------------------------

    def weights(self, session: Session) -> TriageWeights:
        return triage_weights(session)

    def set_weights(self, session: Session, weights: TriageWeights, actor: Actor, *, reset: bool = False
                    ) -> dict[str, list[Any]]:
        """Keep the new weights; the change (each setting's old and new value) is audited, and so kept in
        the weights' history. `reset`: a return to the shipped defaults. Returns what changed."""
        before = self.weights(session).model_dump()
        after = weights.model_dump()
        setting = session.get(InstanceSetting, WEIGHTS_KEY)
        if setting is None:
            session.add(InstanceSetting(key=WEIGHTS_KEY, value=after))
        else:
            setting.value = after
        changed = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
        details: dict[str, Any] = {"changed": changed}
        if reset:
            details["reset"] = True
        self.audit.append(session, actor, WEIGHTS_CHANGED, details=details)
        return changed

    def weights_history(self, session: Session, limit: int = 50) -> list[WeightsChange]:
        """The changes of the weights, the newest first: who, when, each setting's old and new value."""
        rows = session.execute(
            select(AuditEventRow.at, AuditEventRow.actor_name, AuditEventRow.details)
            .where(AuditEventRow.action == WEIGHTS_CHANGED)
            .order_by(desc(AuditEventRow.at), desc(AuditEventRow.seq)).limit(limit)
        ).all()
        return [WeightsChange(at, actor, {k: (v[0], v[1]) for k, v in (details or {}).get("changed", {}).items()},
                              bool((details or {}).get("reset"))) for at, actor, details in rows]

    # --- the queue ------------------------------------------------------------------------------

    def queue(self, session: Session, filters: QueueFilter, *, limit: int = 50, offset: int = 0,
              count: bool = True) -> tuple[list[tuple[ReportRow, str | None]], int | None]:
        """Reports to review, most urgent first (level, then score, then longest waiting)."""
        conditions: list[Any] = [_state_in(filters.states)]
        if filters.priorities:
            conditions.append(ReportRow.priority.in_(list(filters.priorities)))
        if filters.incident_type is not None:
            conditions.append(func.coalesce(ReportRow.reviewed_incident_type, ReportRow.incident_type)
                              == filters.incident_type.value)
        if filters.assigned_to is not None:
            conditions.append(ReportRow.assigned_to == filters.assigned_to)
        if filters.unassigned_only:
            conditions.append(ReportRow.assigned_to.is_(None))
        if filters.undecided_only:
            conditions.append(ReportRow.ready_for_referral_at.is_(None))
        if filters.excluding is not None:
            conditions.append(ReportRow.id != filters.excluding)
        total = (session.execute(select(func.count()).select_from(ReportRow).where(*conditions)).scalar_one()
                 if count else None)
        # The same order as "rank, highest first" (a level's ranks sit above the next level's), unscored
        # reports last, written so that the queue's indexes (ix_reports_queue*) yield it without a sort.
        order = (asc(ReportRow.priority).nulls_last(), desc(ReportRow.priority_rank), asc(ReportRow.received_at),
                 asc(ReportRow.id))
        # The page's ids first, from the index alone, then only those rows: a page deep in the queue does
        # not read every report before it.
        page = select(ReportRow.id).where(*conditions).order_by(*order).limit(limit).offset(offset).subquery()
        rows = session.execute(
            select(ReportRow, User.username)
            .join(page, page.c.id == ReportRow.id)
            .outerjoin(User, User.id == ReportRow.assigned_to)
            .order_by(*order)
        ).all()
        return [(row, username) for row, username in rows], total

    def next_for(self, session: Session, principal: Principal, *, after: int | None = None) -> int | None:
        """The next report this person may take, most urgent first: one they hold and have not finished
        (not ready for referral), else the top unclaimed one; never `after` (the one just decided on)."""
        if principal.user_id is not None:
            held, _ = self.queue(session, QueueFilter(states=(ReportState.IN_REVIEW,), assigned_to=principal.user_id,
                                                      undecided_only=True, excluding=after), limit=1, count=False)
            if held:
                return held[0][0].id
        waiting, _ = self.queue(session, QueueFilter(states=(ReportState.AWAITING_REVIEW,), unassigned_only=True,
                                                     excluding=after), limit=1, count=False)
        return waiting[0][0].id if waiting else None

    def queue_counts(self, session: Session) -> dict[str, dict[str, int]]:
        """How many reports wait, and how many are held, at each priority level."""
        rows = session.execute(
            select(ReportRow.state, ReportRow.priority, func.count())
            .where(_state_in(QUEUE_STATES))
            .group_by(ReportRow.state, ReportRow.priority)
        ).all()
        counts: dict[str, dict[str, int]] = {}
        for state, priority, count in rows:
            counts.setdefault(state, {})[priority or "unscored"] = count
        return counts

    def overdue_by_priority(self, session: Session, cutoffs: dict[str, datetime]) -> dict[str, tuple[int, datetime]]:
        """Per priority, the waiting reports received before its cutoff: how many, and the oldest's arrival."""
        found: dict[str, tuple[int, datetime]] = {}
        for level, cutoff in cutoffs.items():
            count, oldest = session.execute(
                select(func.count(), func.min(ReportRow.received_at))
                .where(ReportRow.state == ReportState.AWAITING_REVIEW.value, ReportRow.priority == level,
                       ReportRow.received_at < cutoff)).one()
            if count and oldest is not None:
                found[level] = (int(count), oldest)
        return found

    def received_by_day(self, session: Session, days: int = 30, *,
                        now: datetime | None = None) -> dict[date, dict[str, int]]:
        """Reports received on each of the last `days` UTC calendar days (today included, the oldest
        first), by priority level ("unscored" for none yet): every day is present, with zeros.

        Grouped in SQL over a range of ix_reports_received_at_priority (read from the index alone), so
        only ~days x levels rows come back however many reports there are."""
        today = (now or utc_now()).astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, time(), tzinfo=UTC)
        if session.get_bind().dialect.name == "postgresql":
            day: Any = cast(func.timezone("UTC", ReportRow.received_at), Date)
        else:  # SQLite keeps the UTC time without its zone, as text that date() reads
            day = func.date(ReportRow.received_at)
        rows = session.execute(
            select(day.label("day"), ReportRow.priority, func.count())
            .where(ReportRow.received_at >= since)
            .group_by(day, ReportRow.priority)
        ).all()
        counts: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range(days)}
        for value, priority, count in rows:
            when = value if isinstance(value, date) else date.fromisoformat(value)
            if when in counts:
                key = priority or "unscored"
                counts[when][key] = counts[when].get(key, 0) + count
        return counts

    def oldest_waiting(self, session: Session, limit: int = 10) -> list[ReportRow]:
        """The reports waiting longest (their list columns only, not their content)."""
        return list(session.execute(
            select(ReportRow).options(load_only(ReportRow.id, ReportRow.priority, ReportRow.received_at,
                                                ReportRow.incident_type, ReportRow.state))
            .where(ReportRow.state == ReportState.AWAITING_REVIEW.value)
            .order_by(asc(ReportRow.received_at)).limit(limit)
        ).scalars())

    def escalated(self, session: Session, limit: int = 50) -> list[ReportRow]:
        """Reports in the queue escalated to a supervisor, the longest waiting first (list columns only)."""
        return list(session.execute(
            select(ReportRow).options(load_only(ReportRow.id, ReportRow.priority, ReportRow.state,
                                                ReportRow.escalated_to_supervisor_at, ReportRow.escalation_note))
            .where(ReportRow.escalated_to_supervisor_at.is_not(None),
                   ReportRow.state.in_([s.value for s in QUEUE_STATES]))
            .order_by(asc(ReportRow.escalated_to_supervisor_at)).limit(limit)
        ).scalars())

    def workload(self, session: Session) -> list[dict[str, Any]]:
        """Per person holding reports: how many, and since when the oldest."""
        rows = session.execute(
            select(User.username, User.display_name, func.count(ReportRow.id), func.min(ReportRow.claimed_at))
            .join(ReportRow, ReportRow.assigned_to == User.id)
            .where(ReportRow.state == ReportState.IN_REVIEW.value)
            .group_by(User.username, User.display_name)
            .order_by(desc(func.count(ReportRow.id)))
        ).all()
        return [{"username": u, "name": n, "holding": c, "oldest_claim": o} for u, n, c, o in rows]

    # --- holding a report -------------------------------------------------------------------------

    def _check_version(self, row: ReportRow, expected_version: int | None) -> None:
        if expected_version is not None and row.version != expected_version:
            raise StaleReport(row.id, expected_version, row.version)

    def claim(self, session: Session, report_id: int, principal: Principal, expected_version: int | None = None,
              *, for_user: User | None = None) -> ReportRow:
        """Take a waiting report (a supervisor may give it to someone else)."""
        row = self.reports.row(session, report_id, for_update=True)
        self._check_version(row, expected_version)
        holder = for_user.id if for_user is not None else principal.user_id
        if for_user is not None and not has_permission(principal.role, Permission.REPORT_SUPERVISE):
            raise ReviewRefused("only a supervisor can assign a report to someone else")
        self.reports.transition(session, report_id, ReportState.IN_REVIEW, principal.actor,
                                reason=f"claimed by {for_user.username}" if for_user else "claimed")
        row.assigned_to, row.claimed_at = holder, utc_now()
        return row

    def release(self, session: Session, report_id: int, principal: Principal, expected_version: int | None = None
                ) -> ReportRow:
        row = self._held(session, report_id, principal, expected_version)
        self.reports.transition(session, report_id, ReportState.AWAITING_REVIEW, principal.actor, reason="released")
        row.assigned_to, row.claimed_at = None, None
        return row

    def _held(self, session: Session, report_id: int, principal: Principal, expected_version: int | None) -> ReportRow:
        """The report, if it is in review and this person holds it (or supervises)."""
        row = self.reports.row(session, report_id, for_update=True)
        self._check_version(row, expected_version)
        if row.state != ReportState.IN_REVIEW:
            raise ReviewRefused(f"report {report_id} is {ReportState(row.state).label.lower()}: claim it first")
        if row.assigned_to != principal.user_id and not has_permission(principal.role, Permission.REPORT_SUPERVISE):
            raise ReviewRefused(f"report {report_id} is held by someone else; only they or a supervisor can decide")
        return row

    # --- decisions --------------------------------------------------------------------------------

    def _decided(self, session: Session, row: ReportRow, principal: Principal, action: str,
                 details: dict[str, Any], trigger: str | None = None) -> ReportRow:
        return self._decided_each(session, row, principal, action, [details], trigger)

    def _decided_each(self, session: Session, row: ReportRow, principal: Principal, action: str,
                      details_each: list[dict[str, Any]], trigger: str | None = None) -> ReportRow:
        """One new version of the report for a decision about several of its parts, one audit event each."""
        row.version += 1
        row.updated_at = utc_now()
        for details in details_each:
            self.audit.append(session, principal.actor, action, report_id=row.id, details=details)
        if trigger:
            rescore(self, session, row.id, trigger)
        return row

    def set_incident_type(self, session: Session, report_id: int, principal: Principal, incident_type: IncidentType,
                          expected_version: int | None = None) -> ReportRow:
        row = self._held(session, report_id, principal, expected_version)
        before = row.reviewed_incident_type or row.incident_type
        row.reviewed_incident_type = None if incident_type.value == row.incident_type else incident_type.value
        return self._decided(session, row, principal, "review.incident_type",
                             {"from": before, "to": incident_type.value}, trigger="incident type")

    def set_annotations(self, session: Session, report_id: int, principal: Principal, annotations: list[str],
                        expected_version: int | None = None) -> ReportRow:
        allowed = {info.alias or name for name, info in ReportAnnotations.model_fields.items()}
        unknown = sorted(set(annotations) - allowed)
        if unknown:
            raise InvalidDecision(f"unknown report annotations: {', '.join(unknown)}").at_field("annotation")
        row = self._held(session, report_id, principal, expected_version)
        row.reviewed_annotations = {"annotations": sorted(set(annotations))}
        return self._decided(session, row, principal, "review.annotations", {"annotations": sorted(set(annotations))},
                             trigger="annotations")

    def classify_file(self, session: Session, report_id: int, file_id: str, principal: Principal,
                      classification: str, annotations: list[str], expected_version: int | None = None) -> ReportRow:
        return self.classify_files(session, report_id, [file_id], principal, classification, annotations,
                                   expected_version)

    def classify_files(self, session: Session, report_id: int, file_ids: list[str], principal: Principal,
                       classification: str, annotations: list[str], expected_version: int | None = None) -> ReportRow:
        """One classification and set of file annotations for each chosen file of the report: one audit event
        per file, one new version of the report. An archive (a ZIP) is classified by its members: choosing it
        chooses the files found inside it, never the archive itself."""
        if classification not in CLASSIFICATIONS:
            raise InvalidDecision("choose a classification: A1, A2, B1, B2 or not apparent CSAM").at_field(
                "classification")
        allowed = {info.alias or name for name, info in FileAnnotations.model_fields.items()}
        unknown = sorted(set(annotations) - allowed)
        if unknown:
            raise InvalidDecision(f"unknown file annotations: {', '.join(unknown)}").at_field("annotation")
        if not file_ids:
            raise InvalidDecision("choose at least one file to classify").at_field("file")
        row = self._held(session, report_id, principal, expected_version)
        files = {f.id: f for f in session.execute(
            select(ReportFileRow).where(ReportFileRow.report_id == report_id)).scalars()}
        members: dict[str, list[ReportFileRow]] = {}
        for file in files.values():
            if file.parent_file_id:
                members.setdefault(file.parent_file_id, []).append(file)

        def classified_as(file: ReportFileRow) -> list[ReportFileRow]:  # an archive's members, at any depth
            if file.media_kind != "archive" and file.id not in members:
                return [file]
            if file.id not in members:
                raise InvalidDecision(f"{file.file_name or 'this file'} is an archive with no files found inside it: "
                                      "an archive is classified by the files in it").at_field("file")
            return [inner for member in members[file.id] for inner in classified_as(member)]

        chosen: list[ReportFileRow] = []
        for file_id in dict.fromkeys(file_ids):
            if file_id not in files:
                raise ReportNotFound(report_id)
            chosen += classified_as(files[file_id])
        names = sorted(set(annotations))
        events = []
        for file in dict.fromkeys(chosen):
            events.append({"file_id": file.id, "from": file.reviewed_classification, "to": classification,
                           "annotations": names})
            file.reviewed_classification = classification
            file.reviewed_annotations = {"annotations": names}
        return self._decided_each(session, row, principal, "review.file_classified", events,
                                  trigger="file classification")

    def add_file_to_bank(self, session: Session, banks: BankStore, report_id: int, file_id: str,
                         principal: Principal, bank_name: str, series: str = "") -> int:
        """Put a reviewed file's hashes in a bank (with this report as their source); returns how many."""
        row = self._held(session, report_id, principal, None)
        file = session.get(ReportFileRow, file_id)
        if file is None or file.report_id != report_id:
            raise ReportNotFound(report_id)
        classification = parse_classification(file.reviewed_classification) if file.reviewed_classification in \
            ("A1", "A2", "B1", "B2") else None

        def entry(kind: SignalType, value: str) -> BankEntry:
            return BankEntry(bank_name, kind, value, source=f"tipline report {report_id}", source_id=file_id,
                             classification=classification, series=series.strip() or None,
                             added_by=principal.actor.name)

        entries = [entry(kind, value) for kind, value in ((SignalType.MD5, file.md5), (SignalType.SHA256, file.sha256))
                   if value]
        if file.pdq and (file.pdq_quality or 0) >= PDQ_MIN_QUALITY:
            entries.append(entry(SignalType.PDQ, file.pdq))
        frames = session.execute(select(FileSignalRow).where(FileSignalRow.file_id == file_id,
                                                             FileSignalRow.signal_type == "vpdq_frame")
                                 .order_by(FileSignalRow.frame_number)).scalars().all()
        if frames:
            entries.append(entry(SignalType.VPDQ, format_vpdq(
                [VpdqFrame(f.value, f.quality or 0, (f.timestamp_ms or 0) / 1000) for f in frames])))
        try:
            added = banks.add_entries(session, bank_name, entries, principal.actor,
                                      audit_detail={"report_id": report_id, "file_id": file_id})
        except BankError as error:
            raise InvalidDecision(str(error)) from None
        self._decided(session, row, principal, "review.file_banked",
                      {"file_id": file_id, "bank": bank_name, "entries": added})
        return added

    def add_note(self, session: Session, report_id: int, principal: Principal, text: str) -> ReportNote:
        text = text.strip()
        if not text:
            raise InvalidDecision("a note needs some text").at_field("text")
        if len(text) > 20_000:
            raise InvalidDecision("a note is at most 20,000 characters").at_field("text")
        row = self.reports.row(session, report_id, for_update=True)
        if row.state in (ReportState.OPEN, ReportState.RETRACTED):
            raise ReviewRefused("notes can be added once a report has been received")
        note = ReportNote(report_id=report_id, author_id=principal.user_id, author_name=principal.actor.name,
                          text=text, created_at=utc_now())
        session.add(note)
        session.flush()
        self._decided(session, row, principal, "review.note_added", {"note_id": note.id}, trigger="note")
        return note

    def notes(self, session: Session, report_id: int) -> list[ReportNote]:
        return list(session.execute(
            select(ReportNote).where(ReportNote.report_id == report_id).order_by(ReportNote.id)
        ).scalars())

    def link(self, session: Session, report_id: int, other_id: int, principal: Principal, reason: str) -> None:
        if report_id == other_id:
            raise InvalidDecision("a report cannot be linked to itself").at_field("other_report")
        row = self._held(session, report_id, principal, None)
        other = session.get(ReportRow, other_id)
        if other is None:
            raise ReportNotFound(other_id).at_field("other_report")
        reason = reason.strip()[:1000] or "linked by an analyst"
        now = utc_now()
        for a, b in sorted({(report_id, other_id), (other_id, report_id)}):
            exists = session.execute(select(ReportLinkRow).where(
                ReportLinkRow.report_id == a, ReportLinkRow.linked_report_id == b, ReportLinkRow.basis == "manual"
            )).scalar_one_or_none()
            if exists is None:
                session.add(ReportLinkRow(report_id=a, linked_report_id=b, basis="manual", value=reason,
                                          created_at=now, created_by=principal.actor.name))
            elif exists.dismissed_at is not None:
                exists.dismissed_at, exists.dismissed_by = None, None
        self._decided(session, row, principal, "review.linked", {"linked_report_id": other_id, "reason": reason},
                      trigger="link")
        self.audit.append(session, principal.actor, "review.linked", report_id=other_id,
                          details={"linked_report_id": report_id, "reason": reason})
        rescore(self, session, other_id, "link")

    def unlink(self, session: Session, report_id: int, other_id: int, principal: Principal) -> int:
        """Dismiss every link between two reports (automatic ones stay dismissed when linking runs again)."""
        row = self._held(session, report_id, principal, None)
        links = list(session.execute(select(ReportLinkRow).where(or_(
            and_(ReportLinkRow.report_id == report_id, ReportLinkRow.linked_report_id == other_id),
            and_(ReportLinkRow.report_id == other_id, ReportLinkRow.linked_report_id == report_id),
        ), ReportLinkRow.dismissed_at.is_(None))).scalars())
        now = utc_now()
        for link in links:
            link.dismissed_at, link.dismissed_by = now, principal.actor.name
        self._decided(session, row, principal, "review.unlinked", {"linked_report_id": other_id}, trigger="unlink")
        self.audit.append(session, principal.actor, "review.unlinked", report_id=other_id,
                          details={"linked_report_id": report_id})
        return len(links)

    def escalate(self, session: Session, report_id: int, principal: Principal, note: str,
                 expected_version: int | None = None) -> ReportRow:
        row = self._held(session, report_id, principal, expected_version)
        note = note.strip()
        if not note:
            raise InvalidDecision("say why the report needs a supervisor").at_field("note")
        row.escalated_to_supervisor_at, row.escalation_note = utc_now(), note[:5000]
        return self._decided(session, row, principal, "review.escalated", {"note": note[:500]}, trigger="escalation")

    def mark_ready_for_referral(self, session: Session, report_id: int, principal: Principal,
                                expected_version: int | None = None) -> ReportRow:
        row = self._held(session, report_id, principal, expected_version)
        row.ready_for_referral_at = utc_now()
        return self._decided(session, row, principal, "review.ready_for_referral", {})

    def close(self, session: Session, report_id: int, principal: Principal, outcome: ReportState, reason: str,
              expected_version: int | None = None) -> ReportRow:
        if outcome not in (ReportState.INFORMATIONAL, ReportState.CLOSED_NO_ACTION):
            raise InvalidDecision("a report is closed as informational or closed_no_action").at_field("outcome")
        reason = reason.strip()
        if not reason:
            raise InvalidDecision("give a reason for closing the report").at_field("reason")
        row = self._held(session, report_id, principal, expected_version)
        self.reports.transition(session, report_id, outcome, principal.actor, reason=reason[:2000])
        row.closed_reason, row.assigned_to = reason[:5000], None
        return row

    def reopen(self, session: Session, report_id: int, principal: Principal, reason: str) -> ReportRow:
        if not has_permission(principal.role, Permission.REPORT_SUPERVISE):
            raise ReviewRefused("only a supervisor can reopen a closed report")
        row = self.reports.row(session, report_id, for_update=True)
        self.reports.transition(session, report_id, ReportState.AWAITING_REVIEW, principal.actor,
                                reason=reason.strip()[:2000] or "reopened")
        row.closed_reason = None
        rescore(self, session, report_id, "reopened")
        return row

    def holder_name(self, session: Session, row: ReportRow) -> str | None:
        if row.assigned_to is None:
            return None
        user = session.get(User, row.assigned_to)
        return user.username if user else None


def _state_in(states: Sequence[ReportState]) -> Any:
    """The states written into the SQL as values, so that the planner (SQLite's, or PostgreSQL's with a
    cached plan) sees that the queue's partial index ix_reports_queue covers the query."""
    return ReportRow.state.in_(bindparam("states", [s.value for s in states], expanding=True, literal_execute=True))


def effective_incident_type(row: ReportRow) -> str:
    return row.reviewed_incident_type or row.incident_type

