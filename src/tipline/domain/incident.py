"""What kind of incident a report is about: the eight CyberTipline incident types and the summary."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from tipline.domain.base import DomainModel, ShortText, Text, Timestamp


class IncidentType(StrEnum):
    """The eight incident types, with the exact strings of the CyberTipline schema as values."""

    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"

    @property
    def short_name(self) -> str:
        return INCIDENT_SHORT_NAMES[self]


INCIDENT_SHORT_NAMES: dict[IncidentType, str] = {
    IncidentType.CHILD_PORNOGRAPHY: "CSAM",
    IncidentType.CHILD_SEX_TRAFFICKING: "Sex trafficking",
    IncidentType.CHILD_SEX_TOURISM: "Sex tourism",
    IncidentType.CHILD_SEXUAL_MOLESTATION: "Molestation",
    IncidentType.MISLEADING_DOMAIN_NAME: "Misleading domain",
    IncidentType.MISLEADING_WORDS_OR_IMAGES: "Misleading words/images",
    IncidentType.ONLINE_ENTICEMENT: "Online enticement",
    IncidentType.UNSOLICITED_OBSCENE_MATERIAL: "Obscene material to a child",
}


class ReportAnnotations(DomainModel):
    """Tags the reporter puts on the whole incident (presence means true in the XML)."""

    sextortion: bool = False
    csam_solicitation: bool = False
    minor_to_minor_interaction: bool = False
    spam: bool = False
    sadistic_online_exploitation: bool = False

    def names(self) -> list[str]:
        """The wire names of the annotations that are set."""
        return [type(self).model_fields[f].alias or f for f in type(self).model_fields if getattr(self, f)]


class IncidentSummary(DomainModel):
    incident_type: IncidentType
    platform: ShortText | None = None
    escalate_to_high_priority: Text | None = Field(
        default=None,
        description="Set only to escalate: the reporter's reason why a child is at immediate risk.",
    )
    report_annotations: ReportAnnotations | None = None
    incident_date_time: Timestamp
    incident_date_time_description: Text | None = None


class BatchedReport(DomainModel):
    """A batch of otherwise individual reports grouped for a reason (Appendix E of the API)."""

    reason: Literal["VIRAL_POTENTIAL_MEME"]
