"""Referring a report: the package built, signed, encrypted to the agency and stored; the report moved
to `referred` in the same transaction as the referral row; every step audited. Then what the agency
does: opening, downloading, reporting outcomes; reminders for referrals nobody opened; trends.

Length (about 600 lines): the seam is real, between referring (`refer` and the package's build,
`discard_abandoned_referrals`) and the agency's side (listing, opening, downloading, outcomes,
reminders, counts, from `referral_of_report` on). It is not cut yet because the agency portal and
referral pages that import the second half were being changed by others at the same time; moving it is
a change of imports only."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline.config import int_setting
from tipline.cybertipline.export import export_report
from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.errors import TiplineError
from tipline.domain.lifecycle import ReportState, check_transition
from tipline.domain.roles import Permission, has_permission
from tipline.jurisdiction.directory import public_key_bytes
from tipline.referral.contents import gather_facts, report_json, report_matches, summary_document
from tipline.referral.keys import fingerprint, raw_public, signing_key
from tipline.referral.locating import ChoiceRefused, choose_agency
from tipline.referral.outcomes import MAX_NOTE, MAX_REASON, Outcome
from tipline.referral.package import BuiltPackage, PackageItem, safe_member_name, write_package
from tipline.referral.summary_pdf import render_summary
from tipline.store.referrals import AgencyRow, ReferralOutcomeRow, ReferralRow, agency_by_code
from tipline.store.reports import StaleReport
from tipline.store.tables import AuditEventRow, ReportFileRow, ReportRow

if TYPE_CHECKING:
    from tipline.config import Settings
    from tipline.instance import Instance
    from tipline.store.accounts import Principal

REMINDER_SETTING = "TIPLINE_REFERRAL_REMINDER_HOURS"
DEFAULT_REMINDER_HOURS = 72
PACKAGES_DIR = "referral-packages"
PACKAGE_SUFFIX = ".tlref"
MAINTENANCE_ACTOR = Actor.system("maintenance")
log = logging.getLogger("tipline.referral")


class ReferralRefused(ValueError):
    """A referral that cannot be made now, with the reason and what to do."""


class ReferralNotFound(LookupError):
    """No such referral, or none the asker may see (indistinguishable on purpose)."""

    def __init__(self, referral_id: int | str) -> None:
        super().__init__(f"referral {referral_id} does not exist")
        self.referral_id = referral_id


class OutcomeRefused(TiplineError, ValueError):
    """An outcome that cannot be recorded as given (a missing reason, an unknown outcome)."""

    status, code, title = 400, "invalid_outcome", "Outcome not recorded"


def reminder_hours(settings: Settings) -> int:
    return int_setting(settings.extra, REMINDER_SETTING, DEFAULT_REMINDER_HOURS, minimum=1)


def packages_dir(settings: Settings) -> Path:
    """Where packages are kept (ciphertext only): beside the encrypted file store's blobs."""
    path = settings.file_store_dir / PACKAGES_DIR
    if not path.exists():
        settings.file_store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
    return path


def package_path(settings: Settings, referral: ReferralRow) -> Path:
    return packages_dir(settings) / referral.package_name


# --- custody ---------------------------------------------------------------------------------------


def _event(row: AuditEventRow) -> dict[str, Any]:
    details = row.details or {}
    event = {"at": row.at.isoformat(), "actor": row.actor_name, "actor_type": row.actor_type, "action": row.action,
             "audit_seq": row.seq, "audit_hash": row.mac or row.hash}  # its content seal (older events: chain seal)
    if details.get("purpose"):
        event["purpose"] = details["purpose"]
    return event


def custody_log(session: Session, report_id: int, file_ids: list[str]) -> dict[str, Any]:
    """Who touched the report and each file when, from the audit trail (with each event's number
    and content seal, written with the event, so the hotline's `tipline audit verify` can vouch for
    them, even for the events of the transaction that builds the package)."""
    events = session.execute(
        select(AuditEventRow).where(AuditEventRow.report_id == report_id).order_by(AuditEventRow.seq)
    ).scalars()
    report_events: list[dict[str, Any]] = []
    files: dict[str, list[dict[str, Any]]] = {file_id: [] for file_id in file_ids}
    for row in events:
        details = row.details or {}
        touched = [details["file_id"]] if isinstance(details.get("file_id"), str) else []
        touched += [f for f in details.get("file_ids", []) if isinstance(f, str)]
        if touched:
            for file_id in touched:
                if file_id in files:
                    files[file_id].append(_event(row))
        else:
            report_events.append(_event(row))
    return {"report": report_events, "files": files}


