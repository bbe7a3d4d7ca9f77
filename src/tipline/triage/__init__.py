"""Triage: a report's priority (P1 immediate … P4 routine) with the reasons that produced it."""

from tipline.triage.config import DEFAULT_WEIGHTS, TriageWeights
from tipline.triage.scoring import (
    LEVEL_LABELS,
    LEVELS,
    ConversationFact,
    DisclosureFact,
    Evidence,
    FileFact,
    MatchFact,
    Priority,
    Reason,
    TacticFact,
    TextFact,
    TriageFacts,
    score_priority,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "LEVELS",
    "LEVEL_LABELS",
    "ConversationFact",
    "DisclosureFact",
    "Evidence",
    "FileFact",
    "MatchFact",
    "Priority",
    "Reason",
    "TacticFact",
    "TextFact",
    "TriageFacts",
    "TriageWeights",
    "score_priority",
]
