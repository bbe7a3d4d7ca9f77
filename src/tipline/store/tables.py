"""The database tables (SQLAlchemy 2 declarative), shared by SQLite and PostgreSQL. The referral and
Idempotency-Key tables are in their own modules; `tipline.store.metadata` registers them all.

Length (about 600 lines): declarations only, one class a table, with the relations and foreign keys
between the report's tables in one place; new feature tables go in modules of their own (as the
referral, idempotency, victim and follow-up tables do)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tipline.store.types import BigId, JSONDocument, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument}


class User(Base):
    """A person's login (analyst, supervisor, victim-identification analyst, agency user, admin)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime]
    # Created on the web with a role that reads reports: cannot sign in until a second person approves.
    pending_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class RoleGrant(Base):
    """A role that reads report content given to a person: requested on the web and approved by a
    second person (another admin or a supervisor), or given from the server's command line."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    previous_role: Mapped[str | None] = mapped_column(String(20))  # None: a new login
    state: Mapped[str] = mapped_column(String(20))  # pending, approved, refused
    via: Mapped[str] = mapped_column(String(20))  # web, cli
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_user_id: Mapped[int | None]
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_by_user_id: Mapped[int | None]
    decided_at: Mapped[datetime | None] = mapped_column(index=True)

    __table_args__ = (Index("ix_role_grants_state", "state"),)


class LoginKnownAddress(Base):
    """An address a person signed in from successfully: failures for their name from other
    addresses never hold them back there."""

    __tablename__ = "login_known_addresses"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_success_at: Mapped[datetime]


class ApiAccount(Base):
    """A service provider's API account (HTTP Basic); the secret is stored only as a hash."""

    __tablename__ = "api_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None]


class UserSession(Base):
    """A logged-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client_address: Mapped[str | None] = mapped_column(String(64))


class ReportRow(Base):
    """One report: lifecycle columns for queues and search, and the full content as a JSON document."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    api_account_id: Mapped[int | None] = mapped_column(ForeignKey("api_accounts.id"), index=True)
    incident_type: Mapped[str] = mapped_column(String(100), index=True)
    incident_at: Mapped[datetime]
    platform: Mapped[str | None] = mapped_column(String(1024))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[dict[str, Any]]
    # Triage: kept current by tipline.triage whenever a fact arrives.
    priority: Mapped[str | None] = mapped_column(String(2))
    priority_rank: Mapped[int | None] = mapped_column(Integer)  # the level then the score, one sortable number
    priority_score: Mapped[int | None] = mapped_column(Integer)
    priority_reasons: Mapped[dict[str, Any] | None]
    scored_at: Mapped[datetime | None]
    # Review: who holds it, and what analysts decided (the reporter's own facts are never overwritten).
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None]
    reviewed_incident_type: Mapped[str | None] = mapped_column(String(100))
    reviewed_annotations: Mapped[dict[str, Any] | None]
    escalated_to_supervisor_at: Mapped[datetime | None]
    escalation_note: Mapped[str | None] = mapped_column(Text)
    ready_for_referral_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)
    files_matched_at: Mapped[datetime | None]  # when the report's files were last looked up in the banks

    __table_args__ = (
        Index("ix_reports_state_received_at", "state", "received_at"),
        Index("ix_reports_state_priority_rank", "state", "priority_rank"),
        # By arrival; with the priority beside it, the supervisor's received-per-day chart reads the
        # index alone (no visit to each report's row).
        Index("ix_reports_received_at_priority", "received_at", "priority"),
        # The few reports escalated to a supervisor, found without reading every report.
        Index("ix_reports_escalated", "escalated_to_supervisor_at",
              postgresql_where=text("escalated_to_supervisor_at IS NOT NULL"),
              sqlite_where=text("escalated_to_supervisor_at IS NOT NULL")),
    )


