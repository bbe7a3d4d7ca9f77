"""Locating a report from every clue it holds, and choosing the agency whose area covers it.

A library: no web, no database. `locate(content, context)` reads the clues and resolves them;
`suggest_agency(resolution, agencies)` picks from the directory."""

from __future__ import annotations

from collections.abc import Iterable

from tipline.domain.files import FileDetails
from tipline.domain.report import ReportContent
from tipline.jurisdiction.clues import (
    CLUE_LABELS,
    CONFIDENCE,
    ClueContext,
    ClueKind,
    Clues,
    LocationClue,
    UnlocatedClue,
    find_clues,
)
from tipline.jurisdiction.directory import (
    AgencyRecord,
    AgencyType,
    DirectoryImportError,
    Suggestion,
    covers,
    directory_csv,
    key_id,
    parse_directory_csv,
    public_key_bytes,
    suggest_agency,
)
from tipline.jurisdiction.gazetteer import Gazetteer
from tipline.jurisdiction.geoip import GEOIP_SETTING, GeoIPDatabase, GeoIPDatabaseError, open_configured
from tipline.jurisdiction.phones import locate_phone
from tipline.jurisdiction.places import Place
from tipline.jurisdiction.resolve import Resolution, resolve


def locate(content: ReportContent, context: ClueContext, files: Iterable[FileDetails | None] = ()) -> Resolution:
    """Every clue of the report, resolved to the best location with the reasoning."""
    return resolve(find_clues(content, context, files))


__all__ = [
    "AgencyRecord", "AgencyType", "CLUE_LABELS", "CONFIDENCE", "ClueContext", "ClueKind", "Clues",
    "DirectoryImportError", "GEOIP_SETTING", "Gazetteer", "GeoIPDatabase", "GeoIPDatabaseError", "LocationClue",
    "Place", "Resolution", "Suggestion", "UnlocatedClue", "covers", "directory_csv", "find_clues", "key_id",
    "locate", "locate_phone", "open_configured", "parse_directory_csv", "public_key_bytes", "resolve",
    "suggest_agency",
]
