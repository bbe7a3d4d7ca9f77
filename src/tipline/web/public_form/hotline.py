"""The hotline's own face on the public pages: its name, logo, how to reach it, the emergency and
support numbers of each country it serves, and where the quick-exit button leaves to.

Configured in one TOML file named by `TIPLINE_HOTLINE_FILE` (docs/public-form.md gives an example);
without one, the pages say "tipline" and point to the emergency number "where you are". Any text may
be given per language (`label = {en = "Police", es = "Policía", ar = "الشرطة"}`): the page shows the
reader's language, else English, else the first given. A file that cannot be used stops start-up with
a message that names the file and the setting.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tipline.config import ConfigError
from tipline.web import i18n

LOGO_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".webp": "image/webp"}
MAX_LOGO_BYTES = 512 * 1024
MAX_FILE_BYTES = 256 * 1024
DEFAULT_QUICK_EXIT = "https://www.google.com/search?q=weather+today"

Localised = str | dict[str, str]


def in_language(value: Localised | None) -> str:
    """A configured text in the reader's language, else English, else the first one given."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(i18n.current().code) or value.get(i18n.DEFAULT) or next(iter(value.values()), "")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _country(value: str) -> str:
    code = value.strip().upper()
    if not (code == "*" or (len(code) == 2 and code.isascii() and code.isalpha())):
        raise ValueError(f"{value!r} is not a two-letter country code (or * for every country)")
    return code


class PhoneLine(_Strict):
    """An emergency or support number of one country ("*": every country)."""

    country: str
    label: Localised
    number: str = Field(min_length=1, max_length=40, pattern=r"^[0-9+ ()\-]+$")

    @field_validator("country")
    @classmethod
    def _check_country(cls, value: str) -> str:
        return _country(value)

    @property
    def tel(self) -> str:
        return "".join(ch for ch in self.number if ch.isdigit() or ch == "+")


class SupportService(_Strict):
    """A service that helps children and families after exploitation, shown on the help pages."""

    country: str
    name: Localised
    description: Localised | None = None
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+ ()\-]+$")
    url: str | None = Field(default=None, max_length=500, pattern=r"^https://\S+$")
    situations: list[str] = Field(default_factory=list)  # sextortion, enticement, images, child, parent; empty: all

    @field_validator("country")
    @classmethod
    def _check_country(cls, value: str) -> str:
        return _country(value)


class HotlineProfile(_Strict):
    name: Localised = "tipline"
    logo: Path | None = None
    home_country: str | None = None
    contact_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    contact_phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+ ()\-]+$")
    website: str | None = Field(default=None, max_length=500, pattern=r"^https://\S+$")
    quick_exit_url: str = Field(default=DEFAULT_QUICK_EXIT, max_length=500, pattern=r"^https://\S+$")
    emergency: list[PhoneLine] = Field(default_factory=list)
    support: list[SupportService] = Field(default_factory=list)

    @field_validator("home_country")
    @classmethod
    def _home(cls, value: str | None) -> str | None:
        return None if value is None else _country(value)

    def display_name(self) -> str:
        return in_language(self.name)

    def emergency_lines(self, country: str | None = None) -> list[PhoneLine]:
        """The emergency numbers for a country (default: the hotline's own), then those for every country."""
        wanted = (country or self.home_country or "").upper()
        return [line for line in self.emergency if line.country == wanted] + [
            line for line in self.emergency if line.country == "*"]

    def support_for(self, situation: str | None) -> list[SupportService]:
        return [s for s in self.support if not s.situations or situation is None or situation in s.situations]

    def logo_type(self) -> str | None:
        return LOGO_TYPES.get(self.logo.suffix.lower()) if self.logo else None


def load_profile(path: Path | None) -> HotlineProfile:
    """The profile in `path` (TOML), or the default one. Raises ConfigError naming what is wrong."""
    if path is None:
        return HotlineProfile()
    where = f"TIPLINE_HOTLINE_FILE ({path})"
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{where} is larger than {MAX_FILE_BYTES // 1024} KB")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{where} cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where} is not valid TOML: {error}") from None
    if isinstance(data.get("logo"), str):
        data["logo"] = (path.parent / data["logo"]).resolve()
    try:
        profile = HotlineProfile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{where}: {field}: {first['msg']}") from None
    if profile.logo is not None:
        if profile.logo_type() is None:
            raise ConfigError(f"{where}: logo must be a PNG, SVG, JPEG or WebP file, got {profile.logo.name!r}")
        if not profile.logo.is_file() or profile.logo.stat().st_size > MAX_LOGO_BYTES:
            raise ConfigError(f"{where}: logo {profile.logo} is missing or larger than {MAX_LOGO_BYTES // 1024} KB")
    return profile


@lru_cache(maxsize=8)
def _cached(path: str | None) -> HotlineProfile:
    return load_profile(Path(path) if path else None)


def profile_for(extra: Mapping[str, str]) -> HotlineProfile:
    """The profile named by an instance's TIPLINE_HOTLINE_FILE setting (read once per file)."""
    return _cached(extra.get("TIPLINE_HOTLINE_FILE") or None)
