"""Takedown events of the audit trail, in words for a report's timeline."""

from __future__ import annotations

from typing import Any

TAKEDOWN_ACTION_PREFIX = "takedown."
TAKEDOWN_EVENT_LABELS = {
    "takedown.locate_requested": "Hosting lookup asked for",
    "takedown.located": "Hosting looked up",
    "takedown.notice_drafted": "Takedown notice drafted",
    "takedown.notice_sent": "Takedown notice sent",
    "takedown.notice_acknowledged": "Takedown notice acknowledged",
    "takedown.notice_removed": "Material removed",
    "takedown.notice_refused": "Takedown refused",
    "takedown.notice_unreachable": "Hosting provider unreachable",
    "takedown.notice_checked": "Web address checked again",
    "takedown.mail_requested": "Takedown notice to be mailed",
    "takedown.mail_failed": "Mailing the takedown notice failed",
}


def describe_takedown_event(action: str, details: dict[str, Any]) -> str:
    """Plain text (the caller escapes it)."""
    url = details.get("url") or "the web address"
    notice = details.get("reference") or f"notice {details.get('notice_id')}"
    if action == "takedown.locate_requested":
        how = "automatically (TIPLINE_RESOLVE_HOSTS)" if details.get("automatic") else "by a person"
        return f"{details.get('urls', 0)} web address(es) to look up, asked {how}"
    if action == "takedown.located":
        countries = ", ".join(details.get("countries") or []) or "no country found"
        return (f"{details.get('urls', 0)} web address(es): {countries}; "
                f"{details.get('unresolved', 0)} could not be resolved")
    if action == "takedown.notice_drafted":
        return f"{notice} for {url} to {details.get('provider') or 'the hosting provider'}"
    if action == "takedown.mail_requested":
        return f"{notice} to {details.get('to')}"
    if action == "takedown.mail_failed":
        return f"{notice}: {details.get('error', '')}; will try again"
    if action == "takedown.notice_checked":
        result = "still online" if details.get("result") == "still_online" else "removed"
        return f"{url}: {result} ({notice})"
    if action.startswith("takedown.notice_"):
        text = f"{notice} for {url}"
        if details.get("note"):
            text += f": {details['note']}"
        return text
    return ", ".join(f"{key}: {value}" for key, value in details.items()) or action
