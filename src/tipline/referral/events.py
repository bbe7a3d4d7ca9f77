"""Referral and jurisdiction events of the audit trail, in words for a report's timeline."""

from __future__ import annotations

from typing import Any

from tipline.referral.outcomes import outcome_label

REFERRAL_ACTION_PREFIXES = ("referral.", "jurisdiction.", "victims.identification_offered")
REFERRAL_EVENT_LABELS = {
    "jurisdiction.resolved": "Located",
    "jurisdiction.confirmed": "Agency confirmed",
    "jurisdiction.overridden": "Agency overridden",
    "referral.created": "Referred",
    "referral.opened": "Referral opened by the agency",
    "referral.viewed": "Referral viewed by the agency",
    "referral.file_viewed": "Evidence file details viewed by the agency",
    "referral.package_downloaded": "Package downloaded",
    "referral.outcome_reported": "Outcome from the agency",
    "referral.imported": "Imported from a partner hotline",
    "referral.outcomes_exported": "Outcomes written for the partner hotline",
    "referral.outcome_file_imported": "Outcome file from the partner hotline",
    "victims.identification_offered": "Identification offered to a series",
    "referral.message_sent": "Message on the referral",
    "referral.key_supplied": "Agency key given for reading",
    "referral.key_refused": "Agency key refused",
    "referral.read": "Referral read by the agency",
    "referral.file_read": "Evidence file seen by the agency",
    "referral.file_revealed": "Picture revealed by the agency",
}


def describe_referral_event(action: str, details: dict[str, Any]) -> str:
    """Plain text (the caller escapes it)."""
    agency = details.get("agency_name") or details.get("agency") or "the agency"
    if action == "jurisdiction.resolved":
        where = details.get("location") or "nowhere known"
        text = f"Placed in {where} (confidence {details.get('confidence', 0)}, {details.get('clues', 0)} clue(s)"
        if details.get("conflicting"):
            text += f", {details['conflicting']} pointing elsewhere"
        return text + f"); suggested agency: {details.get('suggested_agency') or 'none'}"
    if action == "jurisdiction.confirmed":
        return f"{agency} confirmed as the agency to refer to"
    if action == "jurisdiction.overridden":
        return f"{agency} chosen instead of the suggestion: {details.get('reason', '')}"
    if action == "referral.created":
        return (f"Referral {details.get('referral_id')} to {agency}: {details.get('items', 0)} item(s), "
                f"{details.get('evidence_files', 0)} evidence file(s); package SHA-256 "
                f"{str(details.get('package_sha256', ''))[:16]}…")
    if action == "referral.opened":
        return f"Referral {details.get('referral_id')} opened ({details.get('how', 'page')})"
    if action == "referral.viewed":
        return f"Referral {details.get('referral_id')} viewed"
    if action == "referral.file_viewed":
        return f"Referral {details.get('referral_id')}: details of file {details.get('file_id')} viewed"
    if action == "referral.package_downloaded":
        return f"Referral {details.get('referral_id')}: package downloaded (download {details.get('download', 1)})"
    if action == "referral.outcome_reported":
        text = f"{agency} reported: {outcome_label(str(details.get('outcome', '')))}"
        if details.get("referred_to"):
            text += f" to {details['referred_to']}"
        if details.get("reason"):
            text += f" ({details['reason']})"
        if details.get("how"):
            text += f"; from {details['how']}"
        return text
    if action == "referral.imported":
        return (f"Imported from the partner hotline {agency}: its report #{details.get('sender_report_id')}, "
                f"its referral {details.get('sender_referral_id')}; {details.get('files', 0)} file(s); signature "
                f"verified with its key {details.get('signing_key_id')}")
    if action == "referral.outcomes_exported":
        return (f"Outcome file {details.get('sequence')} written for {agency} (its referral "
                f"{details.get('sender_referral_id')}): {details.get('outcomes', 0)} outcome(s)")
    if action == "referral.outcome_file_imported":
        return (f"Outcome file {details.get('sequence')} from {agency} imported for referral "
                f"{details.get('referral_id')}: {details.get('added', 0)} new outcome(s)")
    if action == "referral.message_sent":
        side = "the agency" if details.get("side") == "agency" else "the hotline"
        return f"Referral {details.get('referral_id')}: message from {side} ({details.get('characters', 0)} characters)"
    if action == "referral.read":
        return f"Referral {details.get('referral_id')} read in the browser (agency key {details.get('key_id')})"
    if action == "referral.file_read":
        return f"Referral {details.get('referral_id')}: file {details.get('file_id')} seen ({details.get('purpose')})"
    if action == "referral.file_revealed":
        return f"Referral {details.get('referral_id')}: picture {details.get('file_id')} revealed"
    if action in ("referral.key_supplied", "referral.key_refused"):
        return f"Referral {details.get('referral_id')}: " + (
            f"agency key {details.get('key_id')} given" if action == "referral.key_supplied"
            else f"a key was refused ({details.get('reason', '')})")
    if action == "victims.identification_offered":
        names = ", ".join(str(s.get("series")) for s in details.get("series", []))
        return f"Child identified by the agency: offered to series {names} for confirmation"
    return ", ".join(f"{key}: {value}" for key, value in details.items()) or action
