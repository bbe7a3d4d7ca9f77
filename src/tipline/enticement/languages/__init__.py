"""The languages the detector reads, each behind the LanguagePack interface; English is the default."""

from __future__ import annotations

from functools import cache

from tipline.enticement.languages.base import CONTEXT_CUES, LanguagePack, MessageReading
from tipline.enticement.languages.en import English

LANGUAGES: dict[str, type[LanguagePack]] = {"en": English}
"""Language code -> pack class. Add a language by adding its pack here and training `models/<code>.json.gz`."""


@cache
def get_language(code: str = "en") -> LanguagePack:
    """The (shared, stateless) pack of a language code; ValueError for a language without one."""
    try:
        return LANGUAGES[code]()
    except KeyError:
        raise ValueError(f"no language pack for {code!r}; available: {', '.join(sorted(LANGUAGES))}") from None


__all__ = ["CONTEXT_CUES", "LANGUAGES", "LanguagePack", "MessageReading", "get_language"]