# --- referring ---------------------------------------------------------------------------------------


@dataclass
class ReferralResult:
    referral: ReferralRow
    agency: AgencyRow
    path: Path


PART_SUFFIX = ".part"
ABANDONED_AFTER = timedelta(hours=1)
"""A referral still being built after this long was abandoned (its process died): maintenance removes
its reservation and its files (`discard_abandoned_referrals`). Building one takes seconds to minutes."""


@dataclass
class _Build:
    """A referral reserved in the first transaction, with everything its package needs in memory."""

    referral_id: int
    report_id: int
    report_version: int
    agency_code: str
    agency_name: str
    package_name: str
    recipient: bytes
    items: list[PackageItem]
    manifest_base: dict[str, Any]
    evidence_files: int


def refer(instance: Instance, report_id: int, principal: Principal, agency_code: str, *, note: str | None = None,
          reason: str | None = None, expected_version: int | None = None) -> ReferralResult:
    """Refer a report, holding no database lock while the package is drawn, encrypted and written.

    1. A short transaction checks everything, records the agency choice, audits the reads that make the
       package and reserves the referral: a row still being built (`built_at` empty), seen by no list,
       page or count, which also stops a second referral of the report meanwhile.
    2. Outside any transaction: the PDF is drawn and the package written to `<name>.part`, synced and
       renamed to its name.
    3. A second short transaction completes the row, moves the report to `referred` (still as the form
       saw it, or refused as stale) and appends `referral.created`.

    On a failure the reservation and the file are removed at once (`referral.abandoned`); if the
    process dies instead, `discard_abandoned_referrals` (a maintenance task) removes them later. A
    referral row that is built always names a package that exists."""
    with instance.db.transaction() as session:
        build = _reserve(instance, session, report_id, principal, agency_code, note=note, reason=reason,
                         expected_version=expected_version)
    target = packages_dir(instance.settings) / build.package_name
    temporary = target.with_name(target.name + PART_SUFFIX)
    try:
        built = _write_package_file(temporary, build, signing_key(instance.settings.key_dir))
        os.replace(temporary, target)
        with instance.db.transaction() as session:
            referral, agency = _complete(instance, session, build, built, principal)
    except BaseException as error:
        _abandon(instance, build.referral_id, principal.actor, f"{type(error).__name__}: {error}"[:500])
        raise
    return ReferralResult(referral, agency, target)


