"""Taking in a partner hotline's referral package (`tipline referral import`): the package opened with
our key, its manifest's signature verified with the sending partner's registered signing key, every
item's SHA-256 checked, then ONE report created with its files and its provenance through the normal
intake path (the pipeline hashes, matches and analyses it as any report), all in one transaction.

Anything wrong (an unknown sender, a bad signature, a changed or missing file, a referral already
imported) is refused with the reason before anything is written; the evidence written to the
encrypted store before the transaction is deleted again if the transaction does not commit."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.files import FileDetails
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.intake.submission import SubmissionRejected, submit_report
from tipline.media.blobstore import BlobTooLargeError, StoredBlob
from tipline.referral.package import (
    COPY_CHUNK,
    FORMAT,
    MANIFEST,
    PackageContents,
    PackageError,
    open_package,
    read_manifest,
    verify_contents,
)
from tipline.referral.partners import UnknownPartner, partner_by_key_id, signing_public_key
from tipline.store.accounts import Principal
from tipline.store.partners import ImportedReferralRow
from tipline.store.referrals import AgencyRow
from tipline.store.tables import BlobRow

if TYPE_CHECKING:
    from tipline.instance import Instance

MAX_REPORT_JSON = 64 * 1024 * 1024
EVIDENCE = frozenset({"evidence"})


class ImportRefused(ValueError):
    """A package that is not imported, with the reason; nothing was created."""

    def __init__(self, message: str, kind: str = "refused") -> None:
        super().__init__(message)
        self.kind = kind  # unreadable, unknown_sender, bad_signature, altered, duplicate, invalid


@dataclass
class ImportResult:
    report_id: int
    partner_code: str
    partner_name: str
    sender_report_id: int
    sender_referral_id: int
    files: int
    file_sha256: list[str]


def import_package(instance: Instance, path: str | os.PathLike[str], private_key: X25519PrivateKey,
                   actor: Actor) -> ImportResult:
    """Verify and import one package; ImportRefused (with the reason) and nothing created otherwise."""
    try:
        package_sha256 = _file_sha256(path)
        contents = open_package(path, private_key)
    except (OSError, PackageError) as error:
        raise ImportRefused(str(error), "unreadable") from None
    with contents:
        return _import(instance, contents, package_sha256, actor)


def _file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _import(instance: Instance, contents: PackageContents, package_sha256: str, actor: Actor) -> ImportResult:
    try:
        manifest = read_manifest(contents)
        manifest_sha256 = hashlib.sha256(contents.read(MANIFEST)).hexdigest()
    except (KeyError, ValueError) as error:
        raise ImportRefused(f"the package has no readable manifest.json ({error})", "invalid") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ImportRefused("manifest.json is not a tipline referral manifest", "invalid")
    hotline: dict[str, Any] = manifest["hotline"] if isinstance(manifest.get("hotline"), dict) else {}
    key_id = str(hotline.get("signing_key_id") or "")
    with instance.db.transaction() as session:
        try:
            partner = partner_by_key_id(session, key_id)
        except UnknownPartner as error:
            raise ImportRefused(str(error), "unknown_sender") from None
        partner_id, partner_code, partner_name = partner.id, partner.code, partner.name
        key = signing_public_key(partner)
    verification = verify_contents(contents, key, deferred_kinds=EVIDENCE)  # evidence: checked as it is stored
    if not verification.ok:
        bad_signature = any(p.kind == "bad_signature" for p in verification.problems) or (
            not verification.signature_valid and not verification.problems)
        kind = "bad_signature" if bad_signature else "altered"
        reasons = "; ".join(p.message for p in verification.problems) or "the signature does not verify"
        raise ImportRefused(f"refused, nothing was imported: the package from {partner_name} does not verify with "
                            f"its signing key {key_id}: {reasons}", kind)
    manifest = verification.manifest or {}  # from here on, only what the signature covers
    hotline = manifest["hotline"] if isinstance(manifest.get("hotline"), dict) else {}
    referral: dict[str, Any] = manifest["referral"] if isinstance(manifest.get("referral"), dict) else {}
    try:
        sender_referral_id, sender_report_id = int(referral["id"]), int(referral["report_id"])
    except (KeyError, TypeError, ValueError):
        raise ImportRefused("the manifest names no referral id and report id", "invalid") from None
    with instance.db.read_session() as session:
        _refuse_duplicate(session, partner_id, partner_name, sender_referral_id)
    content, details_by_file = _report_content(contents)
    evidence = [e for e in manifest["items"] if e.get("kind") == "evidence"]
    new_blobs: list[str] = []
    try:
        stored = [(entry, _store_evidence(instance, contents, entry, new_blobs)) for entry in evidence]
        with instance.db.transaction() as session:
            _refuse_duplicate(session, partner_id, partner_name, sender_referral_id)
            principal = Principal(actor, Role.ADMIN)
            try:
                row = submit_report(instance, session, content, ReportSource.PARTNER_HOTLINE, principal)
            except SubmissionRejected as error:
                raise ImportRefused(f"the report in the package is not valid here: {error}", "invalid") from None
            for entry, blob in stored:
                file_row = instance.files.register(session, row.id, blob, file_name=entry.get("original_name"),
                                                   actor=actor)
                details = details_by_file.get(str(entry.get("file_id")))
                if details is not None:
                    instance.files.set_details(session, file_row.id, details, actor, report_id=row.id)
            imported = ImportedReferralRow(
                report_id=row.id, partner_id=partner_id, sender_referral_id=sender_referral_id,
                sender_report_id=sender_report_id, sender_name=str(hotline.get("name") or partner_name)[:200],
                signing_key_id=key_id, package_sha256=package_sha256,
                manifest_sha256=manifest_sha256, referred_at=_when(referral.get("created_at")),
                imported_at=utc_now(), imported_by=actor.name, outcome_files=0)
            session.add(imported)
            try:
                session.flush()
            except IntegrityError:
                raise ImportRefused(f"referral {sender_referral_id} of {partner_name} was imported meanwhile",
                                    "duplicate") from None
            instance.audit.append(session, actor, "referral.imported", report_id=row.id, details={
                "agency": partner_code, "agency_name": partner_name, "sender_referral_id": sender_referral_id,
                "sender_report_id": sender_report_id, "signing_key_id": key_id, "files": len(stored),
                "package_sha256": imported.package_sha256, "manifest_sha256": imported.manifest_sha256})
            report_id = row.id
    except BaseException:
        _forget(instance, new_blobs)
        raise
    return ImportResult(report_id, partner_code, partner_name, sender_report_id, sender_referral_id, len(stored),
                        [blob.sha256 for _entry, blob in stored])


def _refuse_duplicate(session: Session, partner_id: int, partner_name: str, sender_referral_id: int) -> None:
    earlier = session.execute(select(ImportedReferralRow).where(
        ImportedReferralRow.partner_id == partner_id,
        ImportedReferralRow.sender_referral_id == sender_referral_id)).scalar_one_or_none()
    if earlier is not None:
        raise ImportRefused(f"referral {sender_referral_id} of {partner_name} was already imported, as report "
                            f"#{earlier.report_id} on {earlier.imported_at:%Y-%m-%d %H:%M} UTC by "
                            f"{earlier.imported_by}; nothing was imported again", "duplicate")


def _report_content(contents: PackageContents) -> tuple[ReportContent, dict[str, FileDetails]]:
    """The report's facts from report.json (its content on the wire, checked by the signed manifest)
    and each original file's details by the sender's file id."""
    try:
        with contents.open("report.json") as stream:
            raw = stream.read(MAX_REPORT_JSON + 1)
    except KeyError:
        raise ImportRefused("the package holds no report.json", "invalid") from None
    if len(raw) > MAX_REPORT_JSON:
        raise ImportRefused("report.json is larger than 64 MiB", "invalid")
    try:
        document = json.loads(raw)
        report = document["report"]
        content = ReportContent.model_validate(report["content"])
        details = {str(f["fileId"]): FileDetails.model_validate(f["details"])
                   for f in report.get("files", []) if isinstance(f, dict) and f.get("details")}
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise ImportRefused(f"report.json cannot be read as a report: {str(error)[:500]}", "invalid") from None
    return content, details


def _store_evidence(instance: Instance, contents: PackageContents, entry: dict[str, Any],
                    new_blobs: list[str]) -> StoredBlob:
    """One evidence file from the package into the encrypted store (never to disk in plaintext); its
    SHA-256 and size checked against the signed manifest as it is stored (the check of verify_contents,
    done while reading the file once). A mismatch refuses the import; the caller deletes the ciphertext."""
    path = str(entry["path"])
    limit = instance.settings.max_upload_bytes
    try:
        with instance.files.writer(max_size=limit) as writer, contents.open(path) as source:
            while chunk := source.read(COPY_CHUNK):
                writer.write(chunk)
            blob = writer.commit()
    except BlobTooLargeError:
        raise ImportRefused(f"{path} is larger than the largest file this hotline takes (TIPLINE_MAX_UPLOAD_BYTES, "
                            f"{limit:,} bytes); nothing was imported", "invalid") from None
    if not blob.deduplicated:
        new_blobs.append(blob.address)
    if blob.sha256 != entry.get("sha256") or blob.size != entry.get("size"):
        raise ImportRefused(f"refused, nothing was imported: {path} was altered: SHA-256 {blob.sha256} "
                            f"({blob.size} bytes), the signed manifest says {entry.get('sha256')} "
                            f"({entry.get('size')} bytes)", "altered")
    return blob


def _forget(instance: Instance, addresses: list[str]) -> None:
    """Ciphertext this import added that no stored file refers to (its transaction rolled back)."""
    if not addresses:
        return
    with instance.db.transaction() as session:
        held = set(session.execute(select(BlobRow.address).where(BlobRow.address.in_(addresses))).scalars())
    for address in addresses:
        if address not in held:
            instance.files.blobs.delete(address)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def imported_referral(session: Session, report_id: int) -> tuple[ImportedReferralRow, AgencyRow] | None:
    """Where a report came from, if it was imported from a partner hotline."""
    row = session.execute(select(ImportedReferralRow, AgencyRow).join(
        AgencyRow, AgencyRow.id == ImportedReferralRow.partner_id).where(
        ImportedReferralRow.report_id == report_id)).first()
    return (row[0], row[1]) if row else None


__all__ = ["ImportRefused", "ImportResult", "import_package", "imported_referral"]
