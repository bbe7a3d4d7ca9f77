"""The domain model: pure data and rules, no I/O, no web or database code."""

from tipline.domain.audit import Actor, ActorType
from tipline.domain.files import FileAnnotations, FileClassification, FileDetails, ReportFile
from tipline.domain.identifiers import Identifier, IdentifierKind, PartyRole
from tipline.domain.incident import IncidentSummary, IncidentType, ReportAnnotations
from tipline.domain.internet import InternetDetails
from tipline.domain.lifecycle import LifecycleError, ReportState, check_transition
from tipline.domain.public import PublicContact, PublicReport
from tipline.domain.report import Report, ReportContent, ReportSource
from tipline.domain.roles import Permission, Role

__all__ = [
    "Actor",
    "ActorType",
    "FileAnnotations",
    "FileClassification",
    "FileDetails",
    "Identifier",
    "IdentifierKind",
    "IncidentSummary",
    "IncidentType",
    "InternetDetails",
    "LifecycleError",
    "PartyRole",
    "PublicContact",
    "PublicReport",
    "Report",
    "ReportAnnotations",
    "ReportContent",
    "ReportFile",
    "ReportSource",
    "ReportState",
    "Permission",
    "Role",
    "check_transition",
]
