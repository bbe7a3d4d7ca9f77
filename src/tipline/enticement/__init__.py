"""Online-enticement detection: read a conversation in order and report tactics, risk, early alerts (no I/O, no server)."""

from __future__ import annotations

from tipline.enticement.analyzer import (
    AnalysisResult,
    MessageAssessment,
    StreamingAnalyzer,
    TacticFinding,
    analyze,
)
from tipline.enticement.conversation import Conversation, Message, Participant
from tipline.enticement.formats import (
    FORMATS,
    ConversationFormatError,
    InputLimits,
    conversation_from_dict,
    detect_format,
    parse_conversations,
)
from tipline.enticement.tactics import (
    LEVELS,
    TACTIC_NAMES,
    TACTICS,
    is_alert,
    level_for_risk,
)


def analyze_file(data: bytes | str, *, filename: str | None = None, format: str = "auto",
                 language: str = "en") -> list[AnalysisResult]:
    """Analyse every conversation in a chat-log file (bytes as uploaded, plus its name as a hint), in order.

    Raises ConversationFormatError (with the line) when the file is not a chat log in a known format.
    """
    return [analyze(c, language=language) for c in parse_conversations(data, format, filename=filename)]


def analyze_text(content: str, *, conversation_id: str = "content", language: str = "en") -> list[AnalysisResult]:
    """Analyse chat text typed or pasted into a report (e.g. a chat/IM incident's content).

    Any supported format is recognised; free text that fits none is read line by line, with lines
    that name no author attributed to `unknown`.
    """
    conversations = parse_conversations(content, "auto", lenient=True)
    if len(conversations) == 1 and conversations[0].id == "conversation-1":
        conversations[0].id = conversation_id
    return [analyze(c, language=language) for c in conversations]


__all__ = [
    "FORMATS",
    "LEVELS",
    "TACTICS",
    "TACTIC_NAMES",
    "AnalysisResult",
    "Conversation",
    "ConversationFormatError",
    "InputLimits",
    "Message",
    "MessageAssessment",
    "Participant",
    "StreamingAnalyzer",
    "TacticFinding",
    "analyze",
    "analyze_file",
    "analyze_text",
    "conversation_from_dict",
    "detect_format",
    "is_alert",
    "level_for_risk",
    "parse_conversations",
]
