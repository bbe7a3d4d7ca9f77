"""The emerging-threat detector: after each report is counted (within the same pipeline pass) and once
a day for every series (`tipline trends detect`). Two kinds of alert:

* **rise**: a series (a dimension's value) counts more on a day than its seasonal baseline predicts
  (tipline.trends.baseline);
* **identifier**: a payment handle, screen name, URL, profile URL or file hash appears, within 7 days,
  in at least `min_reports` reports from at least `min_sources` sources (providers; the public form is
  one), at least `min_ratio` times as often as in the 30 days before.

An alert continues while the rise goes on (the same series the next day updates it rather than raising
another); an acknowledged or dismissed alert stays so while it continues."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.store.round_trips import read_together
from tipline.store.tables import IdentifierRow, ReportFileRow, ReportRow
from tipline.trends.baseline import Baseline, Thresholds, Verdict, baseline, baseline_ranges, judge
from tipline.trends.cache import cache_of
from tipline.trends.counting import Fact, counted_days
from tipline.trends.tables import TrendAlertRow, TrendCountRow, TrendFactRow

if TYPE_CHECKING:
    from tipline.store.audit import AuditLog


class DetectorContext(Protocol):
    """What the detector reads and writes besides the session: the audit trail (alerts raised are
    audited); the context also keys the detector's cache of baselines."""

    @property
    def audit(self) -> AuditLog: ...

DETECTOR_ACTOR = Actor.system("trends:detector")
NOT_DETECTED = {"decision", "referral_outcome", "confirmed_incident_type"}  # change long after receipt
WATCHED_KINDS = ("payment", "screen_name", "url", "profile_url")
FILE_HASH = "file_sha256"
MAX_REPORT_IDS = 1000


@dataclass(frozen=True)
class IdentifierThresholds:
    window_days: int = 7
    prior_days: int = 30
    min_reports: int = 5
    min_sources: int = 2
    min_ratio: float = 3.0


DEFAULT_THRESHOLDS = Thresholds()
DEFAULT_IDENTIFIER_THRESHOLDS = IdentifierThresholds()


def _start(instance: DetectorContext, session: Session) -> date | None:
    cache = cache_of(instance)
    if "start" not in cache:
        cache["start"] = counted_days(session)[0]
    start: date | None = cache["start"]
    return start


def _baseline(instance: DetectorContext, session: Session, dimension: str, value: str, day: date) -> Baseline | None:
    _read_baselines(instance, session, [(dimension, value)], day)
    found: Baseline | None = cache_of(instance).get((dimension, value, day))
    return found


def _read_baselines(instance: DetectorContext, session: Session, series: Iterable[tuple[str, str]], day: date) -> None:
    """Put the baselines of these series on `day` into the cache, reading the counts of those not there in
    one statement (a few weeks a year of each, not three years of days; before, four statements a series)."""
    cache = cache_of(instance)
    missing = sorted({key for key in series if (*key, day) not in cache})
    if not missing:
        return
    start = _start(instance, session)
    if start is None:
        return
    ranges = [(max(first, start), last) for first, last in baseline_ranges(day) if last >= start]
    counts: dict[tuple[str, str], dict[date, int]] = {key: {} for key in missing}
    for first in range(0, len(missing), 200):
        chunk = missing[first:first + 200]
        for dimension, value, on, count in session.execute(select(
                TrendCountRow.dimension, TrendCountRow.value, TrendCountRow.day, TrendCountRow.count).where(
                tuple_(TrendCountRow.dimension, TrendCountRow.value).in_(chunk),
                or_(*(TrendCountRow.day.between(low, high) for low, high in ranges)))):
            counts[(dimension, value)][on] = count
    for (dimension, value), found in counts.items():
        cache[(dimension, value, day)] = baseline(day, found, start)


def _continuing(session: Session, kind: str, dimension: str, value: str, day: date) -> TrendAlertRow | None:
    """The alert of this series or identifier that was going on the day before, on the day or the day after (the
    latest): a day long before an open alert (a late report) is an episode of its own, not a stretch of that one."""
    _read_alerts(session, day, [(kind, dimension, value)])
    row: TrendAlertRow | None = session.info[_ALERTS].get((kind, dimension, value, day))
    return row if row is None or row in session else None


_ALERTS = "trends.alerts"  # in session.info: (kind, dimension, value, day) -> the continuing alert or None


