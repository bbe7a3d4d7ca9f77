"""Fixtures for the jurisdiction tests: a small MaxMind-format database built here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # mmdb_writer

from mmdb_writer import city_record, write_mmdb  # noqa: E402

# Documentation ranges only (RFC 5737, RFC 3849): invented places for invented reports.
TEST_NETWORKS = {
    "203.0.113.0/25": city_record("US", "United States", "TX", "Texas", "Austin", radius=20),
    "203.0.113.128/25": city_record("US", "United States", "OK", "Oklahoma", "Tulsa", radius=50),
    "198.51.100.0/24": city_record("GB", "United Kingdom", "ENG", "England", "Leeds", radius=10),
    "192.0.2.0/25": city_record("AU", "Australia", "NSW", "New South Wales", "Sydney", radius=5),
    "2001:db8:ca::/48": city_record("CA", "Canada", "ON", "Ontario", "Toronto", radius=100),
    "192.0.2.128/25": {"country": {"iso_code": "PH", "names": {"en": "Philippines"}}},  # a Country-only record
}


@pytest.fixture(scope="session")
def geoip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mmdb(tmp_path_factory.mktemp("geoip") / "test-city.mmdb", TEST_NETWORKS)
