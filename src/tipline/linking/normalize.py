"""Normalising identifiers so that the same email, phone, account, address or device compares equal."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import phonenumbers


@dataclass(frozen=True, slots=True)
class Normalised:
    value: str
    valid: bool


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(raw: str) -> Normalised:
    """Lower-cased, trimmed, without a mailto: prefix or angle brackets; the domain in IDNA form."""
    text = unicodedata.normalize("NFKC", raw).strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    text = text.lower()
    if "@" in text:
        local, _, domain = text.rpartition("@")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            pass
        text = f"{local}@{domain}"
    return Normalised(text, bool(_EMAIL.match(text)))


def normalise_phone(raw: str, default_region: str = "US", calling_code: str | None = None) -> Normalised:
    """E.164 (+15555550100) with `phonenumbers`; the calling code, if given, picks the region.
    A number that cannot be parsed keeps its digits so that it still links to the same digits."""
    text = unicodedata.normalize("NFKC", raw).strip()
    region = default_region
    if calling_code:
        try:
            region = phonenumbers.region_code_for_country_code(int(calling_code.lstrip("+"))) or default_region
        except ValueError:
            pass
        if region == "ZZ":
            region = default_region
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        digits = re.sub(r"\D", "", text)
        return Normalised(f"unparsed:{digits or text.lower()}", False)
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Normalised(formatted, phonenumbers.is_valid_number(number))


def normalise_ip(raw: str) -> Normalised:
    """The canonical text of an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4)."""
    text = raw.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    text = text.split("%", 1)[0]  # an IPv6 zone index names the local interface, not the host
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return Normalised(raw.strip().lower(), False)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return Normalised(address.compressed, True)


# Platform names as people and providers write them, mapped to one key per platform.
_PLATFORM_ALIASES = {
    "twitter": "x",
    "x": "x",
    "xcom": "x",
    "ig": "instagram",
    "insta": "instagram",
    "instagram": "instagram",
    "fb": "facebook",
    "facebook": "facebook",
    "messenger": "facebook",
    "facebookmessenger": "facebook",
    "snap": "snapchat",
    "snapchat": "snapchat",
    "tiktok": "tiktok",
    "discord": "discord",
    "roblox": "roblox",
    "minecraft": "minecraft",
    "whatsapp": "whatsapp",
    "telegram": "telegram",
    "kik": "kik",
    "kikmessenger": "kik",
    "reddit": "reddit",
    "youtube": "youtube",
    "twitch": "twitch",
    "steam": "steam",
    "xbox": "xbox",
    "xboxlive": "xbox",
    "playstation": "playstation",
    "psn": "playstation",
    "playstationnetwork": "playstation",
    "signal": "signal",
    "wechat": "wechat",
    "line": "line",
    "yubo": "yubo",
    "wizz": "wizz",
    "fortnite": "epicgames",
    "epicgames": "epicgames",
    "epic": "epicgames",
    "omegle": "omegle",
    "skype": "skype",
    "tumblr": "tumblr",
    "pinterest": "pinterest",
    "threads": "threads",
    "bluesky": "bluesky",
    "vrchat": "vrchat",
}


def normalise_platform(raw: str | None) -> str:
    """One key per platform: 'Instagram', 'instagram.com' and 'IG' are all 'instagram'."""
    if not raw:
        return "unknown"
    text = unicodedata.normalize("NFKC", raw).casefold().strip()
    text = re.sub(r"^(https?://)?(www\.)?", "", text)
    text = re.sub(r"\.(com|net|org|gg|app|io)(/.*)?$", "", text)
    key = re.sub(r"[^0-9a-z]+", "", text)
    return _PLATFORM_ALIASES.get(key, key or "unknown")


def normalise_screen_name(raw: str, platform: str | None) -> Normalised:
    """'platform:name', case-folded, without a leading @ (screen names are case-insensitive on the
    platforms reports come from)."""
    name = unicodedata.normalize("NFKC", raw).strip().lstrip("@").casefold()
    name = re.sub(r"\s+", " ", name)
    return Normalised(f"{normalise_platform(platform)}:{name}", bool(name))


def normalise_esp_user_id(raw: str, service: str | None) -> Normalised:
    """'service:id'; the id is opaque, so only surrounding space is removed."""
    value = raw.strip()
    return Normalised(f"{normalise_platform(service)}:{value}", bool(value))


_COMPACT_DEVICE_TYPES = {"imei", "meid", "esn", "mac", "macaddress", "serial", "serialnumber"}


def normalise_device_id(id_type: str, id_value: str) -> Normalised:
    """'type:value', lower-cased; hardware numbers (IMEI, MEID, MAC ...) lose their separators."""
    kind = re.sub(r"[^0-9a-z]+", "", id_type.casefold())
    value = id_value.strip().casefold()
    if kind in _COMPACT_DEVICE_TYPES:
        value = re.sub(r"[\s\-:.]", "", value)
    return Normalised(f"{kind or 'unknown'}:{value}", bool(value))


def normalise_url(raw: str) -> Normalised:
    """Scheme and host lower-cased, default port, 'www.' and fragment dropped, no trailing slash."""
    text = raw.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (ValueError, UnicodeError):
        return Normalised(raw.strip(), False)
    if not host:
        return Normalised(raw.strip(), False)
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme)
    if scheme == "http":
        scheme = "https"  # the same page is the same page over either
    host = host.removeprefix("www.")
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return Normalised(urlunsplit((scheme, netloc, path, parts.query, "")), True)
