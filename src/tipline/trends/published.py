"""Published figures: `tipline stats report` and its download. The same counts give the same bytes (no
clock, sorted everywhere); small counts are suppressed (primary: a cell under the threshold is shown as
"<10"; secondary: where a row or column total is published and only one of its cells is hidden, the next
smallest is hidden too, so that subtraction cannot reveal it); the notes define every figure."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from tipline.domain.incident import IncidentType
from tipline.trends.dimensions import DIMENSIONS, value_label
from tipline.trends.tables import TrendCountRow

PERIODS = ("year", "month")
NOTES = [
    "A report is counted on the day (UTC) it was received, once for each value it has: a report with two "
    "annotations counts under both, so annotations, tactics and payment methods do not add up to the total.",
    "Incident type (as reported): the type the reporter chose. Confirmed: the type an analyst set on review.",
    "Source: the service provider's account, or the public form.",
    "Victim age: the age the reporter gave for a victim, or an age read in the report's free text; "
    "bands 0-12, 13-15, 16-17, 18 or over; 'unknown' where none was given.",
    "Victim sex: asked only on the public form; service-provider reports count as 'unknown'.",
    "Child knows the offender offline: asked on the public form (\"Does the child know this person in "
    "person?\"); the CyberTipline schema has no such field, so service-provider reports count as 'not known'. "
    "Offenders unknown offline: the share of reports answered 'only online' among those answered 'only "
    "online' or 'known offline', published when both counts are at least the suppression threshold.",
    "Decision: the state of the report when the figures were counted (referred, informational, closed with "
    "no action, undecided).",
    "Suppression: a count from 1 to {threshold_less} is shown as '<{threshold}'. Where a total is published "
    "and a single cell under it is hidden, the smallest other cell is hidden too (secondary suppression); "
    "hidden cells are marked the same way. Zero is shown as 0.",
    "Growth: the change in online-enticement reports against the year before, for years with a full year "
    "before them in the range.",
]


def _period(session: Session, by: str) -> Any:
    """A count's period as SQL: "2026" by year, "2026-03" by month, "all" otherwise."""
    if by not in PERIODS:
        return literal("all")
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(TrendCountRow.day, "YYYY" if by == "year" else "YYYY-MM")
    return func.strftime("%Y" if by == "year" else "%Y-%m", TrendCountRow.day)  # SQLite keeps a date as text


def _counts(session: Session, first: date, last: date, dimension: str, by: str) -> dict[tuple[str, str], int]:
    """Each (period, value)'s count, added up in SQL: three years of daily counts are tens of thousands of
    rows, their sums by month a few hundred (adding them up in Python took most of the report's time)."""
    period = _period(session, by).label("period")
    return {(str(p), value): int(count) for p, value, count in session.execute(
        select(period, TrendCountRow.value, func.sum(TrendCountRow.count))
        .where(TrendCountRow.dimension == dimension, TrendCountRow.day >= first, TrendCountRow.day <= last,
               TrendCountRow.count != 0)
        .group_by(period, TrendCountRow.value))}


def suppress(cells: list[list[int]], row_totals: list[int], column_totals: list[int], threshold: int,
             additive: bool) -> list[list[bool]]:
    """Which cells to hide: primary (1..threshold-1), then secondary along rows and columns whose totals
    are published. `additive`: the cells of a row add up to its total (single-valued dimensions)."""
    hidden = [[0 < v < threshold for v in row] for row in cells]
    if not additive:
        return hidden
    changed = True
    while changed:
        changed = False
        lines = [[(r, c) for c in range(len(cells[r]))] for r in range(len(cells))]
        lines += [[(r, c) for r in range(len(cells))] for c in range(len(cells[0]) if cells else 0)]
        for line in lines:
            marked = [(r, c) for r, c in line if hidden[r][c]]
            if len(marked) == 1:
                others = sorted(((cells[r][c], r, c) for r, c in line if not hidden[r][c] and cells[r][c] > 0))
                if others:
                    _, r, c = others[0]
                    hidden[r][c] = True
                    changed = True
    return hidden


def _shown(value: int, hidden: bool, threshold: int) -> int | str:
    return f"<{threshold}" if hidden else value