def _read_alerts(session: Session, day: date, keys: Iterable[tuple[str, str, str]]) -> None:
    """Load the continuing alerts of these series and identifiers in one statement, into the session (a
    surge's report continues alerts of a dozen series: one read, not one or two each)."""
    known: dict[tuple[str, str, str, date], TrendAlertRow | None] = session.info.setdefault(_ALERTS, {})
    missing = sorted({key for key in keys if (*key, day) not in known})
    for first in range(0, len(missing), 200):
        chunk = missing[first:first + 200]
        for key in chunk:
            known[(*key, day)] = None
        for row in session.execute(select(TrendAlertRow).where(
                tuple_(TrendAlertRow.kind, TrendAlertRow.dimension, TrendAlertRow.value).in_(chunk),
                TrendAlertRow.last_day >= day - timedelta(days=1),
                TrendAlertRow.since <= day + timedelta(days=1)).order_by(TrendAlertRow.id)).scalars():
            known[(row.kind, row.dimension, row.value, day)] = row  # the latest wins


def _record(instance: DetectorContext, session: Session, kind: str, dimension: str, value: str, *, since: date, day: date,
            observed: int, expected: float, details: dict[str, Any], report_ids: list[int]) -> TrendAlertRow:
    now = utc_now()
    row = _continuing(session, kind, dimension, value, day)
    if row is None:
        row = TrendAlertRow(kind=kind, dimension=dimension, value=value[:1024], since=since, last_day=day,
                            observed=observed, expected=round(expected, 2), details=details,
                            report_ids={"ids": report_ids}, status="open", detected_at=now, updated_at=now)
        session.add(row)
        session.flush()
        session.info.setdefault(_ALERTS, {})[(kind, dimension, value, day)] = row
        instance.audit.append(session, DETECTOR_ACTOR, "trends.alert_raised", details={
            "alert": row.id, "kind": kind, "dimension": dimension, "value": value[:200], "since": since.isoformat(),
            "observed": observed, "expected": round(expected, 2)})
        return row
    if day >= row.last_day:
        row.last_day, row.observed, row.expected = day, observed, round(expected, 2)
        row.details, row.updated_at = details, now
    row.since = min(row.since, since)
    row.report_ids = {"ids": sorted(set(row.report_ids.get("ids", [])) | set(report_ids))[:MAX_REPORT_IDS]}
    return row


def _touch_recent(instance: DetectorContext, session: Session, key: tuple[Any, ...], observed: int,
                  report_id: int | None) -> bool:
    """When this process recorded the alert for the day at a count close to this one (within 10 % and 5
    reports), only bring its count and reports up to date: a surge of 80 reports judges its series a
    dozen times, not 80. False when the alert must be judged again."""
    row = _recent(instance, session, key, observed, report_id)
    if row is None:
        return False
    row.observed = max(row.observed, observed)
    ids = row.report_ids.get("ids", [])
    if report_id not in ids and len(ids) < MAX_REPORT_IDS:
        row.report_ids = {"ids": sorted([*ids, report_id])}
    row.updated_at = utc_now()
    return True


def _recent(instance: DetectorContext, session: Session, key: tuple[Any, ...], observed: int,
            report_id: int | None) -> TrendAlertRow | None:
    """The alert `_touch_recent` would only bring up to date, if any (nothing written)."""
    if report_id is None:
        return None
    before = cache_of(instance).get(("recorded", *key))
    if before is None or observed >= before[0] * 1.1 or observed - before[0] >= 5:
        return None
    _read_alerts(session, key[-1], [key[:3]])  # with the others the report touches, if check_report asked
    row = session.get(TrendAlertRow, before[1])
    if row is None or row.last_day != key[-1]:
        return None
    return row


@lru_cache(maxsize=4096)
def _judged(observed: int, base: Baseline, thresholds: Thresholds) -> Verdict:
    """`judge`, remembered: check_report judges a series before reading what an alert needs, and check_rise
    judges it again (the tail is a sum of `observed` terms)."""
    return judge(observed, base, thresholds)


def _remember(instance: DetectorContext, key: tuple[Any, ...], observed: int, row: TrendAlertRow) -> None:
    cache_of(instance)[("recorded", *key)] = (observed, row.id)


def _may_alert(instance: DetectorContext, dimension: str, value: str, day: date, observed: int) -> bool:
    """Whether judging this series may touch an alert: it was recorded today, or its cached baseline
    allows an alert at this count (`min_ratio` times the expectation: the cheap half of `judge`); no
    baseline cached: not known, so yes."""
    cache = cache_of(instance)
    if ("recorded", "rise", dimension, value, day) in cache:
        return True
    base = cache.get((dimension, value, day), False)
    if base is False:
        return True
    return base is not None and observed >= DEFAULT_THRESHOLDS.min_ratio * base.expected