def _reserve(instance: Instance, session: Session, report_id: int, principal: Principal, agency_code: str, *,
             note: str | None, reason: str | None, expected_version: int | None) -> _Build:
    """Step 1 of `refer`: the checks, the choice, the audited reads and the reserved row."""
    if not has_permission(principal.role, Permission.REPORT_REVIEW):
        raise ReferralRefused("only analysts and supervisors refer reports")
    row = instance.reports.row(session, report_id, for_update=True)
    if expected_version is not None and row.version != expected_version:
        raise StaleReport(report_id, expected_version, row.version)
    existing = session.execute(select(ReferralRow).where(ReferralRow.report_id == report_id)).scalar_one_or_none()
    if existing is not None and existing.built_at is None:
        raise ReferralRefused(f"report {report_id} is being referred by {existing.created_by} (since "
                              f"{existing.created_at:%Y-%m-%d %H:%M} UTC); try again in a minute")
    if existing is not None:
        raise ReferralRefused(f"report {report_id} was already referred (referral {existing.id})")
    check_transition(ReportState(row.state), ReportState.REFERRED)
    holder = getattr(row, "assigned_to", None)
    if holder is not None and holder != principal.user_id and not has_permission(principal.role,
                                                                                   Permission.REPORT_SUPERVISE):
        raise ReferralRefused(f"report {report_id} is held by someone else; only they or a supervisor can refer it")
    agency = agency_by_code(session, agency_code)
    if agency is None:
        raise ReferralRefused(f"no agency with the code {agency_code!r} is in the directory")
    if not agency.public_key:
        raise ReferralRefused(f"{agency.name} has no package key registered: add its public_key to the directory "
                              "(`tipline agencies import`) before referring to it")
    recipient = public_key_bytes(agency.public_key)
    note = (note or "").strip()[:MAX_NOTE] or None
    try:
        jurisdiction = choose_agency(instance, session, report_id, agency, principal, reason)
    except ChoiceRefused as error:
        raise ReferralRefused(str(error)) from None

    signer = signing_key(instance.settings.key_dir)
    now = utc_now()
    referral = ReferralRow(report_id=report_id, agency_id=agency.id, created_at=now, created_by=principal.actor.name,
                           created_by_user_id=principal.user_id, note=note, package_name="", package_size=0,
                           package_sha256="", manifest_sha256="", recipient_key_id=fingerprint(recipient),
                           signing_key_id=fingerprint(raw_public(signer.public_key())), download_count=0,
                           built_at=None)
    session.add(referral)
    session.flush()
    referral.package_name = f"referral-{referral.id}-report-{report_id}{PACKAGE_SUFFIX}"

    report = instance.reports.read(session, report_id, principal, purpose="referral package")
    facts = gather_facts(session, report, row, jurisdiction.resolution)
    referral_facts = {"id": referral.id, "report_id": report_id, "created_at": now.isoformat(),
                      "created_by": principal.actor.name, "note": note}
    exported = export_report(instance, session, report_id, principal.actor, with_file_details=True)
    file_rows = list(session.execute(
        select(ReportFileRow).where(ReportFileRow.report_id == report_id).order_by(ReportFileRow.position)
    ).scalars())
    evidence = [(f, f.blob_address) for f in file_rows if f.blob_address]
    evidence_meta: list[dict[str, Any]] = []
    for f, _ in evidence:
        name = safe_member_name(f.file_name, f"file-{f.id}")
        evidence_meta.append({"path": f"evidence/{f.position + 1:03d}-{f.id}/{name}", "file_id": f.id,
                              "original_name": f.file_name, "media_type": f.media_type, "size": f.size,
                              "sha256": f.sha256, "md5": f.md5, "sha1": f.sha1})
        # the read is audited (and the blob checked) now, so the custody log below includes it; the
        # content is read again from the store while the package is written, outside the transaction
        instance.files.open_for(session, f.id, principal, "referral package").close()

    blobs = instance.files.blobs

    def opener(address: str) -> Callable[[], Any]:
        return lambda: blobs.open(address)

    summary = summary_document(facts, referral_facts, agency.name, evidence_meta)
    items = [
        PackageItem("report.json", "report_json", _json_bytes(report_json(facts, referral_facts)),
                    {"media_type": "application/json"}),
        PackageItem("report.xml", "report_xml", exported.report_xml,
                    {"media_type": "application/xml", "schema": "CyberTipline report"}),
        *[PackageItem(f"file-details/{file_id}.xml", "file_details_xml", document,
                      {"media_type": "application/xml", "file_id": file_id})
          for file_id, document in exported.file_details_xml.items()],
        PackageItem("summary.pdf", "summary_pdf", lambda: io.BytesIO(render_summary(summary)),
                    {"media_type": "application/pdf"}),
        *[PackageItem(meta["path"], "evidence", opener(address),
                      {k: meta[k] for k in ("file_id", "original_name", "media_type", "md5", "sha1")},
                      expected_sha256=f.sha256)
          for (f, address), meta in zip(evidence, evidence_meta, strict=True)],
    ]
    manifest_base = {
        "referral": referral_facts,
        "hotline": {"name": instance.settings.extra.get("TIPLINE_HOTLINE_NAME", "tipline")},
        "agency": {"code": agency.code, "name": agency.name, "recipient_key_id": fingerprint(recipient)},
        "custody": custody_log(session, report_id, [f.id for f, _ in evidence]),
    }
    session.flush()
    return _Build(referral.id, report_id, row.version, agency.code, agency.name, referral.package_name, recipient,
                  items, manifest_base, len(evidence))


