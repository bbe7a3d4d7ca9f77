"""The issue's "done when": a surge injected through the intake API over the demo's history is reported by
`tipline trends alerts --json` with those reports, as a rise of the annotation and as the shared
identifier, after one pipeline pass; a quiet day raises nothing; the stats report is identical on two
runs and suppresses small cells."""

from __future__ import annotations

import json
from datetime import timedelta

from support import instance_env, run_tipline, sample_content
from websupport import Site

from tipline.demo.history import HistoryPlan, load_history
from tipline.domain.base import utc_now
from tipline.trends.alerts import list_alerts
from tipline.trends.counting import rebuild
from tipline.trends.tables import TrendCountRow

HANDLE = "$surgefund9"


def _tipline(site: Site, *args: str) -> str:
    done = run_tipline(instance_env(site.instance), *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _ordinary(n: int) -> dict:
    content = sample_content()
    content["incidentSummary"] = {"incidentType": "Child Pornography (possession, manufacture, and distribution)",
                                  "platform": "Chirp", "incidentDateTime": "2026-10-15T08:00:00-07:00"}
    content["internetDetails"] = []
    content["personOrUserReported"] = [{"screenName": f"user{n}", "espService": "Chirp"}]
    return content


def _sextortion(n: int) -> dict:
    content = sample_content()
    content["incidentSummary"]["reportAnnotations"] = {"sextortion": True}
    content["internetDetails"] = []
    content["personOrUserReported"] = [{"screenName": f"threatener{n}", "espService": "Chirp"}]
    content["additionalInfo"] = f"The user demanded the child send $200 to {HANDLE} on Cash App."
    return content


def test_a_surge_is_caught_in_one_pass_and_a_quiet_day_raises_nothing(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    yesterday = utc_now().date() - timedelta(days=1)
    history = load_history(site.instance, HistoryPlan(end=yesterday, days=400, per_day=6.0, surge_days=0,
                                                      ring=False))
    assert history["reports"] > 2000
    assert history["alerts"] == 0, "the quiet history's last week raised alerts"

    # A quiet day: a handful of ordinary reports through the intake API and the pipeline.
    for n in range(4):
        assert site.esp("chirp").post("/api/v1/reports", json=_ordinary(n)).status_code == 201
    site.drain()
    assert json.loads(_tipline(site, "trends", "alerts", "--json")) == []

    # The surge: 80 sextortion reports from two providers naming one payment handle, then one pipeline pass.
    surge = []
    for n in range(80):
        response = site.esp("chirp" if n % 2 else "pixelgram").post("/api/v1/reports", json=_sextortion(n))
        assert response.status_code == 201
        surge.append(response.json()["reportId"])
    site.drain()
    alerts = json.loads(_tipline(site, "trends", "alerts", "--json"))
    for alert in alerts:
        assert set(alert) == {"kind", "dimension", "value", "since", "observed", "expected", "report_ids"}
    rise = next(a for a in alerts if (a["kind"], a["dimension"], a["value"]) == ("rise", "annotation", "sextortion"))
    assert rise["since"] == utc_now().date().isoformat()
    assert rise["observed"] >= 80 and rise["expected"] < 20
    assert set(surge) <= set(rise["report_ids"])
    shared = next(a for a in alerts if a["kind"] == "identifier" and a["value"] == "cashapp:" + HANDLE)
    assert shared["dimension"] == "payment" and sorted(shared["report_ids"]) == sorted(surge)
    assert shared["observed"] == 80

    # Counting again changes nothing: the rebuild gives the counts the pipeline kept.
    with site.instance.db.transaction() as session:
        kept = sorted(session.query(TrendCountRow.day, TrendCountRow.dimension, TrendCountRow.value,
                                    TrendCountRow.count).filter(TrendCountRow.count > 0).all())
    rebuild(site.instance)
    with site.instance.db.transaction() as session:
        again = sorted(session.query(TrendCountRow.day, TrendCountRow.dimension, TrendCountRow.value,
                                     TrendCountRow.count).filter(TrendCountRow.count > 0).all())
        assert again == kept
        assert len(list_alerts(session)) == len(alerts)

    # Published figures: the same bytes twice, small cells hidden.
    first, last = (yesterday - timedelta(days=399)).isoformat(), utc_now().date().isoformat()
    args = ("stats", "report", "--from", first, "--to", last, "--by", "incident_type", "--by", "annotation",
            "--period", "month")
    one, two = _tipline(site, *args, "--json"), _tipline(site, *args, "--json")
    assert one == two
    document = json.loads(one)
    cells = [c for t in document["tables"] for r in t["rows"] for c in r["counts"].values()]
    assert "<10" in cells
    assert all(c == "<10" or c == 0 or c >= 10 for c in cells)
    assert any("Suppression" in note for note in document["notes"])
    assert _tipline(site, *args, "--csv") == _tipline(site, *args, "--csv")