def _judgeable(dimension: str, observed: int, thresholds: Thresholds) -> bool:
    """Whether a series is judged at all at this count (a detected dimension, at least the minimum count)."""
    return dimension not in NOT_DETECTED and observed >= thresholds.min_count


def _rising(observed: int, base: Baseline | None, thresholds: Thresholds) -> Verdict | None:
    """The verdict on a count against its baseline when it alerts, else None. Under `min_ratio` times the
    expectation it is not an alert whatever the tail: that probability (a sum of `observed` terms: 1,800 for
    "all reports" on a day at a million reports) is not worked out for every report of the series."""
    if base is None or observed < thresholds.min_ratio * base.expected:
        return None
    verdict = _judged(observed, base, thresholds)
    return verdict if verdict.alert else None


def check_rise(instance: DetectorContext, session: Session, dimension: str, value: str, day: date, observed: int,
               thresholds: Thresholds = DEFAULT_THRESHOLDS, report_id: int | None = None) -> bool:
    """Judge one series on one day (`report_id`: the report just counted in it, if any); True when an
    alert was raised or continued."""
    if not _judgeable(dimension, observed, thresholds):
        return False
    if _touch_recent(instance, session, ("rise", dimension, value, day), observed, report_id):
        return True
    base = _baseline(instance, session, dimension, value, day)
    verdict = _rising(observed, base, thresholds)
    if base is None or verdict is None:
        return False
    ids = session.info.get(_IDS, {}).pop((dimension, value, day), None)
    if ids is None:
        ids = list(session.execute(select(TrendFactRow.report_id).where(
            TrendFactRow.dimension == dimension, TrendFactRow.value == value, TrendFactRow.day == day)
            .order_by(TrendFactRow.report_id).limit(MAX_REPORT_IDS)).scalars())
    details = {"baseline": base.describe(), "p_value": verdict.p_value, "level": round(base.level, 2),
               "season": round(base.season, 3), "variance": round(base.variance, 2)}
    row = _record(instance, session, "rise", dimension, value, since=day, day=day, observed=observed,
                  expected=verdict.expected, details=details, report_ids=ids)
    _remember(instance, ("rise", dimension, value, day), observed, row)
    return True


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return datetime.combine(first, time(), UTC), datetime.combine(last + timedelta(days=1), time(), UTC)


def _holders(session: Session, kind: str, value: str, first: date, last: date) -> list[tuple[int, int, datetime]]:
    """(report, source, received) of the reports received in these days that carry the identifier."""
    low, high = _day_bounds(first, last)
    if kind == FILE_HASH:
        query = (select(ReportRow.id, func.coalesce(ReportRow.api_account_id, 0), ReportRow.received_at)
                 .join(ReportFileRow, ReportFileRow.report_id == ReportRow.id).where(ReportFileRow.sha256 == value))
    else:
        query = (select(ReportRow.id, func.coalesce(ReportRow.api_account_id, 0), ReportRow.received_at)
                 .join(IdentifierRow, IdentifierRow.report_id == ReportRow.id)
                 .where(IdentifierRow.kind == kind, IdentifierRow.value == value))
    rows = session.execute(query.where(ReportRow.received_at >= low, ReportRow.received_at < high)
                           .distinct()).all()
    return sorted({(int(r), int(s), at) for r, s, at in rows if at is not None})


def check_identifier(instance: DetectorContext, session: Session, kind: str, value: str, day: date,
                     thresholds: IdentifierThresholds = DEFAULT_IDENTIFIER_THRESHOLDS, report_id: int | None = None) -> bool:
    """Judge one identifier over the window to `day`; True when an alert was raised or continued."""
    first = day - timedelta(days=thresholds.window_days - 1)
    holders = _holders(session, kind, value, first, day)
    reports = sorted({h[0] for h in holders})
    sources = {h[1] for h in holders}
    if len(reports) < thresholds.min_reports or len(sources) < thresholds.min_sources:
        return False
    prior = len({h[0] for h in _holders(session, kind, value, first - timedelta(days=thresholds.prior_days),
                                        first - timedelta(days=1))})
    expected = prior * thresholds.window_days / thresholds.prior_days
    if len(reports) < thresholds.min_ratio * max(1.0, expected):
        return False
    if _touch_recent(instance, session, ("identifier", kind, value, day), len(reports), report_id):
        return True
    since = min(h[2] for h in holders).date()
    details = {"baseline": f"{prior} report{'s' if prior != 1 else ''} in the {thresholds.prior_days} days before "
                           f"the last {thresholds.window_days}",
               "sources": len(sources), "window_days": thresholds.window_days}
    row = _record(instance, session, "identifier", kind, value, since=since, day=day, observed=len(reports),
                  expected=expected, details=details, report_ids=reports[:MAX_REPORT_IDS])
    _remember(instance, ("identifier", kind, value, day), len(reports), row)
    return True


