"""The supervisor's view: workload, throughput and exposure per analyst, the oldest waiting reports,
escalations, stuck pipeline jobs, and the triage weights (previewed, kept in a history, reset)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tipline.domain.base import utc_now
from tipline.domain.numbers import parse_whole_number
from tipline.domain.roles import Permission
from tipline.pipeline.stages.score_priority import WeightsPreview, preview_weights, rescore_waiting
from tipline.store.accounts import Principal
from tipline.store.analyst_figures import exposure_figures, reviewers, throughput_figures
from tipline.trends.alerts import grouped as grouped_alerts
from tipline.trends.alerts import list_alerts
from tipline.triage import DEFAULT_WEIGHTS, TriageWeights
from tipline.triage.exposure import ExposureTargets
from tipline.triage.queue_health import LEVELS, QueueTargets, cutoffs, judge
from tipline.triage.workload import LONG_DAYS, Throughput, duration_words
from tipline.web.auth import allow
from tipline.web.charts import Chart, Series, horizontal_bars, priority_series, stacked_columns
from tipline.web.pages import render
from tipline.web.routes.exchanges import supervisor_holds
from tipline.web.routes.referral_pages import reminder_context
from tipline.web.routes.takedown_pages import reminders_context as takedown_reminders

router = APIRouter(include_in_schema=False)
Supervisor = Annotated[Principal, Depends(allow(Permission.REPORT_SUPERVISE))]
RESCORE_NOW_LIMIT = 2000
GRANT_ALERT_DAYS = 30
GRANT_NOTICES = {"approved": "Approved: the role is granted.", "refused": "Refused: the role was not granted.",
                 "exchange-released": "Released: the shared hash's matches count again.",
                 "exchange-disabled": "Disabled: the shared hash no longer matches.",
                 "exchange-gone": "That shared hash was not held any more."}
CHART_DAYS = 30
HISTORY_SHOWN = 30


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


def decided_chart(rows: list[Throughput]) -> Chart:
    items = [(Series(r.analyst.username, r.analyst.name or r.analyst.username, "trend-0"), r.decided_30) for r in rows]
    return horizontal_bars("chart-decided", items, noun=("report", "reports"),
                           period=f"decided in the last {LONG_DAYS} days", skip_zero_in_summary=True,
                           empty=f"Nobody decided a report in the last {LONG_DAYS} days.",
                           headings=("Analyst", f"Decided in {LONG_DAYS} days"))


@router.get("/supervisor", response_class=HTMLResponse)
def overview(request: Request, principal: Supervisor) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        counts = instance.review.queue_counts(session)
        targets = QueueTargets.from_settings(instance.settings.extra)
        waiting = {level: n for level, n in counts.get("awaiting_review", {}).items() if level in LEVELS}
        now = utc_now()
        health = judge(waiting, instance.review.overdue_by_priority(session, cutoffs(targets, now)), targets)
        exposure_targets = ExposureTargets.from_settings(instance.settings.extra)
        people = reviewers(session)
        throughput = throughput_figures(session, now, people)
        exposure = exposure_figures(session, now, exposure_targets, people)
        context: dict[str, Any] = {
            "health": health,
            "title": "Supervisor",
            "workload": instance.review.workload(session),
            "throughput": throughput,
            "decided_chart": decided_chart(throughput),
            "duration_words": duration_words,
            "exposure": exposure,
            "exposure_targets": exposure_targets,
            "over_exposed": [(a, e) for a, e in exposure if e.over_limit],
            "counts": counts,
            "received_chart": received_chart(instance.review.received_by_day(session, CHART_DAYS)),
            "waiting_chart": waiting_chart(counts),
            "oldest": instance.review.oldest_waiting(session),
            "escalated": instance.review.escalated(session),
            "jobs": instance.jobs.counts(session),
            "failed_jobs": instance.jobs.failed(session, limit=20),
            "referral_reminders": reminder_context(instance, session),
            "supervisor_extra": ["_trend_alerts.html", "referral_reminders.html", "_exchange_holds.html",
                                 "_takedown_reminders.html"],
            **supervisor_holds(session, instance),
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


def _label(name: str) -> str:
    info = TriageWeights.model_fields.get(name)
    return (info.description if info is not None and info.description else name.replace("_", " ")).rstrip(".")


def change_words(name: str, old: Any, new: Any) -> str:
    """One setting's change in plain words: "Score at which a report is P1 (immediate): 80 → 70"."""
    if name == "immediate":
        added = [_label(n) for n in new if n not in old]
        removed = [_label(n) for n in old if n not in new]
        parts = ([f"now immediate: {'; '.join(added)}"] if added else []) + (
            [f"no longer immediate: {'; '.join(removed)}"] if removed else [])
        return "Reasons that make a report P1 whatever its score: " + ", ".join(parts or ["unchanged"])
    return f"{_label(name)}: {old} → {new}"