# The review queue in its order (level, then score, then longest waiting), for the reports in it (the
# states of tipline.domain.lifecycle.QUEUE_STATES): a page is read from the index in order, and the counts
# by state and level are an index-only scan (PostgreSQL keeps the state too).
_IN_QUEUE = ReportRow.state.in_(["awaiting_review", "in_review"])
Index(
    "ix_reports_queue", ReportRow.priority, ReportRow.priority_rank.desc(), ReportRow.received_at, ReportRow.id,
    postgresql_include=["state"], postgresql_where=_IN_QUEUE, sqlite_where=_IN_QUEUE,
)
# The same order by incident type (the one an analyst corrected it to, else the reported one): a type
# with few reports waiting is read directly, not looked for along the whole queue.
Index(
    "ix_reports_queue_type", func.coalesce(ReportRow.reviewed_incident_type, ReportRow.incident_type),
    ReportRow.priority, ReportRow.priority_rank.desc(), ReportRow.received_at, ReportRow.id,
    postgresql_include=["incident_type", "reviewed_incident_type"], postgresql_where=_IN_QUEUE, sqlite_where=_IN_QUEUE,
)
# The same order for the reports someone holds ("only reports I hold"): a few hundred rows, read directly;
# without it the planner walks the whole queue index looking for one person's reports.
_HELD = and_(_IN_QUEUE, ReportRow.assigned_to.is_not(None))
Index(
    "ix_reports_queue_held", ReportRow.assigned_to, ReportRow.priority, ReportRow.priority_rank.desc(),
    ReportRow.received_at, ReportRow.id, postgresql_where=_HELD, sqlite_where=_HELD,
)


class ReportFileRow(Base):
    """A file of a report: what tipline measured and the reporter's file details."""

    __tablename__ = "report_files"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str | None] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigId)
    media_type: Mapped[str | None] = mapped_column(String(200))
    md5: Mapped[str | None] = mapped_column(String(32), index=True)
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    blob_address: Mapped[str | None] = mapped_column(String(128))
    uploaded_at: Mapped[datetime]
    details: Mapped[dict[str, Any] | None]
    # What hashing found in the content (filled by the pipeline's hash_files stage).
    media_kind: Mapped[str | None] = mapped_column(String(20))
    declared_type: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pdq: Mapped[str | None] = mapped_column(String(64), index=True)
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    media_problems: Mapped[dict[str, Any] | None]  # {"errors": [...], "warnings": [...]}
    hashed_at: Mapped[datetime | None] = mapped_column(index=True)  # the index of reported media catches up by it
    # An analyst's classification (A1, A2, B1, B2 or "none": not apparent CSAM) and annotations.
    reviewed_classification: Mapped[str | None] = mapped_column(String(10))
    reviewed_annotations: Mapped[dict[str, Any] | None]
    # A file found inside one of the report's ZIP archives: the archive's file id and the path in it.
    parent_file_id: Mapped[str | None] = mapped_column(String(64), index=True)
    archive_path: Mapped[str | None] = mapped_column(String(1024))
    unpacked_at: Mapped[datetime | None]  # an archive: when its members were added to the report


class FileSignalRow(Base):
    """A perceptual signal of a file beyond its one image PDQ: each sampled video frame's PDQ."""

    __tablename__ = "file_signals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("report_files.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(BigId, index=True)
    signal_type: Mapped[str] = mapped_column(String(20))  # "vpdq_frame"
    value: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    frame_number: Mapped[int | None] = mapped_column(Integer)
    timestamp_ms: Mapped[int | None] = mapped_column(BigId)


class BlobRow(Base):
    """One encrypted blob in the file store and how many report files point at it. A blob whose
    count fell to zero is deleted by the collector after a grace period (so an upload that found
    it already stored, moments before, cannot lose it)."""

    __tablename__ = "blobs"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigId)
    refs: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    unreferenced_since: Mapped[datetime | None] = mapped_column(index=True)


class ConversationAnalysisRow(Base):
    """What enticement detection found in one conversation of a report (a chat-log file, or the text
    of a chat/IM or gaming incident). Replaced whole each time the stage runs."""

    __tablename__ = "conversation_analyses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # "file" or "internet_details"
    source_ref: Mapped[str] = mapped_column(String(100))  # a file id, or "internetDetails[2]"
    conversation_id: Mapped[str] = mapped_column(String(200))
    risk: Mapped[float | None]
    level: Mapped[str | None] = mapped_column(String(20), index=True)
    alert: Mapped[bool] = mapped_column(Boolean, default=False)
    suspected_author: Mapped[str | None] = mapped_column(String(200))
    first_alert_message: Mapped[str | None] = mapped_column(String(200))
    suggested_incident_type: Mapped[str | None] = mapped_column(String(100))
    suggested_annotations: Mapped[dict[str, Any]]  # {"annotations": [...]}
    result: Mapped[dict[str, Any]]  # the detector's full result (tactics with evidence, reasons, ...)
    error: Mapped[str | None] = mapped_column(Text)  # why the source could not be read as a conversation
    analysed_at: Mapped[datetime]


