"""Trends: a dimension over time, year on year, the top movers, the reports behind any bar; emerging-threat
alerts to acknowledge or dismiss; and the published figures as a download. Every chart is drawn on the
server (tipline.web.charts) with its numbers as a table and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.domain.incident import INCIDENT_SHORT_NAMES, IncidentType
from tipline.domain.numbers import INT64_MAX, parse_whole_number
from tipline.domain.roles import Permission, has_permission, reads_reports
from tipline.jurisdiction.places import country_name
from tipline.store.accounts import Principal
from tipline.takedown.figures import removal_times
from tipline.trends import published
from tipline.trends.alerts import STATUSES, AlertNotFound, decide, grouped, list_alerts
from tipline.trends.dimensions import DIMENSIONS, value_label
from tipline.trends.queries import (
    DEFAULT_SPAN,
    OTHER,
    PERIODS,
    Series,
    last_counted_day,
    over_time,
    period_end,
    period_label,
    reports_behind,
    top_movers,
    year_on_year,
)
from tipline.web.auth import allow
from tipline.web.charts import Chart, horizontal_bars, stacked_columns
from tipline.web.charts import Series as ChartSeries
from tipline.web.pages import render
from tipline.web.params import Id
from tipline.web.transaction import InTransaction

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(allow(Permission.REPORT_READ, Permission.REPORT_SUPERVISE,
                                            Permission.ACCOUNTS_MANAGE))]
Reader = Annotated[Principal, Depends(allow(Permission.REPORT_READ))]
Supervisor = Annotated[Principal, Depends(allow(Permission.REPORT_SUPERVISE))]
MAX_SPAN_DAYS = 20 * 366


def _choice(value: str | None, allowed: dict[str, str], default: str) -> str:
    if value is None or value == "":
        return default
    if value not in allowed:
        raise HTTPException(400, f"unknown choice {value!r}: one of {', '.join(allowed)}")
    return value


def _day(value: str | None, default: date, name: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}: give a date as YYYY-MM-DD") from None


def _selection(session: Session, dimension: str | None, period: str | None, first: str | None,
               last: str | None) -> tuple[str, str, date, date]:
    dimension = _choice(dimension, DIMENSIONS, "annotation")
    period = _choice(period, PERIODS, "month")
    newest = last_counted_day(session) or utc_now().date()
    end = _day(last, max(newest, utc_now().date()), "to")
    start = _day(first, end - timedelta(days=DEFAULT_SPAN[period] - 1), "from")
    if start > end or (end - start).days > MAX_SPAN_DAYS:
        raise HTTPException(400, "from must be before to, at most 20 years apart")
    return dimension, period, start, end


def _css(index: int, value: str) -> str:
    return "trend-other" if value == OTHER else f"trend-{index % 6}"


def _label(dimension: str, value: str) -> str:
    return "Other values" if value == OTHER else value_label(dimension, value)


def series_chart(series: Series, dimension: str, period: str, first: date, last: date, *, drill: bool) -> Chart:
    """`drill`: each bar leads to the reports behind it (for people who read reports)."""
    legend = [ChartSeries(v, _label(dimension, v), _css(i, v)) for i, v in enumerate(series.values)]

    def link(position: int, value: str) -> str:
        start = max(first, series.periods[position])
        end = min(last, period_end(series.periods[position], period))
        if value == OTHER:
            return "#" + "series-table"
        return "/trends/reports?" + urlencode({"dimension": dimension, "value": value, "from": start.isoformat(),
                                               "to": end.isoformat()})

    return stacked_columns(
        "chart-trend", [period_label(p, period) for p in series.periods], legend, series.counts,
        noun=("count", "counts"), period=f"of {DIMENSIONS[dimension].lower()} by {period}",
        peak_word="most in", empty="Nothing was counted in this range.", category_heading=PERIODS[period],
        links=link if drill else None)


def movers_chart(movers: list[dict[str, Any]]) -> Chart:
    items = [(ChartSeries(f"{m['dimension']}:{m['value']}",
                          f"{DIMENSIONS[m['dimension']]}: {value_label(m['dimension'], m['value'])}"[:60],
                          f"trend-{i % 6}"), m["change"]) for i, m in enumerate(movers)]
    return horizontal_bars("chart-movers", items, noun=("more report", "more reports"),
                           period="in the last 28 days than in the 28 before", empty="Nothing rose in the last 28 days.",
                           headings=("What", "Increase"))


def _context(session: Session, dimension: str, period: str, first: date, last: date,
             drill: bool = False) -> dict[str, Any]:
    series = over_time(session, dimension, period, first, last)
    yoy = year_on_year(session, dimension, last)
    movers = top_movers(session, last)
    return {"series": series, "yoy": yoy, "movers": movers,
            "series_chart": series_chart(series, dimension, period, first, last, drill=drill),
            "movers_chart": movers_chart(movers)}


@router.get("/trends", response_class=HTMLResponse)
def trends_page(request: Request, principal: Viewer, work: InTransaction, dimension: str | None = None,
                period: str | None = None,
                first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                last: Annotated[str | None, Query(alias="to", max_length=10)] = None) -> HTMLResponse:
    dimension, period, start, end = _selection(work.session, dimension, period, first, last)
    query = urlencode({"dimension": dimension, "period": period, "from": start.isoformat(), "to": end.isoformat()})
    open_alerts = grouped(list_alerts(work.session, ("open",), limit=100))
    since = datetime.combine(end - timedelta(days=364), time.min, tzinfo=UTC)
    removal = [(country_name(f.group) if len(f.group) == 2 else f.group, f)
               for f in removal_times(work.session, "country", since=since)]
    return render(request, "trends.html", {
        "title": "Trends", "dimensions": DIMENSIONS, "periods": PERIODS, "dimension": dimension, "period": period,
        "first": start, "last": end, "query": query, "label": lambda v: _label(dimension, v),
        "period_label": lambda p: period_label(p, period), "open_alerts": open_alerts,
        "reads_reports": reads_reports(principal.role), "removal_by_country": removal,
        **_context(work.session, dimension, period, start, end, drill=reads_reports(principal.role)),
    })


def _csv(rows: list[list[Any]], name: str) -> Response:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/trends/data.csv")
def trends_csv(principal: Viewer, work: InTransaction, table: str = "series", dimension: str | None = None,
               period: str | None = None, first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
               last: Annotated[str | None, Query(alias="to", max_length=10)] = None) -> Response:
    table = _choice(table, {"series": "", "yoy": "", "movers": ""}, "series")
    dimension, period, start, end = _selection(work.session, dimension, period, first, last)
    context = _context(work.session, dimension, period, start, end)
    if table == "series":
        series: Series = context["series"]
        rows: list[list[Any]] = [["period_start", "value", "reports"]]
        rows += [[p.isoformat(), v, series.counts[v][i]] for i, p in enumerate(series.periods) for v in series.values]
    elif table == "yoy":
        rows = [["value", "last_365_days", "365_days_before", "change_percent"]]
        rows += [[r["value"], r["this"], r["before"], "" if r["change"] is None else r["change"]] for r in context["yoy"]]
    else:
        rows = [["dimension", "value", "last_28_days", "28_days_before", "increase"]]
        rows += [[m["dimension"], m["value"], m["recent"], m["before"], m["change"]] for m in context["movers"]]
    return _csv(rows, f"trends-{table}-{dimension}-{start}-{end}")


@router.get("/trends/reports", response_class=HTMLResponse)
def reports_behind_bar(request: Request, principal: Reader, work: InTransaction,
                       dimension: str = Query(max_length=40),
                       value: str = Query(max_length=200),
                       first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                       last: Annotated[str | None, Query(alias="to", max_length=10)] = None) -> HTMLResponse:
    dimension = _choice(dimension, DIMENSIONS, "all")
    end = _day(last, utc_now().date(), "to")
    start = _day(first, end, "from")
    total, rows = reports_behind(work.session, dimension, value, start, end)
    short = {t.value: INCIDENT_SHORT_NAMES[t] for t in IncidentType}
    return render(request, "trends_reports.html", {
        "title": "Reports behind a count", "what": f"{DIMENSIONS[dimension]}: {value_label(dimension, value)}",
        "first": start, "last": end, "total": total, "rows": rows, "short": short,
        "back": "/trends?" + urlencode({"dimension": dimension})})


@router.get("/trends/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, principal: Reader, work: InTransaction, status: str | None = None) -> HTMLResponse:
    status = _choice(status, {**{s: s for s in STATUSES}, "all": "all"}, "open")
    alerts = grouped(list_alerts(work.session, STATUSES if status == "all" else (status,)))
    return render(request, "trends_alerts.html", {
        "title": "Emerging threats", "alerts": alerts, "status": status, "statuses": STATUSES,
        "can_decide": has_permission(principal.role, Permission.REPORT_SUPERVISE), "notice": request.query_params.get("done")})


@router.post("/trends/alerts/{alert_id}/decide")
def decide_alert(principal: Supervisor, work: InTransaction, alert_id: Id,
                 action: Annotated[str, Form(max_length=20)] = "",
                 note: Annotated[str, Form(max_length=2000)] = "",
                 related: Annotated[list[str] | None, Form(max_length=20)] = None) -> Response:
    """Acknowledge or dismiss an alert and the rises listed with it (`related`: their numbers); an unknown
    number changes none of them (the refusal rolls the transaction back)."""
    if action not in ("acknowledge", "dismiss"):
        raise HTTPException(400, "choose acknowledge or dismiss")
    others = [parse_whole_number(r) for r in (related or [])[:100]]
    if any(o is None or not 1 <= o <= INT64_MAX for o in others):
        raise HTTPException(400, "related: alert numbers only")
    try:
        decide(work.instance, work.session, alert_id, action, work.actor, note)
        for other in others:
            decide(work.instance, work.session, int(other or 0), action, work.actor, note)
    except AlertNotFound:
        raise HTTPException(404, "there is no such alert") from None
    return RedirectResponse(f"/trends/alerts?done={action}", status_code=303)


@router.get("/trends/figures")
def figures_download(principal: Viewer, work: InTransaction,
                     first: Annotated[str, Query(alias="from", max_length=10)],
                     last: Annotated[str, Query(alias="to", max_length=10)],
                     by: Annotated[list[str] | None, Query(max_length=40)] = None,
                     period: str = "year", fmt: Annotated[str, Query(alias="format", max_length=4)] = "csv",
                     threshold: Annotated[int, Query(ge=1, le=1000)] = 10) -> Response:
    start, end = _day(first, utc_now().date(), "from"), _day(last, utc_now().date(), "to")
    if start > end or (end - start).days > MAX_SPAN_DAYS:
        raise HTTPException(400, "from must be before to, at most 20 years apart")
    dimensions = [_choice(d, DIMENSIONS, "incident_type") for d in (by or ["incident_type"])][:10]
    period = _choice(period, {"year": "", "month": "", "all": ""}, "year")
    fmt = _choice(fmt, {"csv": "", "json": ""}, "csv")
    document = published.report(work.session, start, end, dimensions, by=period, threshold=threshold)
    name = f"tipline-figures-{start}-{end}"
    if fmt == "json":
        return Response(published.as_json(document), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    return Response(published.as_csv(document), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