def report(session: Session, first: date, last: date, dimensions: list[str], *, by: str = "year",
           threshold: int = 10) -> dict[str, Any]:
    """The published figures, as a document (JSON-ready, deterministic)."""
    totals = _counts(session, first, last, "all", by)
    periods = sorted({p for p, _ in totals})
    tables = []
    for dimension in dimensions:
        counts = _counts(session, first, last, dimension, by)
        values = sorted({v for _, v in counts}, key=lambda v: (-sum(counts.get((p, v), 0) for p in periods), v))
        cells = [[counts.get((p, v), 0) for p in periods] for v in values]
        value_totals = [sum(row) for row in cells]
        period_totals = [totals.get((p, "reports"), 0) for p in periods]
        additive = dimension not in ("annotation", "tactic", "payment_method", "suggested_incident_type", "region")
        hidden = suppress(cells, value_totals, period_totals, threshold, additive)
        rows = []
        for v, row, flags, total in zip(values, cells, hidden, value_totals, strict=True):
            hide_total = 0 < total < threshold
            rows.append({"value": v, "label": value_label(dimension, v),
                         "counts": {p: _shown(n, h, threshold) for p, n, h in zip(periods, row, flags, strict=True)},
                         "total": _shown(total, hide_total, threshold)})
        tables.append({"dimension": dimension, "label": DIMENSIONS[dimension], "rows": rows,
                       "reports": {p: _shown(n, 0 < n < threshold, threshold) for p, n in zip(periods, period_totals, strict=True)}})
    return {
        "title": f"Reports received from {first.isoformat()} to {last.isoformat()}",
        "from": first.isoformat(), "to": last.isoformat(), "by": by, "threshold": threshold,
        "periods": periods,
        "reports": {p: _shown(totals.get((p, "reports"), 0), 0 < totals.get((p, "reports"), 0) < threshold, threshold)
                    for p in periods},
        "tables": tables,
        "yearly_summary": yearly_summary(session, first, last, threshold),
        "notes": [n.format(threshold=threshold, threshold_less=threshold - 1) for n in NOTES],
    }


def _share(part: int, other: int, threshold: int) -> float | None:
    """part as a percentage of part + other, or None when either count is small enough to be suppressed."""
    if 0 < part < threshold or 0 < other < threshold or part + other < threshold:
        return None
    return round(100 * part / (part + other), 1)


def yearly_summary(session: Session, first: date, last: date, threshold: int) -> list[dict[str, Any]]:
    """Per year: reports, online-enticement reports and their growth, shares by victim sex, and the share of
    offenders the child did not know offline where the reporter said."""
    enticement = _counts(session, first, last, "incident_type", "year")
    sexes = _counts(session, first, last, "victim_sex", "year")
    totals = _counts(session, first, last, "all", "year")
    known_offline = _counts(session, first, last, "offender_relationship", "year")
    years = sorted({p for p, _ in totals})
    summary = []
    for year in years:
        count = enticement.get((year, IncidentType.ONLINE_ENTICEMENT.value), 0)
        before = enticement.get((str(int(year) - 1), IncidentType.ONLINE_ENTICEMENT.value))
        full_before = before is not None and first <= date(int(year) - 1, 1, 1)
        known = {s: sexes.get((year, s), 0) for s in ("female", "male", "other", "unknown")}
        all_sexes = sum(known.values())
        summary.append({
            "year": year, "reports": _shown(totals.get((year, "reports"), 0), 0 < totals.get((year, "reports"), 0) < threshold, threshold),
            "online_enticement_reports": _shown(count, 0 < count < threshold, threshold),
            "online_enticement_growth_percent": round(100 * (count - before) / before, 1)
            if full_before and before and count >= threshold and before >= threshold else None,
            "victim_sex_percent": {s: round(100 * n / all_sexes, 1) if all_sexes >= threshold and (n == 0 or n >= threshold)
                                   else None for s, n in known.items()},
            "offenders_unknown_offline_percent": _share(known_offline.get((year, "online_only"), 0),
                                                        known_offline.get((year, "known_offline"), 0), threshold),
        })
    return summary


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def as_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "value", "period", "reports"])
    for period, count in document["reports"].items():
        writer.writerow(["all", "reports", period, count])
    for table in document["tables"]:
        for row in table["rows"]:
            for period, count in row["counts"].items():
                writer.writerow([table["dimension"], row["value"], period, count])
            writer.writerow([table["dimension"], row["value"], "total", row["total"]])
    for note in document["notes"]:
        writer.writerow(["note", "", "", note])
    return out.getvalue()


def as_text(document: dict[str, Any]) -> str:
    lines = [document["title"], ""]
    lines.append("Reports: " + ", ".join(f"{p} {n}" for p, n in document["reports"].items()))
    for table in document["tables"]:
        lines += ["", table["label"]]
        for row in table["rows"]:
            lines.append(f"  {row['label']}: " + ", ".join(f"{p} {n}" for p, n in row["counts"].items())
                         + f" (total {row['total']})")
    lines += ["", "Notes:"] + [f"  - {n}" for n in document["notes"]]
    return "\n".join(lines) + "\n"
