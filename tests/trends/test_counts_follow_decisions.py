"""A decision made after the pipeline counted a report reaches the counts at the workers' next upkeep."""

from __future__ import annotations

from sqlalchemy import select
from support import sample_content
from websupport import Site, token_of

from tipline.domain.base import utc_now
from tipline.trends.periodic import run_trends_upkeep
from tipline.trends.tables import TrendCountRow


def _decisions(site: Site) -> dict[str, int]:
    with site.instance.db.transaction() as session:
        return {value: count for value, count in session.execute(
            select(TrendCountRow.value, TrendCountRow.count).where(
                TrendCountRow.dimension == "decision", TrendCountRow.day == utc_now().date(),
                TrendCountRow.count > 0))}


def test_a_closed_report_moves_from_undecided_to_its_decision(site: Site) -> None:
    report_id = site.esp("chirp").post("/api/v1/reports", json=sample_content()).json()["reportId"]
    site.drain()
    assert _decisions(site) == {"undecided": 1}
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    assert analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token}).status_code == 303
    closed = analyst.post(f"/reports/{report_id}/close", data={"outcome": "informational", "reason": "no child",
                                                               "csrf_token": token})
    assert closed.status_code == 303
    assert _decisions(site) == {"undecided": 1}  # not yet: the pipeline counted it before the decision
    run_trends_upkeep(site.instance)
    assert _decisions(site) == {"informational": 1}
    run_trends_upkeep(site.instance)
    assert _decisions(site) == {"informational": 1}  # counted once, however often the upkeep runs
