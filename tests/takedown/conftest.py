"""Fixtures for the takedown tests: small MaxMind-format Country and ASN databases built here, a fake
resolver (no test touches DNS), and instances configured with them on each backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # takedown_support
sys.path.insert(0, str(Path(__file__).parent.parent / "jurisdiction"))  # mmdb_writer

from mmdb_writer import write_mmdb  # noqa: E402
from support import build_instance  # noqa: E402
from takedown_support import FakeResolver  # noqa: E402

from tipline.instance import Instance  # noqa: E402
from tipline.takedown import hosting  # noqa: E402

# Documentation ranges only (RFC 5737): invented hosting for invented reports.
COUNTRIES = {
    "198.51.100.0/24": {"country": {"iso_code": "GB", "names": {"en": "United Kingdom"}}},
    "203.0.113.0/24": {"country": {"iso_code": "US", "names": {"en": "United States"}}},
    "192.0.2.0/24": {"country": {"iso_code": "AU", "names": {"en": "Australia"}}},
}
NETWORKS = {
    "198.51.100.0/24": {"autonomous_system_number": 64501, "autonomous_system_organization": "Example Hosting Ltd"},
    "203.0.113.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Transit Inc"},
    "192.0.2.0/24": {"autonomous_system_number": 64502, "autonomous_system_organization": "Example Cloud Pty"},
}


@pytest.fixture(scope="session")
def country_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mmdb(tmp_path_factory.mktemp("geo") / "country.mmdb", COUNTRIES, "Test-Country")


@pytest.fixture(scope="session")
def asn_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mmdb(tmp_path_factory.mktemp("asn") / "asn.mmdb", NETWORKS, "Test-ASN")


@pytest.fixture
def resolver() -> Iterator[FakeResolver]:
    fake = FakeResolver()
    hosting.resolver_for_tests = fake
    try:
        yield fake
    finally:
        hosting.resolver_for_tests = None


@pytest.fixture
def takedown_env(country_path: Path, asn_path: Path) -> dict[str, str]:
    return {"TIPLINE_GEOIP_DATABASE": str(country_path), "TIPLINE_ASN_DATABASE": str(asn_path),
            "TIPLINE_HOTLINE_COUNTRY": "GB"}


@pytest.fixture
def hotline(tmp_path: Path, backend: str, request: pytest.FixtureRequest,
            takedown_env: dict[str, str]) -> Iterator[Instance]:
    """A migrated instance on each backend, for a hotline in the United Kingdom with both databases."""
    built = build_instance(tmp_path / "data", backend, request, **takedown_env)
    yield built
    built.close()
