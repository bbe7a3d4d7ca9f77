"""Notices as data: their states and the moves between them, the notice text drafted from a template,
and the settings that shape both. No database here (tipline.takedown.service stores them)."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from tipline.config import int_setting
from tipline.domain.labels import LabelledEnum, labels
from tipline.jurisdiction.places import country_code

COUNTRY_SETTING = "TIPLINE_HOTLINE_COUNTRY"
LEGAL_BASIS_SETTING = "TIPLINE_TAKEDOWN_LEGAL_BASIS"
TEMPLATE_SETTING = "TIPLINE_TAKEDOWN_TEMPLATE"
REMINDER_SETTING = "TIPLINE_TAKEDOWN_REMINDER_HOURS"
DEFAULT_REMINDER_HOURS = 48
DEFAULT_LEGAL_BASIS = "the law of the country where it is hosted and the provider's own terms of service"
MAX_TEMPLATE_BYTES = 64 * 1024


class NoticeState(LabelledEnum):
    DRAFTED = "drafted"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


NOTICE_STATE_LABELS = labels(NoticeState, {
    NoticeState.DRAFTED: "Drafted, not sent",
    NoticeState.SENT: "Sent, waiting for the provider",
    NoticeState.ACKNOWLEDGED: "Acknowledged by the provider",
    NoticeState.REMOVED: "Removed",
    NoticeState.REFUSED: "Refused by the provider",
    NoticeState.UNREACHABLE: "Provider unreachable",
})

# Where a notice may go from each state. A removed notice is final: material seen again is a new notice.
MOVES: dict[NoticeState, frozenset[NoticeState]] = {
    NoticeState.DRAFTED: frozenset({NoticeState.SENT, NoticeState.UNREACHABLE, NoticeState.REMOVED}),
    NoticeState.SENT: frozenset({NoticeState.ACKNOWLEDGED, NoticeState.REMOVED, NoticeState.REFUSED,
                                 NoticeState.UNREACHABLE}),
    NoticeState.ACKNOWLEDGED: frozenset({NoticeState.REMOVED, NoticeState.REFUSED}),
    NoticeState.REFUSED: frozenset({NoticeState.SENT, NoticeState.REMOVED}),
    NoticeState.UNREACHABLE: frozenset({NoticeState.SENT, NoticeState.REMOVED}),
    NoticeState.REMOVED: frozenset(),
}
OPEN_STATES = frozenset(s for s, moves in MOVES.items() if moves)


class CheckResult(LabelledEnum):
    STILL_ONLINE = "still_online"
    REMOVED = "removed"


CHECK_LABELS = labels(CheckResult, {CheckResult.STILL_ONLINE: "Still online", CheckResult.REMOVED: "Removed"})


class NoticeRefused(ValueError):
    """A notice that cannot be drafted or moved; the message says why."""


def check_move(current: str, wanted: NoticeState) -> None:
    state = NoticeState(current)
    if wanted not in MOVES[state]:
        allowed = ", ".join(s.value for s in sorted(MOVES[state])) or "none: it is final"
        raise NoticeRefused(f"a notice that is {state.value} cannot become {wanted.value} (it can become: {allowed})")


DEFAULT_TEMPLATE = """\
Subject: Notice of illegal material hosted on your service (our reference $reference)

To the abuse team of $provider,

$hotline is a hotline that receives reports from the public and from online services about child
sexual abuse material. We have assessed the web address below and found material there that is
illegal under $legal_basis.

Web address: $url
Date found: $found
Server address: $address
Our reference: $reference

Please remove or disable access to this material without delay, and keep any related records in
case law enforcement asks for them. Please reply quoting our reference once it has been removed,
or tell us if you cannot act on this notice.

This notice does not describe the material. Do not copy or forward the material itself.

$hotline
$date
"""


@dataclass(frozen=True)
class NoticeSettings:
    home_country: str | None
    hotline_name: str
    legal_basis: str
    template: str
    reminder_hours: int


def _hotline_file(extra: dict[str, str]) -> dict[str, object]:
    path = (extra.get("TIPLINE_HOTLINE_FILE") or "").strip()
    if not path:
        return {}
    resolved = Path(path).expanduser()
    try:
        return _read_toml(str(resolved), resolved.stat().st_mtime)
    except OSError:
        return {}  # the web application refuses to start with a bad file and says why; here it is not needed


@lru_cache(maxsize=4)
def _read_toml(path: str, _mtime: float) -> dict[str, object]:
    """The hotline file, read once per version of it (pages call notice_settings on every view)."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def notice_settings(extra: dict[str, str]) -> NoticeSettings:
    """The hotline's country (TIPLINE_HOTLINE_COUNTRY, else the hotline file's home_country), its name,
    the legal basis notices cite, the notice template (TIPLINE_TAKEDOWN_TEMPLATE: a text file with
    $url, $found, $reference, $legal_basis, $provider, $hotline, $address and $date), and after how
    many hours a sent notice without an answer is overdue."""
    from tipline.config import ConfigError

    profile = _hotline_file(extra)
    raw_country = (extra.get(COUNTRY_SETTING) or str(profile.get("home_country") or "")).strip()
    country = country_code(raw_country) if raw_country else None
    if raw_country and country is None:
        raise ConfigError(f"{COUNTRY_SETTING} must be an ISO 3166-1 country code, got {raw_country!r}")
    name = profile.get("name")
    if isinstance(name, dict):
        name = name.get("en") or next(iter(name.values()), None)
    template = DEFAULT_TEMPLATE
    template_path = (extra.get(TEMPLATE_SETTING) or "").strip()
    if template_path:
        try:
            data = Path(template_path).expanduser().read_bytes()[:MAX_TEMPLATE_BYTES + 1]
            if len(data) > MAX_TEMPLATE_BYTES:
                raise ConfigError(f"{TEMPLATE_SETTING} names {template_path}, larger than 64 KB")
            template = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{TEMPLATE_SETTING} names {template_path}, which cannot be read as UTF-8 text "
                              f"({error})") from None
        unknown = {m.group("named") or m.group("braced") for m in string.Template.pattern.finditer(template)
                   if (m.group("named") or m.group("braced"))} - set(PLACEHOLDERS)
        if unknown:
            raise ConfigError(f"{TEMPLATE_SETTING}: unknown placeholder(s) {', '.join(sorted(unknown))}; "
                              f"the template may use {', '.join('$' + p for p in PLACEHOLDERS)}")
    return NoticeSettings(
        home_country=country,
        hotline_name=str(name) if name else "The hotline",
        legal_basis=(extra.get(LEGAL_BASIS_SETTING) or "").strip() or DEFAULT_LEGAL_BASIS,
        template=template,
        reminder_hours=int_setting(extra, REMINDER_SETTING, DEFAULT_REMINDER_HOURS, minimum=1),
    )


PLACEHOLDERS = ("url", "found", "reference", "legal_basis", "provider", "hotline", "address", "date")


def reference_of(notice_id: int) -> str:
    """The hotline's reference a provider quotes back: stable, and naming no report."""
    return f"TD-{notice_id:06d}"


def draft_text(settings: NoticeSettings, *, url: str, found: datetime, reference: str, provider: str | None,
               address: str | None, today: datetime) -> str:
    """The notice's text: plain, professional, and about where, when and under what law, never what."""
    return string.Template(settings.template).safe_substitute(
        url=url, found=found.strftime("%d %B %Y"), reference=reference, legal_basis=settings.legal_basis,
        provider=provider or "the hosting provider", hotline=settings.hotline_name,
        address=address or "not known", date=today.strftime("%d %B %Y"))