def _candidates(session: Session, report_id: int, day: date,
                thresholds: IdentifierThresholds = DEFAULT_IDENTIFIER_THRESHOLDS) -> list[tuple[str, str]]:
    """The report's watched identifiers and file hashes carried by at least `min_reports` reports in the
    window to `day` (one statement): an identifier held by fewer cannot alert, so it is not judged."""
    low, high = _day_bounds(day - timedelta(days=thresholds.window_days - 1), day)
    # sent as compiled once, straight to the driver: through the ORM's execution the call cost 0.3 ms of CPU
    # where the server runs the statement in 0.09 ms
    [found] = read_together(session, [(_candidates_statement(), {
        "report": report_id, "low": low, "high": high, "least": thresholds.min_reports})])
    return sorted({(str(kind), str(value)) for kind, value in found if value})


@cache
def _candidates_statement() -> CompoundSelect[Any]:
    """`_candidates`' statement, built once (building it costs more than running it)."""
    report_id: BindParameter[int] = bindparam("report")
    low: BindParameter[datetime] = bindparam("low")
    high: BindParameter[datetime] = bindparam("high")
    least: BindParameter[int] = bindparam("least")
    same = aliased(IdentifierRow)
    identifiers = (
        select(IdentifierRow.kind, IdentifierRow.value)
        .join(same, and_(same.kind == IdentifierRow.kind, same.value == IdentifierRow.value))
        .join(ReportRow, ReportRow.id == same.report_id)
        .where(IdentifierRow.report_id == report_id,
               or_(*(IdentifierRow.kind == kind for kind in WATCHED_KINDS)),  # no IN list: read_together's SQL is fixed
               ReportRow.received_at >= low, ReportRow.received_at < high)
        .group_by(IdentifierRow.kind, IdentifierRow.value)
        .having(func.count(func.distinct(same.report_id)) >= least))
    file = aliased(ReportFileRow)
    hashes = (
        select(literal(FILE_HASH, String(30)), ReportFileRow.sha256)
        .join(file, file.sha256 == ReportFileRow.sha256)
        .join(ReportRow, ReportRow.id == file.report_id)
        .where(ReportFileRow.report_id == report_id, ReportFileRow.sha256.is_not(None),
               ReportRow.received_at >= low, ReportRow.received_at < high)
        .group_by(ReportFileRow.sha256)
        .having(func.count(func.distinct(file.report_id)) >= least))
    return union_all(identifiers, hashes)


def check_report(instance: DetectorContext, session: Session, report_id: int, day: date, facts: Iterable[Fact],
                 counts: dict[Fact, int] | None = None) -> int:
    """Judge the series this report was counted in, on its day, and its identifiers; returns alerts touched.
    `counts`: the day's counts the caller just wrote (count_report's); series not in it are read."""
    wanted = {(d, v) for d, v in facts if d not in NOT_DETECTED}
    if not wanted:
        return 0
    known = {key: count for key, count in (counts or {}).items() if key in wanted}
    series = [(d, v, c) for (d, v), c in known.items() if c >= DEFAULT_THRESHOLDS.min_count]
    unknown = wanted - set(known)
    if unknown:  # a report counted before (a rerun): its counts were not written now, so they are read
        series += [(d, v, c) for d, v, c in session.execute(
            select(TrendCountRow.dimension, TrendCountRow.value, TrendCountRow.count).where(
                TrendCountRow.day == day, TrendCountRow.dimension.in_(sorted({d for d, _ in unknown})),
                TrendCountRow.count >= DEFAULT_THRESHOLDS.min_count)).all() if (d, v) in unknown]
    # the baselines this report's series are judged against, read together (the first report to bring a
    # series to the minimum count on a day reads it; later ones find it cached)
    _read_baselines(instance, session, [(d, v) for d, v, _ in series], day)
    candidates = _candidates(session, report_id, day)
    alerting = [("rise", d, v) for d, v, c in series if _may_alert(instance, d, v, day, c)]
    alerting += [("identifier", kind, value) for kind, value in candidates]
    if alerting:  # the alerts they may continue, read together
        _read_alerts(session, day, alerting)
        # the reports of the series whose alert will be recorded again (not only brought up to date), read
        # together: one statement, not one a series (a surge's report judges a dozen)
        _read_ids(session, day, [(d, v) for d, v, c in series if _will_record(instance, session, d, v, day, c, report_id)])
    touched = 0
    # the alerts changed are written once, at the end, not before each read that follows a change
    with session.no_autoflush:
        for dimension, value, count in sorted(series):
            if check_rise(instance, session, dimension, value, day, count, report_id=report_id):
                touched += 1
        for kind, value in candidates:
            if check_identifier(instance, session, kind, value, day, report_id=report_id):
                touched += 1
    session.info.pop(_IDS, None)
    return touched


