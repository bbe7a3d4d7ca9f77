"""Where a URL is hosted: its host resolved (a fake resolver here), each address placed in a country
and a network by MaxMind-format databases built in the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from takedown_support import FakeResolver

from tipline.jurisdiction.geoip import GeoIPDatabase, GeoIPDatabaseError
from tipline.takedown.hosting import NetworkDatabase, host_of, is_public, locate, open_networks


@pytest.fixture
def databases(country_path: Path, asn_path: Path) -> tuple[GeoIPDatabase, NetworkDatabase]:
    return GeoIPDatabase(country_path), NetworkDatabase(asn_path)


def test_a_url_is_placed_by_its_hosts_addresses(databases: tuple[GeoIPDatabase, NetworkDatabase]) -> None:
    countries, networks = databases
    found = locate("https://files.example/f/abc123", FakeResolver(), countries, networks)
    assert found.error is None and found.host == "files.example"
    assert found.country == "GB" and found.asn == 64501 and found.organisation == "Example Hosting Ltd"
    (address,) = found.addresses
    assert address.address == "198.51.100.7" and address.network == "198.51.100.0/24"


def test_every_address_of_a_round_robin_name_is_kept(databases: tuple[GeoIPDatabase, NetworkDatabase]) -> None:
    found = locate("http://CDN.Example.NET:8080/a?b=c", FakeResolver(), *databases)
    assert found.host == "cdn.example.net"
    assert [a.address for a in found.addresses] == ["203.0.113.10", "203.0.113.11"]
    assert found.country == "US" and found.asn == 64500


def test_an_ip_address_in_the_url_is_not_resolved(databases: tuple[GeoIPDatabase, NetworkDatabase]) -> None:
    resolver = FakeResolver()
    found = locate("http://192.0.2.44/x", resolver, *databases)
    assert resolver.asked == [] and found.country == "AU" and found.organisation == "Example Cloud Pty"


def test_a_name_that_does_not_resolve_says_so(databases: tuple[GeoIPDatabase, NetworkDatabase]) -> None:
    found = locate("https://gone.example/x", FakeResolver(), *databases)
    assert found.addresses == () and found.country is None
    assert found.error == "gone.example could not be resolved (Name or service not known)"


def test_private_addresses_are_not_placed(databases: tuple[GeoIPDatabase, NetworkDatabase]) -> None:
    found = locate("http://lan.example/", FakeResolver(), *databases)
    (address,) = found.addresses
    assert not address.public and address.country is None and found.country is None
    assert not is_public("127.0.0.1") and not is_public("::ffff:192.168.1.1") and is_public("198.51.100.7")


def test_without_databases_the_addresses_are_still_found() -> None:
    found = locate("https://files.example/f", FakeResolver(), None, None)
    assert [a.address for a in found.addresses] == ["198.51.100.7"] and found.country is None and found.asn is None


@pytest.mark.parametrize(("url", "host"), [
    ("https://Files.Example./a", "files.example"),
    ("files.example/path", "files.example"),
    ("http://[2001:db8::1]:80/", "2001:db8::1"),
    ("https://bücher.example/", "xn--bcher-kva.example"),
])
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize("url", ["https:///nothing", "http://" + "a" * 64 + ".example/", "http://[::1/"])
def test_host_of_refuses_what_is_not_a_host(url: str) -> None:
    with pytest.raises(ValueError):
        host_of(url)


def test_an_asn_database_that_is_not_one_is_refused_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "asn.mmdb"
    bad.write_bytes(b"not a database")
    with pytest.raises(GeoIPDatabaseError, match="is not a usable MaxMind DB file"):
        NetworkDatabase(bad)
    with pytest.raises(GeoIPDatabaseError, match="TIPLINE_ASN_DATABASE names .* which does not exist"):
        open_networks({"TIPLINE_ASN_DATABASE": str(tmp_path / "missing.mmdb")})
    assert open_networks({}) is None
