"""A supervisor is warned when P1 no longer singles out the most urgent reports, and when reports of a
priority have waited past its limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html
import pytest
from support import sample_content
from websupport import Site

from tipline.config import ConfigError
from tipline.domain.base import utc_now
from tipline.triage.queue_health import QueueTargets, cutoffs, judge

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_p1_over_its_target_share_is_flagged() -> None:
    targets = QueueTargets()
    assert judge({"P1": 19, "P2": 50, "P3": 31}, {}, targets).p1_over_target  # 19 % > 10 %
    assert not judge({"P1": 10, "P2": 90}, {}, targets).p1_over_target  # exactly at the target
    assert not judge({}, {}, targets).p1_over_target  # nothing waiting


def test_overdue_levels_are_listed_most_urgent_first() -> None:
    oldest = NOW - timedelta(days=118)
    health = judge({"P1": 3, "P3": 5}, {"P3": (2, NOW - timedelta(days=4)), "P1": (1, oldest)}, QueueTargets())
    assert [(late.level, late.count, late.limit_hours, late.oldest) for late in health.overdue] == [
        ("P1", 1, 4, oldest), ("P3", 2, 72, NOW - timedelta(days=4))]


def test_limits_and_the_target_come_from_the_settings() -> None:
    targets = QueueTargets.from_settings({"TIPLINE_TRIAGE_P1_SHARE": "15", "TIPLINE_QUEUE_LIMITS": "P1=2, p4=720"})
    assert targets.p1_share == 15 and dict(targets.limit_hours) == {"P1": 2, "P2": 24, "P3": 72, "P4": 720}
    assert cutoffs(targets, NOW)["P1"] == NOW - timedelta(hours=2)


@pytest.mark.parametrize(("env", "message"), [
    ({"TIPLINE_TRIAGE_P1_SHARE": "0"}, "TIPLINE_TRIAGE_P1_SHARE"),
    ({"TIPLINE_TRIAGE_P1_SHARE": "ten"}, "TIPLINE_TRIAGE_P1_SHARE"),
    ({"TIPLINE_QUEUE_LIMITS": "P5=3"}, "TIPLINE_QUEUE_LIMITS"),
    ({"TIPLINE_QUEUE_LIMITS": "P1=soon"}, "TIPLINE_QUEUE_LIMITS"),
])
def test_a_setting_that_cannot_be_used_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        QueueTargets.from_settings(env)


def test_the_supervisor_page_shows_what_needs_attention(site: Site) -> None:
    ids = [site.esp("chirp").post("/api/v1/reports", json=sample_content()).json()["reportId"] for _ in range(3)]
    site.drain()
    with site.instance.db.transaction() as session:
        for n, report_id in enumerate(ids):
            row = site.instance.reports.row(session, report_id)
            row.priority = "P1" if n < 2 else "P3"
            row.received_at = utc_now() - timedelta(hours=6 if n == 0 else 1)
    page = lxml.html.fromstring(site.signed_in("supervisor").get("/supervisor").text)
    warning = " ".join(page.get_element_by_id("queue-health").text_content().split())
    assert "67 % of the waiting reports are P1" in warning
    assert "1 P1 report waiting longer than 4 hours" in warning
