"""Locating IP addresses with a MaxMind-format database (GeoIP2/GeoLite2 City or Country, or any
database in that format with the same record shape) that the operator supplies."""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import maxminddb
from maxminddb.errors import InvalidDatabaseError

from tipline.jurisdiction.places import Place

GEOIP_SETTING = "TIPLINE_GEOIP_DATABASE"


class GeoIPDatabaseError(Exception):
    """The configured database cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class IpLocation:
    place: Place
    accuracy_radius_km: int | None
    network: str | None


class GeoIPDatabase:
    """An open MaxMind DB. Opening checks the file completely enough to fail early and precisely."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise GeoIPDatabaseError(f"{GEOIP_SETTING} names {self.path}, which does not exist")
        if not self.path.is_file():
            raise GeoIPDatabaseError(f"{GEOIP_SETTING} names {self.path}, which is not a file")
        try:
            self._reader = maxminddb.open_database(str(self.path), maxminddb.MODE_MEMORY)
        except PermissionError:
            raise GeoIPDatabaseError(f"{self.path} cannot be read (permission denied)") from None
        except (InvalidDatabaseError, ValueError, OSError, IndexError, TypeError, UnicodeDecodeError) as error:
            raise GeoIPDatabaseError(
                f"{self.path} is not a usable MaxMind DB file ({error or type(error).__name__}); "
                "give the path of a GeoIP2/GeoLite2 City or Country .mmdb file"
            ) from None
        metadata = self._reader.metadata()
        self.database_type = str(metadata.database_type)
        self.build_epoch = int(metadata.build_epoch)
        self._lock = threading.Lock()

    def locate(self, address: str) -> IpLocation | None:
        """Where the database puts `address`, or None if it has no country for it. Raises
        ValueError for text that is not an IP address, GeoIPDatabaseError for a damaged database."""
        ip = ipaddress.ip_address(address.strip().strip("[]"))
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        try:
            with self._lock:
                record, prefix = self._reader.get_with_prefix_len(ip)
        except (InvalidDatabaseError, ValueError, IndexError, TypeError, UnicodeDecodeError) as error:
            if isinstance(error, ValueError) and "IPv6" in str(error):
                return None  # an IPv6 address in an IPv4-only database
            raise GeoIPDatabaseError(f"{self.path} is damaged: looking up {ip} failed ({error})") from None
        if not isinstance(record, dict):
            return None
        return _location(record, str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False)) if prefix else None)

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> GeoIPDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _name(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    names = entry.get("names")
    if isinstance(names, dict):
        name = names.get("en") or next(iter(names.values()), None)
        return str(name) if name else None
    return None


def _location(record: dict[str, Any], network: str | None) -> IpLocation | None:
    country = record.get("country") if isinstance(record.get("country"), dict) else None
    code = country.get("iso_code") if country else None
    if not code:
        registered = record.get("registered_country")
        code = registered.get("iso_code") if isinstance(registered, dict) else None
    if not code:
        return None
    region_name = region_iso = None
    subdivisions = record.get("subdivisions")
    if isinstance(subdivisions, list) and subdivisions and isinstance(subdivisions[0], dict):
        region_iso = subdivisions[0].get("iso_code")
        region_name = _name(subdivisions[0]) or region_iso
    city = _name(record.get("city"))
    location = record.get("location") if isinstance(record.get("location"), dict) else {}
    radius = location.get("accuracy_radius") if location else None
    extra = (str(region_iso),) if region_iso else ()
    return IpLocation(Place.of(str(code), region_name, city, extra_region_names=extra),
                      int(radius) if isinstance(radius, int) else None, network)


_cache: dict[tuple[str, str], tuple[float, object]] = {}
_cache_lock = threading.Lock()
_Database = TypeVar("_Database")


def open_named(settings_extra: dict[str, str], setting: str, opener: Callable[[str], _Database]) -> _Database | None:
    """The MaxMind-format database file named by `setting` (None when unset), opened with `opener` once and reopened
    when the file changes (jurisdiction's country database and takedown's network database share this)."""
    path = (settings_extra.get(setting) or "").strip()
    if not path:
        return None
    resolved = str(Path(path).expanduser().absolute())
    try:
        mtime = os.stat(resolved).st_mtime
    except FileNotFoundError:
        raise GeoIPDatabaseError(f"{setting} names {resolved}, which does not exist") from None
    with _cache_lock:
        cached = _cache.get((setting, resolved))
        if cached is not None and cached[0] == mtime:
            return cast(_Database, cached[1])
        database = opener(resolved)
        _cache[(setting, resolved)] = (mtime, database)
        return database


def open_configured(settings_extra: dict[str, str]) -> GeoIPDatabase | None:
    """The database named by TIPLINE_GEOIP_DATABASE (None when unset), reopened when the file changes."""
    return open_named(settings_extra, GEOIP_SETTING, GeoIPDatabase)