def _write_package_file(temporary: Path, build: _Build, signer: Any) -> BuiltPackage:
    """Step 2 of `refer`, outside any transaction: the package drawn, encrypted and synced to disk."""
    temporary.unlink(missing_ok=True)  # left by an abandoned build whose id SQLite gave out again
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        built = write_package(handle, build.items, build.manifest_base, build.recipient, signer)
        handle.flush()
        os.fsync(handle.fileno())
    return built


def _complete(instance: Instance, session: Session, build: _Build, built: BuiltPackage,
              principal: Principal) -> tuple[ReferralRow, AgencyRow]:
    """Step 3 of `refer`: the reserved row completed, the report referred, `referral.created`."""
    row = instance.reports.row(session, build.report_id, for_update=True)
    if row.version != build.report_version:
        raise StaleReport(build.report_id, build.report_version, row.version)
    referral = session.get(ReferralRow, build.referral_id)
    agency = agency_by_code(session, build.agency_code)
    if referral is None or referral.built_at is not None or agency is None:
        raise ReferralRefused(f"the referral of report {build.report_id} was abandoned while its package was built")
    if not agency.public_key or public_key_bytes(agency.public_key) != build.recipient:
        raise ReferralRefused(f"{agency.name}'s key changed while the package was built; refer the report again")
    referral.package_size, referral.package_sha256 = built.package_size, built.package_sha256
    referral.manifest_sha256 = built.manifest_sha256
    referral.built_at = utc_now()
    instance.reports.transition(session, build.report_id, ReportState.REFERRED, principal.actor,
                                reason=f"referred to {agency.name} (referral {referral.id})")
    instance.audit.append(session, principal.actor, "referral.created", report_id=build.report_id, details={
        "referral_id": referral.id, "agency": agency.code, "agency_name": agency.name,
        "items": len(built.manifest["items"]), "evidence_files": build.evidence_files,
        "package_sha256": built.package_sha256, "manifest_sha256": built.manifest_sha256,
        "recipient_key_id": referral.recipient_key_id, "signing_key_id": referral.signing_key_id,
    })
    session.flush()
    return referral, agency


def _abandon(instance: Instance, referral_id: int, actor: Actor, why: str) -> bool:
    """Remove a referral reservation that will not be completed, and its files; True if it was removed.
    A referral that was completed (its commit went through after all) is left alone. Never raises: a
    reservation left behind is removed by `discard_abandoned_referrals`."""
    try:
        with instance.db.transaction() as session:
            referral = session.get(ReferralRow, referral_id)
            if referral is not None and referral.built_at is not None:
                return False
            if referral is not None:
                _discard(instance, session, referral, actor, why)
    except Exception:  # noqa: BLE001 - the caller raises the original error; maintenance retries
        log.exception("referral %s could not be discarded now; maintenance will", referral_id)
        return False
    return True


def _discard(instance: Instance, session: Session, referral: ReferralRow, actor: Actor, why: str) -> None:
    target = packages_dir(instance.settings) / referral.package_name if referral.package_name else None
    agency = session.get(AgencyRow, referral.agency_id)
    instance.audit.append(session, actor, "referral.abandoned", report_id=referral.report_id,
                          details={"referral_id": referral.id, "agency": agency.code if agency else None,
                                   "started_by": referral.created_by, "why": why})
    session.delete(referral)
    session.flush()
    if target is not None:  # before the commit: a file without a row is removed by maintenance anyway
        target.with_name(target.name + PART_SUFFIX).unlink(missing_ok=True)
        target.unlink(missing_ok=True)


