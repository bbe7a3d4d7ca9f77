"""The supervisor's view: workload, the oldest waiting reports, escalations, stuck pipeline jobs,
and the triage weights."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tipline.domain.base import utc_now
from tipline.domain.numbers import parse_whole_number
from tipline.domain.roles import Permission
from tipline.pipeline.stages.score_priority import rescore_waiting
from tipline.store.accounts import Principal
from tipline.trends.alerts import grouped as grouped_alerts
from tipline.trends.alerts import list_alerts
from tipline.triage import TriageWeights
from tipline.triage.queue_health import LEVELS, QueueTargets, cutoffs, judge
from tipline.web.auth import allow
from tipline.web.charts import Chart, horizontal_bars, priority_series, stacked_columns
from tipline.web.pages import render
from tipline.web.routes.referral_pages import reminder_context
from tipline.web.routes.takedown_pages import reminders_context as takedown_reminders

router = APIRouter(include_in_schema=False)
Supervisor = Annotated[Principal, Depends(allow(Permission.REPORT_SUPERVISE))]
RESCORE_NOW_LIMIT = 2000
GRANT_ALERT_DAYS = 30
GRANT_NOTICES = {"approved": "Approved: the role is granted.", "refused": "Refused: the role was not granted."}
CHART_DAYS = 30


def received_chart(by_day: dict[date, dict[str, int]]) -> Chart:
    days = list(by_day)
    series = priority_series()
    return stacked_columns(
        "chart-received", [f"{d.day} {d:%b}" for d in days], series,
        {s.key: [by_day[d].get(s.key, 0) for d in days] for s in series},
        noun=("report", "reports"), period=f"received in the last {len(days)} days", peak_word="most on",
        empty=f"No reports were received in the last {len(days)} days.",
        category_heading="Day (UTC)", table_labels=[f"{d:%a} {d.isoformat()}" for d in days])


def waiting_chart(counts: dict[str, dict[str, int]]) -> Chart:
    waiting = counts.get("awaiting_review", {})
    items = [(s, waiting.get(s.key, 0)) for s in priority_series() if s.key != "unscored" or waiting.get(s.key)]
    return horizontal_bars("chart-waiting", items, noun=("report", "reports"), period="waiting for review",
                           empty="Nothing is waiting for review.", headings=("Priority", "Waiting"))


@router.get("/supervisor", response_class=HTMLResponse)
def overview(request: Request, principal: Supervisor) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        counts = instance.review.queue_counts(session)
        targets = QueueTargets.from_settings(instance.settings.extra)
        waiting = {level: n for level, n in counts.get("awaiting_review", {}).items() if level in LEVELS}
        health = judge(waiting, instance.review.overdue_by_priority(session, cutoffs(targets, utc_now())), targets)
        context: dict[str, Any] = {
            "health": health,
            "title": "Supervisor",
            "workload": instance.review.workload(session),
            "counts": counts,
            "received_chart": received_chart(instance.review.received_by_day(session, CHART_DAYS)),
            "waiting_chart": waiting_chart(counts),
            "oldest": instance.review.oldest_waiting(session),
            "escalated": instance.review.escalated(session),
            "jobs": instance.jobs.counts(session),
            "failed_jobs": instance.jobs.failed(session, limit=20),
            "referral_reminders": reminder_context(instance, session),
            "supervisor_extra": ["_trend_alerts.html", "referral_reminders.html", "_takedown_reminders.html"],
            "takedown_reminders": takedown_reminders(instance, session),
            "trend_alerts": grouped_alerts(list_alerts(session, ("open",), limit=100)),
            # an alert: who was given a role that reads reports, and the grants waiting for a decision
            "pending_grants": instance.accounts.pending_grants(session),
            "recent_grants": instance.accounts.recent_grants(session, utc_now() - timedelta(days=GRANT_ALERT_DAYS)),
            "grant_alert_days": GRANT_ALERT_DAYS,
            "me": principal.user_id,
            "notice": GRANT_NOTICES.get(request.query_params.get("notice", "")),
        }
    return render(request, "supervisor.html", context)


def _weights_page(request: Request, weights: TriageWeights, errors: list[str] | None = None, saved: int | None = None,
                  status: int = 200) -> HTMLResponse:
    fields = [(name, info.description, getattr(weights, name)) for name, info in TriageWeights.model_fields.items()
              if name != "immediate"]
    reasons = [name for name, _, _ in fields if not name.endswith("_from") and not name.endswith("_cap")
               and not name.endswith("_per_report") and name != "waiting_per_day"]
    return render(request, "triage_weights.html", {
        "title": "Triage weights", "fields": fields, "reasons": reasons, "immediate": set(weights.immediate),
        "errors": errors or [], "saved": saved,
    }, status_code=status)


@router.get("/supervisor/triage", response_class=HTMLResponse)
def weights_form(request: Request, principal: Supervisor) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        weights = instance.review.weights(session)
    return _weights_page(request, weights)


@router.post("/supervisor/triage", response_class=HTMLResponse)
async def save_weights(request: Request, principal: Supervisor) -> Response:
    form = await request.form()
    values: dict[str, Any] = {}
    errors = []
    for name in TriageWeights.model_fields:
        if name == "immediate":
            continue
        raw = str(form.get(name, "")).strip()
        number = parse_whole_number(raw)
        if number is None:
            errors.append(f"{name}: give a whole number")
            continue
        values[name] = number
    values["immediate"] = [str(v) for v in form.getlist("immediate")]
    try:
        weights = TriageWeights.model_validate(values)
    except ValidationError as error:
        errors += [f"{'.'.join(str(p) for p in e['loc']) or 'weights'}: {e['msg']}" for e in error.errors()]
    if errors:
        shown = TriageWeights.model_construct(**{**TriageWeights().model_dump(), **values})
        return _weights_page(request, shown, errors, status=400)
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        instance.review.set_weights(session, weights, principal.actor)
    with instance.db.transaction() as session:
        rescored = rescore_waiting(instance, session, limit=RESCORE_NOW_LIMIT)
    return RedirectResponse(f"/supervisor/triage?saved={rescored}", status_code=303)
