"""Languages of the pages: gettext catalogues (Babel's .po files in `web/locale/`), the language a
request is served in, and `gettext` for templates and code.

The public pages are translated (English, Spanish, Arabic); the staff workspace marks nothing yet but
renders through the same functions, so catalogues can be added for it. The language of a request is
chosen, in order, from `?lang=`, the `tipline_lang` cookie the switcher sets, and `Accept-Language`;
English when none is available. Catalogues are read from the .po files when first needed and compiled
in memory, so the repository holds text only.
"""

from __future__ import annotations

import gettext as gettext_module
import io
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
COOKIE = "tipline_lang"
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself, as the switcher shows it
    direction: str  # "ltr" or "rtl"


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "ltr"),
    "es": Language("es", "Espa\u00f1ol", "ltr"),
    "ar": Language("ar", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "rtl"),
}

_current: ContextVar[str] = ContextVar("tipline_language", default=DEFAULT)


@cache
def translations(code: str) -> gettext_module.NullTranslations:
    """The catalogue of a language, compiled from its .po file (English: the messages themselves)."""
    po_file = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == DEFAULT or not po_file.is_file():
        return gettext_module.NullTranslations()
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current() -> Language:
    return LANGUAGES.get(_current.get(), LANGUAGES[DEFAULT])


def use(code: str) -> None:
    """Serve the rest of this request (this context) in `code`."""
    _current.set(code if code in LANGUAGES else DEFAULT)


def gettext(message: str, **variables: object) -> str:
    """`message` in the current language, with %(name)s variables filled in."""
    text = translations(_current.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, count: int, **variables: object) -> str:
    text = translations(_current.get()).ngettext(singular, plural, count)
    return text % {"num": count, **variables}


_ = gettext


def number(value: int) -> str:
    """A whole number written as the current language writes it (1,000 / 1.000 / ١٬٠٠٠)."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=current().code))


def N_(message: str) -> str:  # noqa: N802 - the conventional name of gettext's no-op marker
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


def from_accept_language(header: str | None) -> str | None:
    """The first available language of an Accept-Language header, by its q-values (RFC 9110)."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:30]):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip()
        if not _TAG.match(tag):
            continue
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]{1,5})", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                continue
        if quality > 0:
            ranked.append((-quality, position, tag.lower()))
    for _q, _pos, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return None


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language to serve: `?lang=`, then the switcher's cookie, then the browser's preference."""
    for candidate in (query, cookie):
        if candidate and candidate.lower() in LANGUAGES:
            return candidate.lower()
    return from_accept_language(accept_language) or DEFAULT