def discard_abandoned_referrals(instance: Instance, older_than: timedelta = ABANDONED_AFTER,
                                now: datetime | None = None) -> int:
    """Maintenance after a crash while a referral was built: reservations older than `older_than`
    are removed (`referral.abandoned`), and so is every file in the package store that no completed
    referral names and that is older than that. Returns how many reservations and files were removed."""
    now = now or utc_now()
    cutoff = now - older_than
    removed = 0
    with instance.db.transaction() as session:
        for referral in session.execute(select(ReferralRow).where(ReferralRow.built_at.is_(None),
                                                                  ReferralRow.created_at < cutoff)).scalars():
            _discard(instance, session, referral, MAINTENANCE_ACTOR, f"still being built after {older_than}")
            removed += 1
    directory = packages_dir(instance.settings)
    with instance.db.read_session() as session:
        kept = set(session.execute(select(ReferralRow.package_name).where(ReferralRow.built_at.is_not(None)))
                   .scalars())
    for path in directory.iterdir():
        if path.name in kept or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff.timestamp():
                log.warning("removing %s: no referral names it (a build that did not finish)", path.name)
                path.unlink()
                removed += 1
    return removed


def _json_bytes(data: dict[str, Any]) -> bytes:
    import json

    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


# --- the agency's side -------------------------------------------------------------------------------


BUILT = ReferralRow.built_at.is_not(None)
"""Referrals whose package exists: the only ones any page, list, count or the agency sees."""


def referral_of_report(session: Session, report_id: int) -> ReferralRow | None:
    return session.execute(select(ReferralRow).where(ReferralRow.report_id == report_id, BUILT)).scalar_one_or_none()


REFERRALS_PAGE = 100  # referrals listed per page, newest first


def referrals_for_agency(session: Session, agency: AgencyRow | None, *, before: int | None = None,
                         limit: int | None = None, where: Sequence[Any] = ()) -> list[tuple[ReferralRow, Any]]:
    """One page of the referrals made to one agency, newest first, each with its report's incident
    type and priority (`before`: only referrals with a smaller id, the next page); none for a user
    without an agency."""
    if agency is None:
        return []
    return referral_page(session, before=before, limit=limit, agency_id=agency.id, where=where)


def referral_page(session: Session, *, before: int | None = None, limit: int | None = None,
                  agency_id: int | None = None, where: Sequence[Any] = ()) -> list[tuple[ReferralRow, Any]]:
    """Referrals newest first (optionally one agency's; REFERRALS_PAGE of them unless `limit`), with
    only the report's incident type and priority read alongside (not its content)."""
    limit = limit or REFERRALS_PAGE
    statement = (select(ReferralRow, ReportRow.incident_type, ReportRow.priority)
                 .join(ReportRow, ReportRow.id == ReferralRow.report_id).where(BUILT))
    if agency_id is not None:
        statement = statement.where(ReferralRow.agency_id == agency_id)
    if before is not None:
        statement = statement.where(ReferralRow.id < before)
    if where:
        statement = statement.where(*where)  # referral.filters.clauses: over referrals and their reports
    rows = session.execute(statement.order_by(ReferralRow.id.desc()).limit(limit)).all()
    return [(row.ReferralRow, row) for row in rows]


def count_referrals(session: Session, agency_id: int | None = None, where: Sequence[Any] = ()) -> int:
    statement = select(func.count()).select_from(ReferralRow).where(BUILT)
    if agency_id is not None:
        statement = statement.where(ReferralRow.agency_id == agency_id)
    if where:
        statement = statement.join(ReportRow, ReportRow.id == ReferralRow.report_id).where(*where)
    return session.execute(statement).scalar_one()


def latest_outcomes(session: Session, referral_ids: list[int]) -> dict[int, ReferralOutcomeRow]:
    """The latest outcome of each of these referrals (one query for a page of them)."""
    latest: dict[int, ReferralOutcomeRow] = {}
    if not referral_ids:
        return latest
    for row in session.execute(
        select(ReferralOutcomeRow).where(ReferralOutcomeRow.referral_id.in_(referral_ids))
        .order_by(ReferralOutcomeRow.recorded_at, ReferralOutcomeRow.id)
    ).scalars():
        latest[row.referral_id] = row
    return latest


def referral_for_agency(session: Session, referral_id: int, agency: AgencyRow | None) -> ReferralRow:
    """The referral if it was made to this agency; ReferralNotFound otherwise, exactly as for one
    that does not exist."""
    referral = session.get(ReferralRow, referral_id)
    if referral is None or agency is None or referral.agency_id != agency.id or referral.built_at is None:
        raise ReferralNotFound(referral_id)
    return referral