class TextFindingRow(Base):
    """What a report's free text says that bears on urgency (a threat, a deadline, a money demand, a
    meeting plan, a child's age), with the sentence quoted. Replaced whole each time the stage runs."""

    __tablename__ = "text_findings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))  # the field, e.g. "publicReport.description"
    kind: Mapped[str] = mapped_column(String(30))  # sextortion_threat, deadline, money_demand, child_age, ...
    quote: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(String(300))
    found_at: Mapped[datetime]


class ReportCodeRow(Base):
    """The keyed hash of the secret code a public reporter received with their report (the code itself
    is never stored), how often a wrong code was tried for the report, and how often it was added to."""

    __tablename__ = "report_codes"

    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    additions: Mapped[int] = mapped_column(Integer, default=0)


class HeldUploadRow(Base):
    """A file of a refused public-form submission, kept encrypted for a short time under the form's
    hold token (stored as a keyed hash) so that the reporter need not choose it again; it holds one
    reference to its blob until it is attached to the report or expires."""

    __tablename__ = "held_uploads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    blob_address: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str] = mapped_column(String(32))
    sha1: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    held_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FollowUpRow(Base):
    """A public reporter's request to be contacted after their report: the channel they chose, the
    detail to use and the times that are safe, in their words. Advocates work from these (never from
    the report's content); `due_at` is when someone should next act on it."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(10))  # phone, text, email
    contact: Mapped[str] = mapped_column(String(200))
    safe_times: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(10))
    situation: Mapped[str | None] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(10))  # open, closed
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_follow_ups_state_due_at", "state", "due_at"),)


class FollowUpActionRow(Base):
    """What an advocate did about a follow-up request: a contact made or tried, a referral to a
    support service, a note, or closing it; with who did it and when."""

    __tablename__ = "follow_up_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    follow_up_id: Mapped[int] = mapped_column(BigId, ForeignKey("follow_ups.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))  # contact, referral, note, closed, changed
    outcome: Mapped[str | None] = mapped_column(String(30))  # of a contact: reached, no_answer, ...
    service: Mapped[str | None] = mapped_column(String(200))  # the support service referred to, by name
    note: Mapped[str | None] = mapped_column(Text)
    actor_name: Mapped[str] = mapped_column(String(200))


class SupportResourceRow(Base):
    """One support service of the hotline's resource directory, by country and situation (imported
    from CSV as a whole, so the directory is always one file's content)."""

    __tablename__ = "support_resources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    country: Mapped[str] = mapped_column(String(2), index=True)  # two letters, or * for every country
    situations: Mapped[str] = mapped_column(String(200))  # space-separated; empty: every situation
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    hours: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime]


class BankRow(Base):
    """A hash bank: known material, an identified victim series, or known false positives to ignore."""

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # known_material, identified_series, ignore
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class BankEntryRow(Base):
    """One signal in a bank, with its provenance. Disabled entries are kept, and match nothing."""

    __tablename__ = "bank_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))
    source_id: Mapped[str | None] = mapped_column(String(200))
    classification: Mapped[str | None] = mapped_column(String(10))
    series: Mapped[str | None] = mapped_column(String(200), index=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime]


# "Is this hash already in this bank?" (imports skip what a bank holds): by its first 64 characters,
# which is the whole of an MD5, SHA-1, SHA-256 or PDQ value, and keeps long vPDQ values indexable.
Index("ix_bank_entries_value", BankEntryRow.bank_id, BankEntryRow.signal_type,
      func.substr(BankEntryRow.value, 1, 64))


class BankChangeRow(Base):
    """Every change to the banks, in order: each process applies the ones it has not seen yet, so a
    change made anywhere matches everywhere within a second, without rebuilding an index."""

    __tablename__ = "bank_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # add, enable, disable, bank
    entry_ids: Mapped[dict[str, Any]]  # {"ids": [...]}: the entries this change concerns
    at: Mapped[datetime]


