"""Forwarding events of the audit trail, in words for a report's timeline."""

from __future__ import annotations

from typing import Any

FORWARDING_ACTION_PREFIX = "forwarding."
FORWARDING_EVENT_LABELS = {
    "forwarding.requested": "Forwarding asked for",
    "forwarding.retried": "Forwarding asked for again",
    "forwarding.attempt": "Forwarding attempt",
    "forwarding.submitted": "Report sent to the destination",
    "forwarding.file_sent": "File sent to the destination",
    "forwarding.file_details_sent": "File details sent to the destination",
    "forwarding.finished": "Forwarded",
    "forwarding.retry_scheduled": "Forwarding failed; will try again",
    "forwarding.needs_attention": "Forwarding needs attention",
    "forwarding.restarted": "Forwarding started again",
    "forwarding.retracted": "Withdrawn from the destination",
}


def describe_forwarding_event(action: str, details: dict[str, Any]) -> str:
    """Plain text (the caller escapes it)."""
    to = details.get("destination") or "the destination"
    remote = details.get("remote_report_id")
    if action in ("forwarding.requested", "forwarding.retried"):
        return f"To {to} ({details.get('environment', 'test')} service)"
    if action == "forwarding.attempt":
        return f"Attempt {details.get('attempt')} to {to}"
    if action == "forwarding.submitted":
        return f"{to} opened their report {remote}"
    if action == "forwarding.file_sent":
        return f"File {details.get('position')} sent to {to} (their file {details.get('remote_file_id')})"
    if action == "forwarding.file_details_sent":
        return f"Details of file {details.get('position')} sent to {to}"
    if action == "forwarding.finished":
        return f"{to} has the report as their report {remote}, with {details.get('files', 0)} file(s)"
    if action == "forwarding.retry_scheduled":
        return f"{details.get('error', '')}; next try {details.get('retry_at', '')}"
    if action == "forwarding.needs_attention":
        return str(details.get("reason", ""))
    if action == "forwarding.restarted":
        return f"Their report {remote} given up: {details.get('reason', '')}"
    if action == "forwarding.retracted":
        return f"Their report {remote}: {details.get('result', '')}"
    return ", ".join(f"{key}: {value}" for key, value in details.items()) or action