def mark_opened(instance: Instance, session: Session, referral: ReferralRow, principal: Principal, how: str) -> bool:
    """The first time someone of the agency opens a referral (page or package); True if this was it."""
    if referral.opened_at is not None:
        return False
    referral.opened_at, referral.opened_by = utc_now(), principal.actor.name
    instance.audit.append(session, principal.actor, "referral.opened", report_id=referral.report_id,
                          details={"referral_id": referral.id, "how": how})
    return True


def record_download(instance: Instance, session: Session, referral: ReferralRow, principal: Principal) -> Path:
    """Audit a package download (every one) and return the file to send."""
    path = package_path(instance.settings, referral)
    if not path.is_file():
        raise ReferralRefused(f"the package of referral {referral.id} is missing from {path.parent}: "
                              "restore it from backup")
    mark_opened(instance, session, referral, principal, "package download")
    referral.download_count += 1
    referral.last_downloaded_at = utc_now()
    instance.audit.append(session, principal.actor, "referral.package_downloaded", report_id=referral.report_id,
                          details={"referral_id": referral.id, "package_sha256": referral.package_sha256,
                                   "download": referral.download_count})
    return path


def record_outcome(instance: Instance, session: Session, referral: ReferralRow, principal: Principal, outcome: str,
                   *, reason: str | None = None, referred_to: str | None = None,
                   note: str | None = None, recorded_at: datetime | None = None, recorded_by: str | None = None,
                   how: str | None = None) -> ReferralOutcomeRow:
    """An outcome the agency reports; it appears on the report's timeline (an audit event). A partner
    hotline's outcome file gives when and by whom it was recorded there (`recorded_at`, `recorded_by`)
    and `how` it came."""
    try:
        kind = Outcome(outcome)
    except ValueError:
        raise OutcomeRefused(f"{outcome!r} is not an outcome; use one of "
                             f"{', '.join(o.value for o in Outcome)}").at_field("outcome") from None
    reason = (reason or "").strip()[:MAX_REASON] or None
    referred_to = (referred_to or "").strip()[:200] or None
    note = (note or "").strip()[:MAX_NOTE] or None
    if kind == Outcome.NO_ACTION_POSSIBLE and not reason:
        raise OutcomeRefused("say why no action is possible").at_field("reason")
    if kind == Outcome.REFERRED_ON and not referred_to:
        raise OutcomeRefused("name the agency the referral was passed on to").at_field("referred_to")
    mark_opened(instance, session, referral, principal, "outcome reported")
    row = ReferralOutcomeRow(referral_id=referral.id, report_id=referral.report_id, outcome=kind.value,
                             reason=reason,
                             referred_to=referred_to if kind == Outcome.REFERRED_ON else None, note=note,
                             recorded_at=recorded_at or utc_now(),
                             recorded_by=(recorded_by or principal.actor.name)[:200],
                             recorded_by_user_id=principal.user_id)
    session.add(row)
    session.flush()
    agency = session.get(AgencyRow, referral.agency_id)
    details: dict[str, Any] = {"referral_id": referral.id, "outcome": kind.value,
                               "agency": agency.code if agency else None,
                               "agency_name": agency.name if agency else None}
    if reason:
        details["reason"] = reason[:500]
    if row.referred_to:
        details["referred_to"] = row.referred_to
    if how:
        details["how"] = how
    instance.audit.append(session, principal.actor, "referral.outcome_reported", report_id=referral.report_id,
                          details=details)
    if kind == Outcome.CHILD_IDENTIFIED:
        offer_child_identified_to_series(instance, session, referral, principal.actor)
    return row


def outcomes_of(session: Session, referral_id: int) -> list[ReferralOutcomeRow]:
    return list(session.execute(
        select(ReferralOutcomeRow).where(ReferralOutcomeRow.referral_id == referral_id)
        .order_by(ReferralOutcomeRow.recorded_at, ReferralOutcomeRow.id)
    ).scalars())


