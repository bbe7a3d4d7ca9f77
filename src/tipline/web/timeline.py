"""A report's history in words: each audit event as a sentence an analyst can read at a glance."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from tipline.domain.identifiers import IdentifierKind
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import SOURCE_LABELS, ReportSource
from tipline.forwarding.events import FORWARDING_ACTION_PREFIX, describe_forwarding_event
from tipline.media.previews import PreviewStyle
from tipline.referral.events import REFERRAL_ACTION_PREFIXES, describe_referral_event
from tipline.takedown.events import TAKEDOWN_ACTION_PREFIX, describe_takedown_event


def _state(value: str) -> str:
    try:
        return ReportState(value).label
    except ValueError:
        return value


def _kind(value: str) -> str:
    try:
        return IdentifierKind(value).label.lower()
    except ValueError:
        return value


def describe(action: str, details: dict[str, Any]) -> Markup:
    """One event as HTML-safe text (links to other reports where it names them)."""
    if action.startswith(REFERRAL_ACTION_PREFIXES):
        return escape(describe_referral_event(action, details))
    if action.startswith(FORWARDING_ACTION_PREFIX):
        return escape(describe_forwarding_event(action, details))
    if action.startswith(TAKEDOWN_ACTION_PREFIX):
        return escape(describe_takedown_event(action, details))
    if action == "report.submitted":
        source = details.get("source", "")
        label = SOURCE_LABELS.get(ReportSource(source), source) if source in {s.value for s in ReportSource} else source
        return escape(f"Submitted through the {label.lower()} as {_state(details.get('state', '')).lower()}")
    if action == "report.state_changed":
        text = f"{_state(details.get('from', ''))} → {_state(details.get('to', ''))}"
        if details.get("reason"):
            text += f" ({details['reason']})"
        return escape(text)
    if action == "file.revealed":  # the file's name is on the page's files list; the look is what was seen
        style = PreviewStyle.from_code(str(details.get("look", "none-colour")))
        seen = style.words if style else str(details.get("look"))
        return escape(f"{seen}{', the video played' if details.get('play') else ''}")
    if action == "report.read":
        return escape(f"Opened ({details.get('purpose', 'view')})")
    if action == "report.linked":
        by_report: dict[int, list[str]] = {}
        for link in details.get("links", []):
            by_report.setdefault(int(link["report_id"]), []).append(f"{_kind(link['basis'])} {link['value']}")
        parts = [
            Markup('<a href="/reports/{0}">#{0}</a> ({1})').format(report_id, "; ".join(shared))
            for report_id, shared in sorted(by_report.items())
        ]
        return Markup("Linked to ") + Markup(", ").join(parts)
    return escape(", ".join(f"{key}: {value}" for key, value in details.items()) or action)