class SeriesRow(Base):
    """A victim-identification image series: its status, who identified its victim, and when. Bank
    entries and matches name a series (or one of its aliases, see tipline.store.victim_tables)."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(30), default="unidentified", index=True)
    identified_by_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    identified_at: Mapped[datetime | None]
    case_reference: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))
    last_seen_at: Mapped[datetime | None] = mapped_column(index=True)  # when a report last matched it
    report_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    @property
    def identified(self) -> bool:
        return self.status == "identified"


class FileMatchRow(Base):
    """A report file that matched a bank entry (kept as it was found: provenance may change later)."""

    __tablename__ = "file_matches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("report_files.id", ondelete="CASCADE"), index=True)
    bank: Mapped[str] = mapped_column(String(100))
    bank_kind: Mapped[str] = mapped_column(String(30))
    entry_id: Mapped[int | None] = mapped_column(BigId, index=True)  # an entry's matches (flood quarantine)
    signal_type: Mapped[str] = mapped_column(String(20))
    distance: Mapped[int] = mapped_column(Integer)
    classification: Mapped[str | None] = mapped_column(String(10))
    series: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    source_id: Mapped[str | None] = mapped_column(String(200))
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed_by: Mapped[str | None] = mapped_column(String(200))
    matched_at: Mapped[datetime]

    # a series' sightings, newest reports first (the series page reads the newest hundred)
    __table_args__ = (Index("ix_file_matches_series_report_id", "series", "report_id"),)


class IdentifierRow(Base):
    """An identifier found in a report, normalised: (kind, value) is the key that links reports."""

    __tablename__ = "identifiers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(1024))
    raw: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    party_index: Mapped[int | None] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(400))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    seen_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_identifiers_kind_value_report", "kind", "value", "report_id"),)


class ReportLinkRow(Base):
    """Two reports that share something (stored in both directions, so a report's links are one lookup)."""

    __tablename__ = "report_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"))
    linked_report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(String(20))  # an identifier kind, or "manual"
    value: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    dismissed_at: Mapped[datetime | None]  # an analyst judged the link wrong; linking will not bring it back
    dismissed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("report_id", "linked_report_id", "basis", "value"),
        Index("ix_report_links_report_id", "report_id"),
    )


class ReportNote(Base):
    """An analyst's note on a report."""

    __tablename__ = "report_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditEventRow(Base):
    """One event of the hash-chained audit trail. Never deleted; updated once, by the sealer.

    An event is written with its number (`seq`, from the database as the row is inserted, with no
    lock) and its content seal (`mac`). The sealer then chains committed events in order: it gives
    each its position (`chain_seq`, 1, 2, 3... without gaps), the seal of the event before it
    (`prev_hash`) and its own chain seal (`hash`). Events written before migration 0016 have no
    `mac`; their `hash` seals their content and place at once, and their `chain_seq` is `seq`."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_chain_seq", "chain_seq", unique=True),
        Index("ix_audit_events_unsealed", "seq", postgresql_where=text("chain_seq IS NULL"),
              sqlite_where=text("chain_seq IS NULL")),
        # one kind of event over a period (reveals per analyst, weight changes) without reading the others
        Index("ix_audit_events_action_at", "action", "at"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(BigId, index=True)  # no foreign key: purges keep history
    details: Mapped[dict[str, Any]]
    mac: Mapped[str | None] = mapped_column(String(64))
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sealed event (its `chain_seq` and hash), moved on by the sealer, and the
    audit key's seal over both (`seal`), so the head cannot be set to a value of one's choosing."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(64))


class PipelineJob(Base):
    """A durable unit of pipeline work: one stage for one report. Rows survive crashes and restarts."""

    __tablename__ = "pipeline_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, index=True)
    stage: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_pipeline_jobs_status_run_after", "status", "run_after"),)


class LoginFailureRow(Base):
    """A failed sign-in, by the name tried and by the address it came from (one row each), kept for
    the throttle's window: every server process counts the same failures."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class InstanceSetting(Base):
    """Small facts about this instance (for example, that it holds the demo dataset)."""

    __tablename__ = "instance_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]]
