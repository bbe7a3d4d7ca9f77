"""Outcomes back to the partner hotline that referred a report to us, as a signed outcome file.

At the receiving hotline (`tipline referral outcome-export REPORT_ID -o FILE`): the outcomes of an
imported report are what happened to it here, from what already exists: "received" when it was
imported, "referred on" when an analyst referred it to an agency, every outcome that agency reported
in its portal, and "no action possible" when it was closed without a referral. Each has a stable id,
so a later file repeats the earlier outcomes and the sender adds each once. The file is signed with
this hotline's referral signing key and numbered (1, 2, ...) per imported report.

At the sending hotline (`tipline referral outcome-import FILE`): the file is verified with the
signing key of the partner the referral was made to, a file already imported or older than one
imported is refused as a replay, and each new outcome is recorded on the referral exactly as an
agency's outcome from the portal (`referral_outcomes`, `referral.outcome_reported`, the timeline).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.lifecycle import ReportState
from tipline.domain.roles import Role
from tipline.referral.keys import b64, fingerprint, raw_public, signing_key
from tipline.referral.outcomes import Outcome
from tipline.referral.partners import UnknownPartner, signing_public_key
from tipline.referral.service import OutcomeRefused, outcomes_of, record_outcome, referral_of_report
from tipline.store.accounts import Principal
from tipline.store.partners import ImportedReferralRow, PartnerOutcomeFileRow
from tipline.store.referrals import AgencyRow, ReferralRow
from tipline.store.tables import AuditEventRow, ReportRow

if TYPE_CHECKING:
    from tipline.instance import Instance

FORMAT = "tipline-partner-outcomes"
VERSION = 1
MAX_FILE_BYTES = 1024 * 1024
CLOSED = {ReportState.INFORMATIONAL.value: "closed by the hotline: kept for information, nothing to act on",
          ReportState.CLOSED_NO_ACTION.value: "closed by the hotline: nothing to act on"}


class OutcomeFileRefused(ValueError):
    """An outcome file not written or not imported, with the reason; nothing was changed."""

    def __init__(self, message: str, kind: str = "refused") -> None:
        super().__init__(message)
        self.kind = kind  # not_imported, unreadable, unknown_sender, forged, replay, invalid


# --- at the receiving hotline --------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.isoformat()


def outcomes_here(session: Session, imported: ImportedReferralRow) -> list[dict[str, Any]]:
    """What happened to an imported report here, oldest first, each with a stable id."""
    found: list[dict[str, Any]] = [{"id": "received", "outcome": Outcome.RECEIVED.value,
                                    "at": _iso(imported.imported_at)}]
    referral = referral_of_report(session, imported.report_id)
    if referral is not None:
        agency = session.get(AgencyRow, referral.agency_id)
        found.append({"id": f"referral-{referral.id}", "outcome": Outcome.REFERRED_ON.value,
                      "at": _iso(referral.created_at), "referred_to": agency.name if agency else "an agency"})
        for row in outcomes_of(session, referral.id):
            entry = {"id": f"outcome-{row.id}", "outcome": row.outcome, "at": _iso(row.recorded_at),
                     "by": agency.name if agency else None}
            if row.reason:
                entry["reason"] = row.reason
            if row.referred_to:
                entry["referred_to"] = row.referred_to
            found.append(entry)
        return found
    report = session.get(ReportRow, imported.report_id)
    if report is not None and report.state in CLOSED:
        closed = session.execute(select(func.max(AuditEventRow.at)).where(
            AuditEventRow.report_id == imported.report_id, AuditEventRow.action == "report.state_changed")
        ).scalar_one()
        found.append({"id": f"closed-{report.state}", "outcome": Outcome.NO_ACTION_POSSIBLE.value,
                      "at": _iso(closed or report.updated_at), "reason": CLOSED[report.state]})
    return found


@dataclass
class WrittenOutcomes:
    data: bytes
    sequence: int
    outcomes: list[dict[str, Any]]
    partner_name: str
    sender_referral_id: int


def export_outcomes(instance: Instance, report_id: int, actor: Actor) -> WrittenOutcomes:
    """A signed outcome file for a report imported from a partner hotline (audited as
    `referral.outcomes_exported`); OutcomeFileRefused if the report was not imported."""
    key = signing_key(instance.settings.key_dir)
    public = raw_public(key.public_key())
    with instance.db.transaction() as session:
        imported = session.execute(select(ImportedReferralRow).where(
            ImportedReferralRow.report_id == report_id).with_for_update()).scalar_one_or_none()
        if imported is None:
            raise OutcomeFileRefused(f"report {report_id} did not come from a partner hotline (it was not imported "
                                     "with `tipline referral import`): there is no one to send outcomes back to",
                                     "not_imported")
        partner = session.get(AgencyRow, imported.partner_id)
        assert partner is not None
        outcomes = outcomes_here(session, imported)
        imported.outcome_files += 1
        document = {
            "format": FORMAT, "version": VERSION, "file_id": uuid.uuid4().hex, "sequence": imported.outcome_files,
            "written_at": _iso(utc_now()),
            "from": {"name": instance.settings.extra.get("TIPLINE_HOTLINE_NAME", "tipline"),
                     "signing_key_id": fingerprint(public), "report_id": report_id},
            "to": {"code": partner.code, "name": partner.name},
            "referral": {"id": imported.sender_referral_id, "report_id": imported.sender_report_id},
            "outcomes": outcomes,
        }
        text = json.dumps(document, sort_keys=True, ensure_ascii=False)
        signed = {"document": text, "signature": b64(key.sign(text.encode("utf-8"))),
                  "signing_key_id": fingerprint(public)}
        data = (json.dumps(signed, indent=1) + "\n").encode("utf-8")
        instance.audit.append(session, actor, "referral.outcomes_exported", report_id=report_id, details={
            "agency": partner.code, "agency_name": partner.name, "sender_referral_id": imported.sender_referral_id,
            "sequence": imported.outcome_files, "outcomes": len(outcomes), "file_id": document["file_id"],
            "file_sha256": hashlib.sha256(data).hexdigest()})
        return WrittenOutcomes(data, imported.outcome_files, outcomes, partner.name, imported.sender_referral_id)


# --- at the sending hotline ----------------------------------------------------------------------


@dataclass
class ImportedOutcomes:
    referral_id: int
    report_id: int
    partner_name: str
    sequence: int
    added: list[str]
    already_known: int


def _read(data: bytes) -> tuple[str, bytes, dict[str, Any]]:
    if len(data) > MAX_FILE_BYTES:
        raise OutcomeFileRefused("the file is larger than 1 MiB: not an outcome file", "invalid")
    try:
        signed = json.loads(data)
        text, signature = signed["document"], base64.b64decode(signed["signature"], validate=True)
        document = json.loads(text)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise OutcomeFileRefused("not a tipline outcome file (it is not the signed JSON `tipline referral "
                                 "outcome-export` writes)", "invalid") from None
    if not isinstance(text, str) or not isinstance(document, dict) or document.get("format") != FORMAT:
        raise OutcomeFileRefused("not a tipline outcome file", "invalid")
    if document.get("version") != VERSION:
        raise OutcomeFileRefused(f"outcome file version {document.get('version')}; this tipline reads {VERSION}",
                                 "invalid")
    return text, signature, document


def import_outcomes(instance: Instance, data: bytes, actor: Actor) -> ImportedOutcomes:
    """Verify an outcome file from a partner hotline and add its new outcomes to our referral's
    timeline, in one transaction; OutcomeFileRefused (nothing changed) on a forgery, a replay or an
    unknown sender."""
    text, signature, document = _read(data)
    try:
        referral_id = int(document["referral"]["id"])
        sequence = int(document["sequence"])
        file_id = str(document["file_id"])[:64]
        outcomes = list(document["outcomes"])
        written_at = datetime.fromisoformat(str(document["written_at"]))
    except (KeyError, TypeError, ValueError):
        raise OutcomeFileRefused("the outcome file lacks its referral, sequence, id or outcomes", "invalid") from None
    with instance.db.transaction() as session:
        referral = session.execute(select(ReferralRow).where(ReferralRow.id == referral_id)
                                   .with_for_update()).scalar_one_or_none()
        if referral is None or referral.built_at is None:
            raise OutcomeFileRefused(f"the file is about referral {referral_id}, which this hotline never made",
                                     "invalid")
        partner = session.get(AgencyRow, referral.agency_id)
        assert partner is not None
        try:
            key = signing_public_key(partner)
        except UnknownPartner as error:
            raise OutcomeFileRefused(f"an unknown sender: referral {referral_id} went to {partner.name}, but {error}",
                                     "unknown_sender") from None
        try:
            key.verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            raise OutcomeFileRefused(
                f"forged or altered: the file's signature does not verify with {partner.name}'s signing key "
                f"{fingerprint(raw_public(key))} (the file names the key "
                f"{document.get('from', {}).get('signing_key_id', 'of no one')}); nothing was imported",
                "forged") from None
        seen = session.execute(select(PartnerOutcomeFileRow).where(PartnerOutcomeFileRow.file_id == file_id)
                               ).scalar_one_or_none()
        if seen is not None:
            raise OutcomeFileRefused(f"this outcome file (number {seen.sequence} of referral {referral_id}) was "
                                     f"already imported on {seen.imported_at:%Y-%m-%d %H:%M} UTC: a replay, nothing "
                                     "was added", "replay")
        earlier = list(session.execute(select(PartnerOutcomeFileRow).where(
            PartnerOutcomeFileRow.referral_id == referral_id)).scalars())
        latest = max((f.sequence for f in earlier), default=0)
        if sequence <= latest:
            raise OutcomeFileRefused(f"this is outcome file number {sequence} of referral {referral_id}, but number "
                                     f"{latest} was already imported: an old file replayed, nothing was added",
                                     "replay")
        known = {str(i) for f in earlier for i in f.outcome_ids.get("ids", [])}
        principal = Principal(actor, Role.ADMIN)
        added: list[str] = []
        for entry in outcomes:
            if not isinstance(entry, dict) or str(entry.get("id", "")) in known:
                continue
            try:
                at = datetime.fromisoformat(str(entry.get("at")))
                record_outcome(instance, session, referral, principal, str(entry.get("outcome")),
                               reason=entry.get("reason"), referred_to=entry.get("referred_to"),
                               recorded_at=at, recorded_by=f"{partner.name} (outcome file {sequence})",
                               how=f"outcome file {sequence} from {partner.name}")
            except (OutcomeRefused, ValueError) as error:
                raise OutcomeFileRefused(f"outcome {entry.get('id')!r} in the file cannot be recorded: {error}",
                                         "invalid") from None
            added.append(str(entry["id"]))
            known.add(str(entry["id"]))
        session.add(PartnerOutcomeFileRow(
            referral_id=referral_id, file_id=file_id, sequence=sequence, file_sha256=hashlib.sha256(data).hexdigest(),
            outcome_ids={"ids": sorted(known)}, written_at=written_at, imported_at=utc_now(), imported_by=actor.name))
        instance.audit.append(session, actor, "referral.outcome_file_imported", report_id=referral.report_id,
                              details={"referral_id": referral_id, "agency": partner.code, "agency_name": partner.name,
                                       "sequence": sequence, "added": len(added), "file_id": file_id})
        session.flush()
        return ImportedOutcomes(referral_id, referral.report_id, partner.name, sequence, added,
                                len(outcomes) - len(added))
