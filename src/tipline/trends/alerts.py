"""Reading and deciding on alerts: the supervisor's acknowledgement or dismissal is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.trends.dimensions import DIMENSIONS, value_label
from tipline.trends.tables import TrendAlertRow

if TYPE_CHECKING:
    from tipline.instance import Instance

STATUSES = ("open", "acknowledged", "dismissed")
ACTIONS = {"acknowledge": "acknowledged", "dismiss": "dismissed"}
IDENTIFIER_LABELS = {"payment": "Payment handle", "screen_name": "Screen name", "url": "Web address",
                     "profile_url": "Profile address", "file_sha256": "File (SHA-256)"}


class AlertNotFound(LookupError):
    pass


def list_alerts(session: Session, statuses: tuple[str, ...] = ("open",), limit: int = 200) -> list[TrendAlertRow]:
    """The newest first; of one day, the largest rise against its expectation first."""
    return list(session.execute(select(TrendAlertRow).where(TrendAlertRow.status.in_(statuses))
                                .order_by(TrendAlertRow.last_day.desc(),
                                          (TrendAlertRow.observed / (TrendAlertRow.expected + 1.0)).desc(),
                                          TrendAlertRow.id.desc())
                                .limit(limit)).scalars())


def as_json(row: TrendAlertRow) -> dict[str, Any]:
    """The shape of `tipline trends alerts --json`."""
    return {"kind": row.kind, "dimension": row.dimension, "value": row.value, "since": row.since.isoformat(),
            "observed": row.observed, "expected": row.expected, "report_ids": list(row.report_ids.get("ids", []))}


def describe(row: TrendAlertRow) -> dict[str, Any]:
    """What a page shows: what rose, by how much, against what, since when."""
    if row.kind == "rise":
        what = f"{DIMENSIONS.get(row.dimension, row.dimension)}: {value_label(row.dimension, row.value)}"
        rise = (f"{row.observed} reports on {row.last_day:%d %b %Y} against {row.expected:.1f} expected "
                f"({row.details.get('baseline', '')})")
    else:
        what = f"{IDENTIFIER_LABELS.get(row.dimension, row.dimension)} {row.value} in many reports"
        rise = (f"{row.observed} reports from {row.details.get('sources', '?')} sources in "
                f"{row.details.get('window_days', 7)} days against {row.expected:.1f} expected "
                f"({row.details.get('baseline', '')})")
    return {"id": row.id, "kind": row.kind, "what": what, "rise": rise, "since": row.since, "status": row.status,
            "report_ids": list(row.report_ids.get("ids", [])), "decided_by": row.decided_by,
            "decided_at": row.decided_at, "note": row.decision_note, "last_day": row.last_day, "related": []}


RELATED_SHARE = 0.6


def grouped(rows: list[TrendAlertRow]) -> list[dict[str, Any]]:
    """The alerts as shown, a rise that is mostly the same reports as a larger rise listed with it ("also
    rose") rather than on its own: 80 sextortion reports also raise the count of all reports, of their
    victims' age band, of their source. Identifier alerts always stand alone. `rows` in list order."""
    leaders: list[tuple[dict[str, Any], set[int]]] = []
    for row in rows:
        shown = describe(row)
        ids = set(shown["report_ids"])
        if row.kind == "rise" and ids:
            home = next((leader for leader, theirs in leaders if leader["kind"] == "rise"
                         and abs((leader["last_day"] - row.last_day).days) <= 1
                         and len(ids & theirs) >= RELATED_SHARE * len(ids)), None)
            if home is not None:
                home["related"].append(shown)
                continue
        leaders.append((shown, ids))
    return [leader for leader, _ in leaders]


def decide(instance: Instance, session: Session, alert_id: int, action: str, actor: Actor,
           note: str | None = None) -> TrendAlertRow:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: acknowledge or dismiss")
    row = session.get(TrendAlertRow, alert_id, with_for_update=True)
    if row is None:
        raise AlertNotFound(alert_id)
    before = row.status
    row.status, row.decided_by, row.decided_at = ACTIONS[action], actor.name, utc_now()
    row.decision_note = (note or "").strip()[:2000] or None
    instance.audit.append(session, actor, f"trends.alert_{ACTIONS[action]}", details={
        "alert": row.id, "from": before, "kind": row.kind, "dimension": row.dimension, "value": row.value[:200],
        "note": row.decision_note})
    return row
