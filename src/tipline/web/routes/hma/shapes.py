"""HMA's JSON shapes (plus tipline's additions, which HMA clients ignore), the error answer in HMA's
shape, and the OpenAPI documentation of bodies and errors that the HMA-compatible routes share."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

CONTENT_TYPES = ("photo", "video")
SIGNALS_OF = {"photo": ("pdq", "md5"), "video": ("video_md5", "vpdq")}
"""The signals /h/hash computes for each HMA content type (HMA computes pdq, and video_md5 and vpdq)."""
MAX_JSON_BYTES = 256 * 1024
MAX_FIELD_BYTES = 64 * 1024
NO_URL_FETCHING = ("tipline does not fetch URLs (a hotline server makes no outbound requests by design); "
                   "upload the file instead: POST it as multipart/form-data in a field named photo or video, "
                   "as HMA's POST {path} takes it")



class HmaMatch(BaseModel):
    bank_content_id: int = Field(description="The id of the matching bank entry (each signal is one entry in tipline)")
    distance: str = Field(description="As HMA writes it: the PDQ Hamming distance as text; \"0\" for exact hashes")


class HmaBank(BaseModel):
    name: str
    matching_enabled_ratio: float = Field(1.0, description="Always 1.0: tipline banks match every lookup")
    kind: Literal["known_material", "identified_series", "ignore"] = Field(
        description="tipline: what a match means (ignore banks hold known false positives)")
    pdq_threshold: int = Field(description="tipline: PDQ distance at or below which the bank's entries match")
    description: str = ""


class HmaBankCreate(BaseModel):
    name: str = Field(description="1 to 100 letters, digits, '_', '.' or '-' (HMA's CAPS_AND_UNDERSCORE names fit)")
    enabled_ratio: float | None = Field(1.0, description="Only 1.0 is accepted (tipline has no sampled matching)")
    enabled: bool | None = Field(None, description="Only true is accepted")
    kind: Literal["known_material", "identified_series", "ignore"] = Field(
        "known_material", description="tipline: the kind of bank")
    pdq_threshold: int = Field(31, ge=0, le=256, description="tipline: the bank's PDQ match threshold")
    description: str = Field("", description="tipline: what the bank holds")


class HmaContentAdded(BaseModel):
    id: int = Field(description="The entry id of the first signal added (HMA's bank content id)")
    signals: dict[str, str] = Field(description="Signal type to the value stored")
    entry_ids: dict[str, int] = Field(description="tipline: the entry id of each signal (each is its own entry)")
    not_added: dict[str, str] = Field(default_factory=dict,
                                      description="tipline: signals computed but not banked, and why")


class HmaMessage(BaseModel):
    message: str = Field(description="What went wrong (HMA's error shape)")
    error: str = Field(description="tipline: a stable code (bad_request, not_found, ...)")


class HmaBankConfig(BaseModel):
    name: str
    matching_enabled_ratio: float = 1.0


class HmaContent(BaseModel):
    id: int
    disable_until_ts: int = Field(description="HMA's magic values: 1 enabled, 0 disabled")
    collab_metadata: dict[str, list[str]] = Field(default_factory=dict, description="Always empty")
    original_media_uri: str | None = Field(None, description="Always null: tipline keeps no content")
    bank: HmaBankConfig
    signals: dict[str, str] | None = Field(None, description="With include_signals=true: the entry's signal")
    signal_type: str = Field(description="tipline: the entry's signal type")
    classification: str | None = None
    series: str | None = None
    source: str | None = None
    source_id: str | None = None
    added_by: str
    added_at: str


class HmaContentUpdate(BaseModel):
    disable_until_ts: int = Field(description="0 disables the entry, 1 enables it (timed disabling is not served)")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HmaMessage, "description": "Malformed input; the message says which and why"},
    401: {"model": HmaMessage, "description": "No credentials, or wrong ones"},
    403: {"model": HmaMessage, "description": "The role may not do this (or, for bank creation, HMA's 'exists')"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": HmaMessage, "description": "No bank of that name"}}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {413: {"model": HmaMessage, "description": "The body is over the limit (TIPLINE_MAX_BODY_BYTES)"},
                 501: {"model": HmaMessage, "description": "A `url` was given: tipline does not fetch URLs"}}
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object",
    "description": "One file, in a field named after its HMA content type",
    "properties": {name: {"type": "string", "format": "binary"} for name in CONTENT_TYPES},
}}}}}


def json_body(model: type[BaseModel] | None, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = (model.model_json_schema() if model is not None else
                              {"type": "object", "additionalProperties": {"type": "string"}})
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": schema}}}}


class Refused(Exception):
    """An answer other than success, in HMA's error shape ({"message": ...}) plus tipline's code."""

    CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large",
             415: "unsupported_media_type", 501: "not_implemented", 503: "busy"}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"message": self.message, "error": self.CODES.get(self.status, "error")},
                            status_code=self.status, headers={"Retry-After": "5"} if self.status == 503 else None)


def answers(endpoint: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Turn Refused into its JSON answer (these paths are not under /api/, so the application's own
    handlers would answer people's pages)."""

    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await endpoint(*args, **kwargs)
        except Refused as refused:
            return refused.response()

    return wrapper
