"""Files attached to a report: what the reporter said about each one, and what tipline measured."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from tipline.domain.base import DomainModel, ShortText, Text, Timestamp, items
from tipline.domain.parties import DeviceId, IpCaptureEvent, SimpleContent


class FileClassification(StrEnum):
    """The industry classification scheme: A = prepubescent, B = pubescent; 1 = sex act, 2 = lascivious."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"


FileRelevance = Literal["Reported", "Supplemental Reported"]


class FileAnnotations(DomainModel):
    """Tags on one file (presence means true in the XML)."""

    anime_drawing_virtual_hentai: bool = False
    potential_meme: bool = False
    viral: bool = False
    possible_self_production: bool = False
    physical_harm: bool = False
    violence_gore: bool = False
    bestiality: bool = False
    live_streaming: bool = False
    infant: bool = False
    generative_ai: bool = False

    def names(self) -> list[str]:
        fields = type(self).model_fields
        return [fields[f].alias or f for f in fields if getattr(self, f)]


CLASSIFICATION_HELP = {
    "A1": "A prepubescent child (A), with a sex act (1).",
    "A2": "A prepubescent child (A), with a lascivious exhibition: the focus is on the child's genitals or "
          "pubic area, without a sex act (2).",
    "B1": "A pubescent child (B), with a sex act (1).",
    "B2": "A pubescent child (B), with a lascivious exhibition (2).",
    "none": "Not apparent child sexual abuse material: nothing in the file fits the four categories above.",
}
"""The industry classification scale (the CyberTipline's `industryClassification`: A1, A2, B1, B2), in words
for the analyst who chooses one; the letter is the child's stage of development, the number what is shown."""

FILE_ANNOTATION_HELP = {
    "animeDrawingVirtualHentai": "The file shows anime, a drawing, a cartoon or other virtual imagery.",
    "potentialMeme": "The file is shared out of mimicry or other seemingly non-malicious intent.",
    "viral": "The file is circulating rapidly from one user to another.",
    "possibleSelfProduction": "The content is believed to be self-produced.",
    "physicalHarm": "The file shows an intentional act of causing physical injury or trauma to a person.",
    "violenceGore": "The file shows graphic violence: acts of brutality or detailed, vivid gruesomeness.",
    "bestiality": "The file involves an animal.",
    "liveStreaming": "The content was streamed live at the time it was uploaded.",
    "infant": "The file shows an infant.",
    "generativeAi": "The content is believed to be made by generative artificial intelligence.",
}
"""The CyberTipline's file annotations (its `fileAnnotations`), in the words of its reporting API."""


class OriginalFileHash(SimpleContent):
    value: ShortText
    hash_type: ShortText


class NameValuePair(DomainModel):
    name: ShortText
    value: Text


class MetadataDetails(DomainModel):
    type: Literal["EXIF", "HASH"] | None = None
    name_value_pairs: list[NameValuePair] = Field(alias="nameValuePair", min_length=1, max_length=10_000)


class FileDetails(DomainModel):
    """Everything a reporter can say about one uploaded file (the schema's fileDetails, less the ids)."""

    file_name: ShortText | None = None
    original_file_name: ShortText | None = None
    uploaded_to_esp_timestamp: Timestamp | None = None
    location_of_file: Text | None = None
    file_viewed_by_esp: bool | None = None
    exif_viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    file_relevance: FileRelevance | None = None
    potential_meme: bool | None = None
    file_annotations: FileAnnotations | None = None
    industry_classification: FileClassification | None = None
    original_file_hashes: list[OriginalFileHash] = items("originalFileHash")
    ip_capture_event: IpCaptureEvent | None = None
    device_ids: list[DeviceId] = items("deviceId")
    details: list[MetadataDetails] = items("details")
    additional_info: list[Text] = items("additionalInfo")

    @model_validator(mode="after")
    def _meme_or_annotations(self) -> FileDetails:
        if self.potential_meme is not None and self.file_annotations is not None:
            raise ValueError("give either potentialMeme or fileAnnotations, not both (the schema's choice)")
        return self


class MediaProblem(DomainModel):
    """Something hashing found wrong (error) or suspicious (warning) about a file's content."""

    severity: Literal["error", "warning"]
    code: str
    message: str


class ReportFile(DomainModel):
    """One file of a report: what tipline measured on arrival, and the reporter's details."""

    file_id: str = Field(max_length=64)
    file_name: ShortText | None = Field(default=None, description="The name it was uploaded under")
    size: int = Field(ge=0)
    media_type: ShortText | None = None
    md5: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    sha1: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    uploaded_at: datetime
    details: FileDetails | None = None
    media_kind: str | None = Field(default=None, description="image, video, archive, ... (from the content)")
    declared_type: str | None = Field(default=None, description="The type the file name claims")
    width: int | None = None
    height: int | None = None
    pdq: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    pdq_quality: int | None = None
    hashed_at: datetime | None = None
    problems: list[MediaProblem] = Field(default_factory=list, description="What hashing found wrong")
    extracted_from: str | None = Field(default=None, max_length=64,
                                       description="The file id of the ZIP attachment this file was found in")
    archive_path: str | None = Field(default=None, max_length=1024, description="Its path inside that archive")

    @property
    def display_name(self) -> str:
        if self.details and self.details.original_file_name:
            return self.details.original_file_name
        if self.details and self.details.file_name:
            return self.details.file_name
        return self.file_name or self.file_id
