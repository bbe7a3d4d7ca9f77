"""Where a URL is hosted: the host's IP addresses (a resolver; the system's DNS by default), and for
each address its country (the MaxMind-format Country or City database jurisdiction uses,
TIPLINE_GEOIP_DATABASE) and its network: the autonomous system's number and organisation (a
MaxMind-format ASN database, TIPLINE_ASN_DATABASE). Nothing here is called from a web request: the
worker's locate job (tipline.takedown.service) does it."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import maxminddb
from maxminddb.errors import InvalidDatabaseError

from tipline.jurisdiction.geoip import GeoIPDatabase, GeoIPDatabaseError, open_named

ASN_SETTING = "TIPLINE_ASN_DATABASE"
RESOLVE_SETTING = "TIPLINE_RESOLVE_HOSTS"
MAX_ADDRESSES = 16  # of one host; a round-robin name with more is described by its first 16
MAX_HOST_LENGTH = 253
# Addresses no hosting provider answers for: lookups in the databases would find nothing anyway.
NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8")]


class HostLookupError(Exception):
    """The host's name could not be resolved; the message says why in plain words."""


class Resolver(Protocol):
    """Turns a host name into its IP addresses (tests give a fake one)."""

    def addresses(self, host: str) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo)."""

    def addresses(self, host: str) -> list[str]:
        try:
            answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise HostLookupError(f"{host} could not be resolved ({error.strerror or error})") from None
        except (UnicodeError, OSError) as error:
            raise HostLookupError(f"{host} could not be resolved ({error})") from None
        seen: list[str] = []
        for *_, sockaddr in answers:
            address = str(sockaddr[0])
            if address not in seen:
                seen.append(address)
        return seen


resolver_for_tests: Resolver | None = None
"""Tests replace this with a fake resolver; everything else uses the system's."""


def configured_resolver() -> Resolver:
    return resolver_for_tests or SystemResolver()


def resolve_hosts_automatically(extra: dict[str, str]) -> bool:
    """TIPLINE_RESOLVE_HOSTS: look up the hosting of every report's URLs without a person asking (off)."""
    return (extra.get(RESOLVE_SETTING) or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Network:
    asn: int | None
    organisation: str | None
    prefix: str | None


class NetworkDatabase:
    """An open MaxMind-format ASN database (GeoLite2-ASN or one of its shape)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise GeoIPDatabaseError(f"{ASN_SETTING} names {self.path}, which is not a file")
        try:
            self._reader = maxminddb.open_database(str(self.path), maxminddb.MODE_MEMORY)
        except PermissionError:
            raise GeoIPDatabaseError(f"{self.path} cannot be read (permission denied)") from None
        except (InvalidDatabaseError, ValueError, OSError, IndexError, TypeError, UnicodeDecodeError) as error:
            raise GeoIPDatabaseError(f"{self.path} is not a usable MaxMind DB file ({error or type(error).__name__}); "
                                     "give the path of a GeoLite2-ASN (or GeoIP2 ISP) .mmdb file") from None
        self._lock = threading.Lock()

    def network(self, address: str) -> Network | None:
        ip = ipaddress.ip_address(address)
        try:
            with self._lock:
                record, prefix = self._reader.get_with_prefix_len(ip)
        except (InvalidDatabaseError, ValueError, IndexError, TypeError, UnicodeDecodeError) as error:
            if isinstance(error, ValueError) and "IPv6" in str(error):
                return None
            raise GeoIPDatabaseError(f"{self.path} is damaged: looking up {ip} failed ({error})") from None
        if not isinstance(record, dict):
            return None
        number = record.get("autonomous_system_number")
        organisation = record.get("autonomous_system_organization") or record.get("organization")
        return Network(int(number) if isinstance(number, int) else None,
                       str(organisation) if organisation else None,
                       str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False)) if prefix else None)

    def close(self) -> None:
        self._reader.close()


def open_networks(extra: dict[str, str]) -> NetworkDatabase | None:
    """The database named by TIPLINE_ASN_DATABASE (None when unset), reopened when the file changes."""
    return open_named(extra, ASN_SETTING, NetworkDatabase)


@dataclass(frozen=True)
class AddressInfo:
    address: str
    public: bool
    country: str | None = None
    asn: int | None = None
    organisation: str | None = None
    network: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "public": self.public, "country": self.country, "asn": self.asn,
                "organisation": self.organisation, "network": self.network}


@dataclass(frozen=True)
class Hosting:
    """Where one URL's host is, as far as the resolver and the databases tell."""

    url: str
    host: str | None
    addresses: tuple[AddressInfo, ...] = field(default=())
    error: str | None = None

    @property
    def country(self) -> str | None:
        """The country most of its public addresses are in (the first address's on a tie)."""
        countries = [a.country for a in self.addresses if a.country]
        return Counter(countries).most_common(1)[0][0] if countries else None

    @property
    def primary(self) -> AddressInfo | None:
        """The first address in the hosting country (or the first address) : whose network is named."""
        country = self.country
        return next((a for a in self.addresses if country and a.country == country),
                    self.addresses[0] if self.addresses else None)

    @property
    def asn(self) -> int | None:
        return self.primary.asn if self.primary else None

    @property
    def organisation(self) -> str | None:
        return self.primary.organisation if self.primary else None


def host_of(url: str) -> str:
    """The host name (lower case, IDNA) or IP address of a URL; ValueError if it has none."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError as error:
        raise ValueError(f"{url!r} is not a URL ({error})") from None
    if not host:
        raise ValueError(f"{url!r} names no host")
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{url!r} has a host name that cannot be written in DNS") from None
    if len(host) > MAX_HOST_LENGTH or any(not 0 < len(label) <= 63 for label in host.split(".")):
        raise ValueError(f"{url!r} has a host name that is not valid in DNS")
    return host


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not any(ip.version == n.version and ip in n for n in NOT_PUBLIC)


def locate(url: str, resolver: Resolver, countries: GeoIPDatabase | None,
           networks: NetworkDatabase | None) -> Hosting:
    """The hosting of one URL. A URL whose host cannot be resolved is returned with the reason."""
    try:
        host = host_of(url)
    except ValueError as error:
        return Hosting(url, None, error=str(error))
    try:
        ipaddress.ip_address(host)
        found = [host]
    except ValueError:
        try:
            found = resolver.addresses(host)
        except HostLookupError as error:
            return Hosting(url, host, error=str(error))
    addresses: list[AddressInfo] = []
    for address in found[:MAX_ADDRESSES]:
        try:
            public = is_public(address)
        except ValueError:
            continue  # a resolver that answers garbage
        if not public:
            addresses.append(AddressInfo(address, False))
            continue
        country = network = None
        if countries is not None:
            place = countries.locate(address)
            country = place.place.country if place else None
        if networks is not None:
            network = networks.network(address)
        addresses.append(AddressInfo(address, True, country, network.asn if network else None,
                                     network.organisation if network else None, network.prefix if network else None))
    if not addresses:
        return Hosting(url, host, error=f"{host} has no address")
    return Hosting(url, host, tuple(addresses))
