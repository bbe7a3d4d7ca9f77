"""Appendix E of the Reporting API: the Viral/Potential Meme batched report rules, as written.

Each check returns the problems it finds as (XPath, message); an empty list means the rule holds.
They work on the wire form (the schema's element names), so they read like the appendix.
"""

from __future__ import annotations

from typing import Any

from tipline.domain.files import FileDetails
from tipline.domain.report import ReportContent

VIRAL_POTENTIAL_MEME = "VIRAL_POTENTIAL_MEME"

REPORT_FORBIDDEN = (
    ("incidentSummary", "escalateToHighPriority"),
    ("internetDetails",),
    ("lawEnforcement",),
    ("intendedRecipient",),
    ("victim",),
    ("additionalInfo",),
)
PERSON_ALLOWED = {"espIdentifier"}
ANNOTATIONS_FORBIDDEN = (
    "animeDrawingVirtualHentai", "possibleSelfProduction", "physicalHarm", "violenceGore", "bestiality",
    "liveStreaming", "infant", "generativeAi",
)
FILE_FORBIDDEN = (
    "originalFileName", "locationOfFile", "originalFileHash", "ipCaptureEvent", "deviceId", "details",
    "additionalInfo",
)
MAX_FILES = 1


def is_viral_meme_batch(content: ReportContent | dict[str, Any]) -> bool:
    """True for a Viral/Potential Meme batched report (a ReportContent or its stored wire form)."""
    if isinstance(content, dict):
        return (content.get("batchedReport") or {}).get("reason") == VIRAL_POTENTIAL_MEME
    return content.batched_report is not None and content.batched_report.reason == VIRAL_POTENTIAL_MEME


def _present(wire: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = wire
    for name in path:
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name]
    return True  # the wire form leaves absent elements out; an empty element is still present


def report_problems(content: ReportContent) -> list[tuple[str, str]]:
    """The rules for the main report submission (checked at /submit)."""
    if not is_viral_meme_batch(content):
        return []
    wire = content.to_wire()
    problems = []
    for path in REPORT_FORBIDDEN:
        if _present(wire, path):
            problems.append(("/report/" + "/".join(path),
                             "not allowed in a VIRAL_POTENTIAL_MEME batched report (Appendix E.1)"))
    for index, person in enumerate(wire.get("personOrUserReported", []), start=1):
        for name in person:
            if name not in PERSON_ALLOWED:
                problems.append((f"/report/personOrUserReported[{index}]/{name}",
                                 "only espIdentifier is allowed in personOrUserReported of a VIRAL_POTENTIAL_MEME "
                                 "batched report (Appendix E.1)"))
    return problems


def file_details_problems(content: ReportContent | dict[str, Any], details: FileDetails) -> list[tuple[str, str]]:
    """The rules for a file details submission to a batched report (checked at /fileinfo)."""
    if not is_viral_meme_batch(content):
        return []
    wire = details.to_wire()
    annotations = wire.get("fileAnnotations")
    problems = []
    if not isinstance(annotations, dict) or not (annotations.get("viral") or annotations.get("potentialMeme")):
        problems.append(("/fileDetails/fileAnnotations",
                         "the file of a VIRAL_POTENTIAL_MEME batched report must be annotated viral and/or "
                         "potentialMeme (Appendix E.1)"))
    for name in ANNOTATIONS_FORBIDDEN:
        if isinstance(annotations, dict) and annotations.get(name):
            problems.append((f"/fileDetails/fileAnnotations/{name}",
                             "not allowed for the file of a VIRAL_POTENTIAL_MEME batched report (Appendix E.1)"))
    for name in FILE_FORBIDDEN:
        if _present(wire, (name,)):
            problems.append((f"/fileDetails/{name}",
                             "not allowed for the file of a VIRAL_POTENTIAL_MEME batched report (Appendix E.1)"))
    if wire.get("fileRelevance") != "Reported":
        problems.append(("/fileDetails/fileRelevance",
                         f"must be \"Reported\" for the file of a VIRAL_POTENTIAL_MEME batched report (Appendix E.1); "
                         f"got {wire.get('fileRelevance', 'none')!r}"))
    return problems


def finish_problems(content: ReportContent | dict[str, Any], file_count: int) -> list[tuple[str, str]]:
    """The rule checked at /finish: at most one uploaded file."""
    if not is_viral_meme_batch(content) or file_count <= MAX_FILES:
        return []
    return [("/report/batchedReport",
             f"a VIRAL_POTENTIAL_MEME batched report allows only 1 uploaded file; this one has {file_count}. "
             "Retract it and submit again (Appendix E.1)")]


def describe(problems: list[tuple[str, str]]) -> str:
    return "; ".join(f"{path}: {message}" for path, message in problems)
