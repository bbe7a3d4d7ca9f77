"""Enticement detection as a service: a provider sends a conversation and gets tactics and risk back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tipline.domain.numbers import INT64_MAX, INT64_MIN
from tipline.domain.roles import Permission
from tipline.enticement import ConversationFormatError, analyze, conversation_from_dict
from tipline.store.accounts import Principal
from tipline.web.auth import allow
from tipline.web.transaction import InTransaction

router = APIRouter(prefix="/api/v1", tags=["enticement"])
Submitter = Annotated[Principal, Depends(allow(Permission.REPORT_SUBMIT))]
MAX_MESSAGES = 200_000


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    claimed_age: int | None = Field(default=None, ge=0, le=130)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
    author: str = Field(max_length=200)
    time: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=20_000)


class ConversationIn(BaseModel):
    """The tipline conversation JSON."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=200)
    platform: str | None = Field(default=None, max_length=200)
    participants: list[ParticipantIn] = Field(default_factory=list, max_length=10_000)
    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)


class TacticOut(BaseModel):
    tactic: str
    message_id: str
    author: str
    score: float
    evidence: str


class DisclosureOut(BaseModel):
    discloser: str = Field(description="The participant who tells of an approach, a threat or abuse by someone else")
    message_ids: list[str] = Field(description="The messages that tell it")
    evidence: list[str] = Field(description="Their words")
    urgent: list[str] = Field(description="threat, deadline and/or meeting: what makes it urgent")


class AnalysisOut(BaseModel):
    conversation_id: str
    risk: float = Field(ge=0, le=1)
    level: str = Field(description="none, low, medium, high or critical; high and above is an alert")
    suspected_author: str | None
    first_alert_message: str | None = Field(description="The message at which reading in order first alerted")
    tactics: list[TacticOut]
    suggested_incident_type: str | None
    suggested_annotations: list[str]
    disclosure: DisclosureOut | None = Field(
        default=None, description="Set when a participant discloses an approach (then the conversation does not alert)")


@router.post(
    "/conversations/analyze",
    response_model=AnalysisOut | list[AnalysisOut],
    summary="Analyse a conversation for enticement tactics",
    responses={422: {"description": "Not a valid conversation; the problem names the field or line"}},
)
def analyze_conversation(
    principal: Submitter,
    work: InTransaction,
    body: Annotated[ConversationIn | list[ConversationIn], Body()],
) -> Any:
    """Read the conversation in order, as a platform would mid-conversation, and return the tactics
    found (message, words, score), the risk and its level, the suspected participant, where an alert
    would first have been raised, and a suggested incident type and annotations. Nothing is stored."""
    conversations = body if isinstance(body, list) else [body]
    try:
        results = [analyze(conversation_from_dict(c.model_dump(exclude_none=True))).to_dict() for c in conversations]
    except ConversationFormatError as error:
        return JSONResponse({"error": "validation_failed", "message": str(error),
                             "problems": [{"field": "(conversation)", "problem": str(error), "type": "format"}]},
                            status_code=422)
    work.instance.audit.append(work.session, work.actor, "conversation.analysed",
                               details={"conversations": len(results),
                                        "messages": sum(len(c.messages) for c in conversations)})
    return results if isinstance(body, list) else results[0]
