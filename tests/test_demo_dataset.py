"""The demo dataset: deterministic, every incident type, public and provider reports, visible links."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from tipline.demo.dataset import generate
from tipline.domain.incident import IncidentType
from tipline.domain.report import ReportSource
from tipline.linking import ExtractionContext, extract_identifiers

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_the_dataset_is_the_same_for_the_same_seed() -> None:
    assert generate(50, NOW, seed=7) == generate(50, NOW, seed=7)
    assert generate(50, NOW, seed=7) != generate(50, NOW, seed=8)


def test_it_covers_every_incident_type_and_both_kinds_of_source() -> None:
    reports = generate(300, NOW)
    assert {r.content.incident_summary.incident_type for r in reports} == set(IncidentType)
    sources = Counter(r.source for r in reports)
    assert sources[ReportSource.PUBLIC_FORM] >= 20 and sources[ReportSource.ESP_JSON] >= 200
    assert any(r.content.incident_summary.escalate_to_high_priority for r in reports)
    assert all(r.received_at <= NOW and r.received_at >= r.content.incident_summary.incident_date_time for r in reports)


def test_offenders_recur_across_reports_so_links_are_visible() -> None:
    reports = generate(300, NOW)
    holders: dict[tuple[str, str], set[int]] = {}
    for number, report in enumerate(reports):
        for identifier in extract_identifiers(report.content, ExtractionContext()):
            holders.setdefault(identifier.key, set()).add(number)
    shared = [key for key, numbers in holders.items() if len(numbers) > 1]
    assert len(shared) >= 30
    assert max(len(numbers) for numbers in holders.values()) >= 10


def test_contact_details_use_ranges_reserved_for_fiction() -> None:
    for report in generate(120, NOW):
        for identifier in extract_identifiers(report.content, ExtractionContext(include_reporter=True)):
            if identifier.kind.value == "email":
                assert identifier.value.split("@")[1].endswith(("example.com", "example.net", "example.org", ".example"))
            if identifier.kind.value == "ip_address":
                assert identifier.value.startswith(("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:"))
            if identifier.kind.value == "phone":
                assert identifier.value.startswith(("+1202555", "+447700900", "+61491570"))
