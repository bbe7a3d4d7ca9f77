"""Triage weights: one documented configuration, with defaults, that a supervisor can change."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class TriageWeights(BaseModel):
    """How many points each fact adds to a report's priority score, and where the levels begin.

    A reason marked *immediate* puts the report at P1 whatever its score: a reporter's escalation, a
    child in danger now, a sextortion threat, a planned meeting, a match to an unidentified victim
    series (possible ongoing abuse). Every weight is a whole number of points; 0 switches a reason off.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    reporter_escalation: int = Field(60, ge=0, le=1000, description="The ESP asked for high priority (escalateToHighPriority)")
    child_in_danger_now: int = Field(60, ge=0, le=1000, description="A public reporter says a child is in danger now")
    sextortion_threat: int = Field(45, ge=0, le=1000, description="Threats, deadlines or demands for images or money")
    sextortion_annotation: int = Field(20, ge=0, le=1000, description="The reporter annotated the report as sextortion")
    meeting_planned: int = Field(45, ge=0, le=1000, description="Plans or requests to meet the child in person")
    enticement_alert: int = Field(20, ge=0, le=1000, description="A conversation reached the high or critical level")
    disclosure: int = Field(25, ge=0, le=1000, description="A child or carer discloses an approach, threat or abuse in a conversation")
    disclosure_live_threat: int = Field(45, ge=0, le=1000,
                                        description="A disclosure tells of a live threat, a deadline or a planned meeting")
    infant: int = Field(40, ge=0, le=1000, description="A file is annotated as showing an infant or toddler")
    victim_age_12_or_under: int = Field(25, ge=0, le=1000, description="The youngest victim is 12 or younger")
    victim_age_13_to_15: int = Field(15, ge=0, le=1000, description="The youngest victim is 13 to 15")
    victim_age_16_to_17: int = Field(8, ge=0, le=1000, description="The youngest victim is 16 or 17")
    unidentified_series_match: int = Field(50, ge=0, le=1000, description="A file matches an unidentified victim series")
    identified_series_match: int = Field(20, ge=0, le=1000, description="A file matches an identified victim series")
    known_material_match: int = Field(10, ge=0, le=1000, description="A file matches known material")
    apparently_new_material: int = Field(25, ge=0, le=1000, description="Images or videos that match nothing known")
    shared_identifier_per_report: int = Field(4, ge=0, le=1000, description="Per other report sharing the reported person's identifiers")
    shared_identifier_cap: int = Field(20, ge=0, le=1000, description="At most this many points for shared identifiers")
    waiting_per_day: int = Field(3, ge=0, le=1000, description="Per full day since receipt")
    waiting_cap: int = Field(15, ge=0, le=1000, description="At most this many points for waiting")
    analyst_escalation: int = Field(30, ge=0, le=1000, description="An analyst escalated the report to a supervisor")

    p1_from: int = Field(80, ge=1, le=10_000, description="Score at which a report is P1 (immediate)")
    p2_from: int = Field(45, ge=1, le=10_000, description="Score at which a report is P2 (high)")
    p3_from: int = Field(20, ge=1, le=10_000, description="Score at which a report is P3 (medium); below is P4 (routine)")

    immediate: list[str] = Field(
        default_factory=lambda: ["reporter_escalation", "child_in_danger_now", "sextortion_threat", "meeting_planned",
                                 "unidentified_series_match", "disclosure_live_threat"],
        description="Reasons that make a report P1 whatever its score",
        validate_default=True,
    )

    @field_validator("immediate")
    @classmethod
    def _immediate_in_one_order(cls, names: list[str]) -> list[str]:
        """Each reason once, in the order of the settings, so that the same choice is the same weights
        (however a form or a file lists it) and a change of order is no change."""
        order = list(cls.model_fields)
        unique = list(dict.fromkeys(names))
        return sorted(unique, key=lambda n: (order.index(n) if n in order else len(order), n))

    @model_validator(mode="after")
    def _levels_in_order(self) -> TriageWeights:
        if not self.p1_from > self.p2_from > self.p3_from:
            raise ValueError("the level thresholds must fall: the score where P1 begins above the one for P2, "
                             f"and that above the one for P3 (given: P1 {self.p1_from}, P2 {self.p2_from}, "
                             f"P3 {self.p3_from})")
        unknown = [name for name in self.immediate if name not in type(self).model_fields or name.endswith("_from")]
        if unknown:
            raise ValueError(f"not reasons: {', '.join(unknown)}")
        return self


DEFAULT_WEIGHTS = TriageWeights()