def _history(session: Any, instance: Any) -> list[dict[str, Any]]:
    return [{"at": c.at, "by": c.by, "reset": c.reset,
             "changes": [change_words(name, old, new) for name, (old, new) in c.changed.items()]}
            for c in instance.review.weights_history(session, limit=HISTORY_SHOWN)]


def _weights_page(request: Request, weights: TriageWeights, *, errors: list[str] | None = None,
                  preview: WeightsPreview | None = None, resetting: bool = False, status: int = 200) -> HTMLResponse:
    instance = request.app.state.instance
    fields = [(name, info.description, getattr(weights, name)) for name, info in TriageWeights.model_fields.items()
              if name != "immediate"]
    reasons = [name for name, _, _ in fields if not name.endswith("_from") and not name.endswith("_cap")
               and not name.endswith("_per_report") and name != "waiting_per_day"]
    with instance.db.transaction() as session:
        history = _history(session, instance)
    query = request.query_params
    return render(request, "triage_weights.html", {
        "title": "Triage weights", "fields": fields, "reasons": reasons, "immediate": set(weights.immediate),
        "errors": errors or [], "preview": preview, "resetting": resetting, "history": history,
        "p1_target": QueueTargets.from_settings(instance.settings.extra).p1_share,
        "saved": parse_whole_number(query.get("saved", ""), 0), "was_reset": query.get("reset") == "1",
        "unchanged": query.get("unchanged") == "1", "levels": LEVELS,
    }, status_code=status)


def _weights_from(form: Any) -> tuple[TriageWeights | None, dict[str, Any], list[str]]:
    """The weights a form gives, or what it gave and what is wrong with it (in plain words)."""
    values: dict[str, Any] = {}
    errors = []
    for name in TriageWeights.model_fields:
        if name == "immediate":
            continue
        raw = str(form.get(name, "")).strip()
        number = parse_whole_number(raw)
        if number is None:
            errors.append(f"{_label(name)}: give a whole number of points (0 or more), not {raw[:20]!r}")
            values[name] = raw[:20]
            continue
        values[name] = number
    values["immediate"] = [str(v) for v in form.getlist("immediate") if str(v) in TriageWeights.model_fields]
    if errors:
        return None, values, errors
    try:
        return TriageWeights.model_validate(values), values, []
    except ValidationError as error:
        for e in error.errors():
            where = _label(str(e["loc"][0])) + ": " if e["loc"] else ""
            message = str(e["msg"]).removeprefix("Value error, ")
            errors.append(where + message[:1].upper() + message[1:])
        return None, values, errors


def _apply(request: Request, principal: Principal, weights: TriageWeights, *, reset: bool) -> Response:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        if instance.review.weights(session) == weights:
            return RedirectResponse("/supervisor/triage?unchanged=1", status_code=303)
        instance.review.set_weights(session, weights, principal.actor, reset=reset)
    with instance.db.transaction() as session:  # score the waiting reports again, each by score_priority.rescore
        rescored = rescore_waiting(instance, session, limit=RESCORE_NOW_LIMIT)
    return RedirectResponse(f"/supervisor/triage?saved={rescored}" + ("&reset=1" if reset else ""), status_code=303)


@router.get("/supervisor/triage", response_class=HTMLResponse)
def weights_form(request: Request, principal: Supervisor) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        weights = instance.review.weights(session)
    return _weights_page(request, weights)


@router.post("/supervisor/triage", response_class=HTMLResponse)
async def save_weights(request: Request, principal: Supervisor) -> Response:
    """Preview new weights (how many waiting reports would change level; nothing is changed) or save them."""
    form = await request.form()
    weights, values, errors = _weights_from(form)
    if weights is None:
        shown = TriageWeights.model_construct(**{**TriageWeights().model_dump(), **values})
        return _weights_page(request, shown, errors=errors, status=400)
    if form.get("action") == "preview":
        instance = request.app.state.instance
        with instance.db.transaction() as session:
            preview = preview_weights(session, weights)
        return _weights_page(request, weights, preview=preview)
    return _apply(request, principal, weights, reset=False)


@router.post("/supervisor/triage/reset", response_class=HTMLResponse)
async def reset_weights(request: Request, principal: Supervisor) -> Response:
    """Back to the shipped defaults: first what that would do, then, confirmed, the reset."""
    form = await request.form()
    if form.get("confirm") != "yes":
        instance = request.app.state.instance
        with instance.db.transaction() as session:
            preview = preview_weights(session, DEFAULT_WEIGHTS)
        return _weights_page(request, DEFAULT_WEIGHTS, preview=preview, resetting=True)
    return _apply(request, principal, DEFAULT_WEIGHTS, reset=True)