def offer_child_identified_to_series(instance: Instance, session: Session, referral: ReferralRow,
                                     actor: Actor) -> list[dict[str, Any]]:
    """A "child identified" outcome on a report whose files matched a victim-identification series is
    offered to each such series for confirmation (an audit event the series registry can act on).
    The matches are the report's bank matches that no known false positive silenced."""
    series = sorted({(m.series, m.bank, m.identified) for m in report_matches(session, referral.report_id)
                     if m.series}, key=lambda s: (s[0] or "", s[1]))
    offered = [{"series": name, "bank": bank, "series_identified": identified} for name, bank, identified in series]
    if offered:
        from tipline.victims.sightings import open_confirmations

        instance.audit.append(session, actor, "victims.identification_offered", report_id=referral.report_id,
                              details={"referral_id": referral.id, "series": offered})
        open_confirmations(instance, session, referral, [name for name, _bank, _identified in series if name], actor)
    return offered


# --- supervision -------------------------------------------------------------------------------------


@dataclass
class OverdueReferral:
    referral: ReferralRow
    agency: AgencyRow
    waiting: timedelta

    @property
    def hours(self) -> int:
        return int(self.waiting.total_seconds() // 3600)


def overdue_referrals(session: Session, now: datetime | None = None, hours: int = DEFAULT_REMINDER_HOURS,
                      limit: int = 200) -> list[OverdueReferral]:
    """Referrals their agency has not opened within `hours` (TIPLINE_REFERRAL_REMINDER_HOURS), oldest first."""
    now = now or utc_now()
    cutoff = now - timedelta(hours=hours)
    rows = session.execute(
        select(ReferralRow, AgencyRow).join(AgencyRow, AgencyRow.id == ReferralRow.agency_id)
        .where(ReferralRow.opened_at.is_(None), ReferralRow.created_at <= cutoff, BUILT)
        .order_by(ReferralRow.created_at, ReferralRow.id).limit(limit)
    ).all()
    return [OverdueReferral(referral, agency, now - referral.created_at) for referral, agency in rows]


def count_overdue_referrals(session: Session, now: datetime | None = None,
                            hours: int = DEFAULT_REMINDER_HOURS) -> int:
    """How many referrals their agency has not opened within `hours`."""
    cutoff = (now or utc_now()) - timedelta(hours=hours)
    return session.execute(select(func.count()).select_from(ReferralRow).where(
        ReferralRow.opened_at.is_(None), ReferralRow.created_at <= cutoff, BUILT)).scalar_one()


def outcome_counts(session: Session, *, since: datetime | None = None, until: datetime | None = None,
                   agency_code: str | None = None) -> dict[str, int]:
    """How many of each outcome agencies reported (between `since` and `until`, for one agency or all)."""
    statement = select(ReferralOutcomeRow.outcome, func.count()).group_by(ReferralOutcomeRow.outcome)
    if since is not None:
        statement = statement.where(ReferralOutcomeRow.recorded_at >= since)
    if until is not None:
        statement = statement.where(ReferralOutcomeRow.recorded_at < until)
    if agency_code is not None:
        statement = statement.join(ReferralRow, ReferralRow.id == ReferralOutcomeRow.referral_id).join(
            AgencyRow, AgencyRow.id == ReferralRow.agency_id).where(AgencyRow.code == agency_code)
    counts = {o.value: 0 for o in Outcome}
    for outcome, count in session.execute(statement):
        counts[outcome] = count
    return counts


def outcome_trend(session: Session, *, since: datetime | None = None,
                  until: datetime | None = None) -> list[dict[str, Any]]:
    """Outcomes per calendar month (UTC): [{"month": "2026-10", "outcome": "arrest", "count": 2}, ...]."""
    statement = select(ReferralOutcomeRow.outcome, ReferralOutcomeRow.recorded_at)
    if since is not None:
        statement = statement.where(ReferralOutcomeRow.recorded_at >= since)
    if until is not None:
        statement = statement.where(ReferralOutcomeRow.recorded_at < until)
    buckets: dict[tuple[str, str], int] = {}
    for outcome, at in session.execute(statement):
        key = (at.strftime("%Y-%m"), outcome)
        buckets[key] = buckets.get(key, 0) + 1
    return [{"month": month, "outcome": outcome, "count": count}
            for (month, outcome), count in sorted(buckets.items())]