_IDS = "trends.ids"  # in session.info: (dimension, value, day) -> the series' reports, read by check_report


def _will_record(instance: DetectorContext, session: Session, dimension: str, value: str, day: date, observed: int,
                 report_id: int) -> bool:
    """Whether check_rise will record this series' alert with its reports (as check_rise decides it, nothing
    written): it alerts, and is not only brought up to date by `_touch_recent`."""
    thresholds = DEFAULT_THRESHOLDS
    if not _judgeable(dimension, observed, thresholds) or not _may_alert(instance, dimension, value, day, observed):
        return False
    if _rising(observed, cache_of(instance).get((dimension, value, day)), thresholds) is None:
        return False
    return _recent(instance, session, ("rise", dimension, value, day), observed, report_id) is None


def _read_ids(session: Session, day: date, series: list[tuple[str, str]]) -> None:
    """The reports of these series on `day` (the first MAX_REPORT_IDS of each, by id) into the session, for
    check_rise."""
    found: dict[tuple[str, str, date], list[int]] = session.info.setdefault(_IDS, {})
    missing = sorted({key for key in series if (*key, day) not in found})
    for first in range(0, len(missing), 200):
        chunk = missing[first:first + 200]
        ids: dict[tuple[str, str], list[int]] = {key: [] for key in chunk}
        for dimension, value, report_id in session.execute(select(
                TrendFactRow.dimension, TrendFactRow.value, TrendFactRow.report_id).where(
                TrendFactRow.day == day, tuple_(TrendFactRow.dimension, TrendFactRow.value).in_(chunk))
                .order_by(TrendFactRow.dimension, TrendFactRow.value, TrendFactRow.report_id)):
            if len(ids[(dimension, value)]) < MAX_REPORT_IDS:
                ids[(dimension, value)].append(report_id)
        for (dimension, value), listed in ids.items():
            found[(dimension, value, day)] = listed


def detect_day(instance: DetectorContext, session: Session, day: date) -> int:
    """The daily run: every series that counted enough on `day`, and every watched identifier seen in the
    7 days to it. Returns the alerts raised or continued."""
    touched = 0
    series = [(d, v, c) for d, v, c in session.execute(select(
        TrendCountRow.dimension, TrendCountRow.value, TrendCountRow.count).where(
        TrendCountRow.day == day, TrendCountRow.count >= DEFAULT_THRESHOLDS.min_count)
        .order_by(TrendCountRow.dimension, TrendCountRow.value)).all()]
    _read_baselines(instance, session, [(d, v) for d, v, _ in series if d not in NOT_DETECTED], day)
    for dimension, value, count in series:
        if check_rise(instance, session, dimension, value, day, count):
            touched += 1
    thresholds = DEFAULT_IDENTIFIER_THRESHOLDS
    low, high = _day_bounds(day - timedelta(days=thresholds.window_days - 1), day)
    candidates: list[tuple[str, str]] = [(k, v) for k, v in session.execute(
        select(IdentifierRow.kind, IdentifierRow.value).join(ReportRow, ReportRow.id == IdentifierRow.report_id)
        .where(IdentifierRow.kind.in_(WATCHED_KINDS), ReportRow.received_at >= low, ReportRow.received_at < high)
        .group_by(IdentifierRow.kind, IdentifierRow.value)
        .having(func.count(func.distinct(IdentifierRow.report_id)) >= thresholds.min_reports))]
    candidates += [(FILE_HASH, h) for h in session.execute(
        select(ReportFileRow.sha256).join(ReportRow, ReportRow.id == ReportFileRow.report_id)
        .where(ReportFileRow.sha256.is_not(None), ReportRow.received_at >= low, ReportRow.received_at < high)
        .group_by(ReportFileRow.sha256)
        .having(func.count(func.distinct(ReportFileRow.report_id)) >= thresholds.min_reports)).scalars() if h]
    for kind, value in sorted(candidates):
        if check_identifier(instance, session, kind, value, day, thresholds):
            touched += 1
    return touched
