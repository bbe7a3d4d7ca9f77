"""The enticement tactic taxonomy and risk levels of ENTICEMENT.md; the ids are part of the API."""

from __future__ import annotations

from typing import Final

TACTICS: Final[tuple[str, ...]] = (
    "rapport",
    "age_probe",
    "personal_info",
    "risk_check",
    "secrecy",
    "platform_move",
    "sexual_talk",
    "image_request",
    "sends_sexual_content",
    "age_deception",
    "incentive",
    "meeting_request",
    "sextortion_threat",
)

TACTIC_NAMES: Final[dict[str, str]] = {
    "rapport": "building trust and rapport",
    "age_probe": "establishing the child's age and situation",
    "personal_info": "collecting identifying details",
    "risk_check": "checking supervision and detection risk",
    "secrecy": "demanding secrecy, isolating from carers",
    "platform_move": "moving to a private or encrypted channel",
    "sexual_talk": "steering the conversation to sexual topics",
    "image_request": "asking for images of the child",
    "sends_sexual_content": "sending or offering sexual material of themselves",
    "age_deception": "pretending to be younger or a peer",
    "incentive": "offering rewards",
    "meeting_request": "arranging to meet offline",
    "sextortion_threat": "coercion with images or information",
}

LEVELS: Final[tuple[str, ...]] = ("none", "low", "medium", "high", "critical")
"""Risk levels in increasing order; an alert means `high` or above."""

LEVEL_FLOORS: Final[dict[str, float]] = {"low": 0.2, "medium": 0.4, "high": 0.6, "critical": 0.85}
"""The lowest risk of each level (the level of a risk is the highest whose floor it reaches)."""

ALERT_LEVEL: Final[str] = "high"


def level_for_risk(risk: float) -> str:
    """The level name of a risk score in [0, 1]."""
    level = "none"
    for name in ("low", "medium", "high", "critical"):
        if risk >= LEVEL_FLOORS[name]:
            level = name
    return level


def is_alert(level: str) -> bool:
    """Whether a level raises an alert (`high` or `critical`)."""
    return LEVELS.index(level) >= LEVELS.index(ALERT_LEVEL)
