"""Reads a conversation in order, one message at a time, and scores who is enticing whom, with which tactics, how early."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import log1p
from typing import Any

import numpy as np

from tipline.domain.incident import IncidentType
from tipline.enticement.conversation import Conversation, Message, Participant
from tipline.enticement.languages import LanguagePack, MessageReading, get_language
from tipline.enticement.model import DetectorModel, TacticModel, default_model
from tipline.enticement.tactics import TACTICS, is_alert, level_for_risk

T = {name: i for i, name in enumerate(TACTICS)}
SEVERE = [T[t] for t in ("risk_check", "secrecy", "platform_move", "sexual_talk", "image_request",
                         "sends_sexual_content", "meeting_request", "sextortion_threat")]
GROOMING = [T[t] for t in TACTICS if t != "rapport"]
ON = 0.5  # a tactic probability at or above this counts as shown
THREAT_DEMAND_WINDOW = 8
"""Rule 1: how many of the author's messages may lie between a clear threat and a demand."""
ISOLATION = [T[t] for t in ("risk_check", "secrecy", "platform_move")]
ACCESS = [T[t] for t in ("image_request", "sexual_talk", "sends_sexual_content", "meeting_request")]
RAPPORT, AGE_PROBE, PERSONAL_INFO, INCENTIVE = T["rapport"], T["age_probe"], T["personal_info"], T["incentive"]
RISK_CHECK, SECRECY, PLATFORM_MOVE = ISOLATION
IMAGE_REQUEST, SEXUAL_TALK, SENDS_SEXUAL_CONTENT, MEETING_REQUEST = ACCESS
THREAT = T["sextortion_threat"]
NO_TACTICS = [0.0] * len(TACTICS)
LEGITIMATE_CONTEXT = ("sport", "school", "family", "trade")
PARTNER_VISIBLE_CUES = ("minor_life", "distress", "sport", "school", "family", "trade")

AUTHOR_FEATURES: tuple[str, ...] = (
    *(f"max_{t}" for t in TACTICS),
    *(f"minor_x_{t}" for t in TACTICS),
    "n_tactics", "n_grooming", "n_severe", "three_or_more",
    "combo_probe_and_secrecy", "combo_contact_and_access", "escalation_after_minor", "probe_then_severe",
    "author_adult", "author_minor", "partner_minor", "partner_adult", "age_gap_large", "peers", "both_adults",
    "age_conflict", "author_adult_cues", "adult_cues_x_minor", "partner_minor_cues", "partner_asked_age", "author_only_prober",
    "cue_sport", "cue_school", "cue_family", "cue_trade", "cue_transparency", "partner_cue_context",
    "partner_distress", "partner_distress_after_threat", "demand",
    "soft_severe", "frac_tactic_messages", "reported_speech", "disclosure_max", "partner_disclosure",
)
"""The state of one author that the risk model reads (computed identically in training and in use)."""


@dataclass(frozen=True, slots=True)
class TacticFinding:
    """One tactic shown in one message: the words that show it and how strongly (0-1)."""

    tactic: str
    message_id: str
    author: str
    score: float
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"tactic": self.tactic, "message_id": self.message_id, "author": self.author,
                "score": self.score, "evidence": self.evidence}


@dataclass(frozen=True, slots=True)
class Disclosure:
    """A participant telling of an approach, a threat or abuse by someone else (a child to a parent, a carer to a
    helpline): a lead for the analyst, not an enticement alert. `urgent` names what makes it urgent, if anything:
    a live threat, a deadline, a planned meeting."""

    discloser: str
    message_ids: list[str]
    evidence: list[str]
    urgent: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"discloser": self.discloser, "message_ids": list(self.message_ids), "evidence": list(self.evidence),
                "urgent": list(self.urgent)}


TOLD_WEIGHT = 0.5
"""A tactic in a message that tells of someone else's words (reported speech, a quotation) counts this much of its
probability in the writer's own state: "he said send me a pic" is evidence about him, not about the teller."""

PROBE_ACCESS_CHILD = 0.7
"""Rule 1b's floor when a partner stated a child's age (high)."""
PROBE_ACCESS_UNKNOWN = 0.5
"""Rule 1b's floor when no partner's age is known (medium)."""

DISCLOSURE_CAP = 0.55
"""While a disclosure is established, no author's risk goes above medium: the conversation is about an approach."""


@dataclass(slots=True)
class AnalysisResult:
    """What the detector concludes about one conversation (JSON-serialisable with `to_dict`)."""

    conversation_id: str
    risk: float
    level: str
    suspected_author: str | None
    first_alert_message: str | None
    tactics: list[TacticFinding]
    suggested_incident_type: str | None
    suggested_annotations: list[str]
    messages_read: int = 0
    author_risks: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    disclosure: Disclosure | None = None
    """Set when a participant discloses an approach, threat or abuse; the conversation then does not alert."""

    @property
    def alert(self) -> bool:
        """Whether the conversation raised an alert (level `high` or above at some point)."""
        return self.first_alert_message is not None

    def flagged_messages(self) -> dict[str, list[str]]:
        """Message id -> tactic ids found in it: what a page highlights."""
        flagged: dict[str, list[str]] = {}
        for finding in self.tactics:
            flagged.setdefault(finding.message_id, []).append(finding.tactic)
        return flagged

    def to_dict(self) -> dict[str, Any]:
        """Exactly the fields of `tipline enticement analyze --json`."""
        return {
            "conversation_id": self.conversation_id,
            "risk": self.risk,
            "level": self.level,
            "suspected_author": self.suspected_author,
            "first_alert_message": self.first_alert_message,
            "tactics": [f.to_dict() for f in self.tactics],
            "suggested_incident_type": self.suggested_incident_type,
            "suggested_annotations": list(self.suggested_annotations),
            "disclosure": self.disclosure.to_dict() if self.disclosure else None,
        }

    def details(self) -> dict[str, Any]:
        """`to_dict` plus the explanation: messages read, every author's risk and the reasons."""
        return {**self.to_dict(), "messages_read": self.messages_read, "author_risks": dict(self.author_risks),
                "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class MessageAssessment:
    """What reading one more message changed: the tactics its words show, and the conversation's level now."""

    message_id: str
    author: str
    tactics: dict[str, float]
    risk: float
    level: str
    alert: bool
    first_alert: bool


class AuthorState:
    """Everything remembered about one author while reading: strongest tactic signals, ages, cues, order of events."""

    __slots__ = (
        "age_values",
        "author",
        "disclosing",
        "disclosure_max",
        "disclosure_messages",
        "reported",
        "severe_direct",
        "severe_sum",
        "tactic_messages",
        "demand_at",
        "strong_threat_at",
        "threat_messages",
        "threat_rule",
        "threat_with_demand",
        "claimed_age",
        "cues",
        "distress_after_threat",
        "escalated_after_minor",
        "max_probs",
        "messages",
        "probe_then_access",
        "probe_then_severe",
        "probed",
        "questions",
        "stated_age",
        "threat_seen",
    )

    def __init__(self, author: str, claimed_age: int | None) -> None:
        self.author = author
        self.claimed_age = claimed_age
        self.stated_age: int | None = None
        self.age_values: set[int] = set()
        self.max_probs: list[float] = [0.0] * len(TACTICS)
        """The strongest probability of each tactic in the author's messages so far (TACTICS order)."""
        self.messages = 0
        self.questions = 0
        self.cues: dict[str, int] = {}
        self.escalated_after_minor = False
        self.probed = False
        self.probe_then_severe = False
        self.probe_then_access = False
        self.threat_seen = False
        self.distress_after_threat = False
        self.severe_sum = 0.0
        self.tactic_messages = 0
        self.reported = 0
        self.disclosing = 0
        self.disclosure_max = 0.0
        self.disclosure_messages: list[str] = []
        self.threat_messages = 0
        self.threat_rule = False
        self.strong_threat_at: int | None = None
        """The author's message number (0-based) of their last message that reads as a threat (>= 0.8)."""
        self.demand_at: int | None = None
        """... of their last demand (a demand's words, or a clear image request)."""
        self.threat_with_demand = False
        """A threat and a demand came within THREAT_DEMAND_WINDOW of each other's messages (rule 1)."""
        self.severe_direct = 0

    def age(self) -> int | None:
        """The age this author most likely has: what they wrote about themself, else their profile."""
        return self.stated_age if self.stated_age is not None else self.claimed_age

    def is_minor(self) -> bool:
        """States an age under 18 (or, saying nothing, has a profile age under 18)."""
        age = self.age()
        return age is not None and age < 18

    def likely_minor(self) -> bool:
        """A minor by age, or, with no age known, someone who writes about a child's life (homework, grounded)."""
        return self.is_minor() or (self.age() is None and bool(self.cues.get("minor_life")))

    def likely_adult(self) -> bool:
        """An adult by age, or, with no age known, someone who writes about an adult's life (work, rent, a spouse)
        and never about a child's."""
        return self.is_adult() or (self.age() is None and bool(self.cues.get("adult_life"))
                                   and not self.cues.get("minor_life"))

    def is_adult(self) -> bool:
        """States an adult age, or, saying nothing, has a profile age of 21 or more: 18 to 20 on a profile
        is where children who lie to pass an age gate land, so it proves nothing."""
        if self.stated_age is not None:
            return self.stated_age >= 18
        return self.claimed_age is not None and self.claimed_age >= 21


def _ages_close(s: AuthorState, partners: list[AuthorState]) -> bool:
    """Every partner whose age is known is within three years of the author (true when an age is unknown)."""
    mine = s.age()
    return all(abs(theirs - mine) <= 3 for p in partners if mine is not None and (theirs := p.age()) is not None)


class ConversationState:
    """The running state of a conversation, shared by training and by the StreamingAnalyzer."""

    def __init__(self, language: LanguagePack, tactic_model: TacticModel,
                 participants: Iterable[Participant] = (), disclosure_threshold: float = 0.5) -> None:
        self.language = language
        self.disclosure_threshold = disclosure_threshold
        self.tactic_model = tactic_model
        self.authors: dict[str, AuthorState] = {}
        for participant in participants:
            self.authors[participant.id] = AuthorState(participant.id, participant.claimed_age)
        self.records: list[tuple[Message, np.ndarray, MessageReading]] = []
        self.last_author: str | None = None
        self.last_probe = False
        self.partner_view_changed = False

    def author(self, author: str) -> AuthorState:
        state = self.authors.get(author)
        if state is None:
            state = self.authors[author] = AuthorState(author, None)
        return state

    @staticmethod
    def _threat_and_demand(state: AuthorState, own: list[float], cues: dict[str, int]) -> None:
        """Rule 1's nearness: a message that reads as a threat (>= 0.8) and a demand within THREAT_DEMAND_WINDOW of
        each other among the author's messages. A long chat of innocent lines (a relative's surprise, a tutor's
        timed paper) can hold a line that reads as a threat and, fifty lines later, a photo asked for; a
        sextortionist's threat and demand come together."""
        at = state.messages
        if own[THREAT] >= 0.8:
            state.strong_threat_at = at
        if cues.get("demand") or own[IMAGE_REQUEST] >= 0.8:
            state.demand_at = at
        if (state.strong_threat_at is not None and state.demand_at is not None
                and abs(state.demand_at - state.strong_threat_at) <= THREAT_DEMAND_WINDOW):
            state.threat_with_demand = True

    def partners(self, author: str) -> list[AuthorState]:
        """Every other author who wrote or whose age is known."""
        return [s for a, s in self.authors.items() if a != author and (s.messages > 0 or s.age() is not None)]

    def add(self, message: Message) -> tuple[np.ndarray, MessageReading]:
        """Read one message; return its tactic probabilities and reading."""
        reading = self.language.read(message.text)
        probs = self.tactic_model.probabilities(reading)
        state = self.author(message.author)
        age = reading.stated_age
        if (age is None and reading.bare_number is not None and self.last_probe and self.last_author != message.author
                and 8 <= reading.bare_number <= 90):
            age = reading.bare_number  # a bare number answering "how old are you?"
        if age is not None:
            state.stated_age = age
            state.age_values.add(age)
        threat_before, probed_before = state.threat_seen, state.probed
        # Tactics told of (reported speech, quotations, approaches spoken of in general) are not the writer's: they count TOLD_WEIGHT in the writer's state.
        told = reading.told
        # Python floats, not numpy: thirteen values read one by one cost less as a list than as an array.
        own = (probs * TOLD_WEIGHT if told else probs).tolist()
        partners = self.partners(message.author)
        severe_max = max([own[i] for i in SEVERE])
        severe = severe_max >= ON
        if severe and any(p.is_minor() for p in partners):
            state.escalated_after_minor = True
        if severe and state.probed:
            state.probe_then_severe = True
            if any(own[i] >= ON for i in ACCESS):
                state.probe_then_access = True
        if own[AGE_PROBE] >= ON:
            state.probed = True
        threat = own[THREAT] >= ON
        if threat:
            state.threat_seen = True
            state.threat_messages += 1
        cues = reading.cues
        self._threat_and_demand(state, own, cues)
        if cues.get("distress") and any(p.threat_seen for p in partners):
            state.distress_after_threat = True
        state.severe_sum += severe_max
        if not told and "sextortion_threat" in reading.rule_hits:
            state.threat_rule = True
        state.tactic_messages += max([own[i] for i in GROOMING]) >= ON
        state.reported += told
        discloses = reading.disclosure >= self.disclosure_threshold
        if discloses:
            state.disclosing += 1
            state.disclosure_messages.append(message.id)
        elif not told and severe:  # not told: `own` is the message's probabilities
            state.severe_direct += 1  # a serious tactic in the author's own voice, not told of
        state.disclosure_max = max(state.disclosure_max, reading.disclosure)
        # Whether this message changes what the author's partners' features see (see `features`).
        self.partner_view_changed = (
            state.messages == 0 or age is not None or state.threat_seen != threat_before or probed_before != state.probed
            or any(c in cues for c in PARTNER_VISIBLE_CUES) or state.distress_after_threat or discloses
        )
        state.max_probs = [a if a >= b else b for a, b in zip(state.max_probs, own)]
        state.messages += 1
        state.questions += reading.question
        author_cues = state.cues
        for cue, count in cues.items():
            author_cues[cue] = author_cues.get(cue, 0) + count
        self.records.append((message, probs, reading))
        self.last_author = message.author
        self.last_probe = bool(probs[AGE_PROBE] >= ON) or "how old" in reading.normalised
        return probs, reading

    def features(self, author: str) -> np.ndarray:
        """The AUTHOR_FEATURES vector of one author now."""
        return self._features(self.author(author), self.partners(author))

    def _features(self, s: AuthorState, partners: list[AuthorState]) -> np.ndarray:
        m = s.max_probs
        on = [p >= ON for p in m]
        # What the partners show, in one pass over them.
        partner_minor = partner_probed = partner_distress_after_threat = False
        all_adult = True
        partner_ages: list[int] = []
        partner_cues = partner_minor_life = partner_distress = 0
        partner_disclosure = 0.0
        for p in partners:
            age = p.age()
            if age is not None:
                partner_ages.append(age)
                partner_minor = partner_minor or age < 18
            all_adult = all_adult and p.is_adult()
            if p.cues:
                get = p.cues.get
                partner_minor_life += get("minor_life", 0)
                partner_distress += get("distress", 0)
                partner_cues += get("sport", 0) + get("school", 0) + get("family", 0) + get("trade", 0)
            partner_probed = partner_probed or p.probed
            partner_distress_after_threat = partner_distress_after_threat or p.distress_after_threat
            if p.disclosure_max > partner_disclosure:
                partner_disclosure = p.disclosure_max
        partner_minor = partner_minor or partner_minor_life > 0
        partner_adult = bool(partners) and all_adult and not partner_minor
        author_age = s.age()
        author_minor = author_age is not None and author_age < 18  # s.is_minor()
        author_adult = s.is_adult()
        gap = (author_age - min(partner_ages)) if author_age is not None and partner_ages else 0
        cues = s.cues.get
        adult_life = cues("adult_life", 0)
        conflict = (
            (s.claimed_age is not None and s.stated_age is not None and (s.claimed_age >= 18) != (s.stated_age >= 18))
            or (any(a < 18 for a in s.age_values) and any(a >= 18 for a in s.age_values))
            or (author_minor and adult_life > 0)
        )
        n_tactics = sum(on)
        n_grooming = n_tactics - on[0]
        n_severe = sum([on[i] for i in SEVERE])
        minor = 1.0 if partner_minor else 0.0
        values = [
            n_tactics / 13, n_grooming / 12, n_severe / 8, float(n_tactics >= 3),
            float((on[AGE_PROBE] or on[PERSONAL_INFO]) and (on[SECRECY] or on[RISK_CHECK] or on[PLATFORM_MOVE])),
            float((on[IMAGE_REQUEST] or on[SEXUAL_TALK] or on[MEETING_REQUEST] or on[SENDS_SEXUAL_CONTENT])
                  and (on[SECRECY] or on[RISK_CHECK] or on[AGE_PROBE] or on[INCENTIVE] or on[PLATFORM_MOVE])),
            float(s.escalated_after_minor), float(s.probe_then_severe),
            float(author_adult), float(author_minor or (author_age is None and bool(cues("minor_life")))),  # likely_minor
            minor, float(partner_adult), float(gap >= 5),
            float(author_minor and partner_minor and abs(gap) <= 3 and not conflict),
            float(author_adult and partner_adult),
            float(conflict), log1p(adult_life), log1p(adult_life) * minor,
            log1p(partner_minor_life),
            float(partner_probed), float(s.probed and not partner_probed),
            log1p(cues("sport", 0)), log1p(cues("school", 0)), log1p(cues("family", 0)), log1p(cues("trade", 0)),
            log1p(cues("transparency", 0)), log1p(partner_cues),
            log1p(partner_distress),
            float(partner_distress_after_threat),
            log1p(cues("demand", 0)),
            log1p(s.severe_sum), s.tactic_messages / max(1, s.messages), s.reported / max(1, s.messages),
            s.disclosure_max, partner_disclosure,
        ]
        # The tactics' strongest probabilities, the same gated by "the partner is a child", then the values.
        return np.fromiter(m + (m if partner_minor else NO_TACTICS) + values, np.float64)  # np.array's values, faster


# ------------------------------------------------------------------------------------------------
# Transparent rules applied on top of the risk model


def apply_rules(state: ConversationState, author: str, risk: float,
                partners: list[AuthorState] | None = None) -> tuple[float, list[str]]:
    """Adjust one author's model risk with the documented rules; return the new risk and the rules that fired.
    `partners` is `state.partners(author)` when the caller has it already."""
    s = state.author(author)
    if partners is None:
        partners = state.partners(author)
    fired: list[str] = []
    m = s.max_probs
    threat = m[THREAT]
    # 1. Sextortion: a clear threat plus a demand (money, gift cards, more images) is critical whatever came before.
    #    "Clear": the threat rule's words, or threats in two messages (one message's meaning alone is not enough).
    #    The demand is a demand's words ("150 in steam cards", "two more by tonight") or a clear image request, and
    #    since v6.1 it comes within THREAT_DEMAND_WINDOW of the author's messages of a threat
    #    (`ConversationState._threat_and_demand`).
    demand = bool(s.cues.get("demand")) or m[IMAGE_REQUEST] >= 0.8
    coerced = threat >= 0.8 and demand and s.threat_with_demand and (s.threat_rule or s.threat_messages >= 2)
    if coerced and not (s.is_adult() and partners and all(p.is_adult() for p in partners)):
        risk = max(risk, 0.9)
        fired.append("sextortion: threat with a demand")
    # 1b. Age, then access: the author asked the partner's age and afterwards asked for pictures, a meeting or
    #    steered to sexual talk, is not a child by anything they wrote, talks to no adult, and neither side mentions
    #    a team, school, family or trade: at least medium, and high once a partner stated a child's age.
    elif (s.probe_then_access and not s.likely_minor() and not any(p.likely_adult() for p in partners)
          and not any(s.cues.get(c) for c in LEGITIMATE_CONTEXT + ("transparency",))
          and not any(p.cues.get(c) for p in partners for c in LEGITIMATE_CONTEXT)):
        floor = PROBE_ACCESS_CHILD if any(p.is_minor() for p in partners) else PROBE_ACCESS_UNKNOWN
        if risk < floor:
            risk = floor
            fired.append("age, then access: asked the partner's age, then for pictures, a meeting or sexual talk")
    # 2. No child to entice: when everyone the author talks to is an adult and nobody shows a child's life, cap at low.
    elif (partners and all(p.likely_adult() for p in partners) and not any(p.cues.get("minor_life") for p in partners)
          and not s.is_minor() and threat < 0.8):
        if risk > 0.3:
            risk = 0.3
            fired.append("adults: everyone the author talks to is an adult")
    # 3. Peers: the author is a child (by age or by what they write, with no sign of an adult), talking to
    #    children of about the same age or of unknown age, and shows none of the tactics that are alarming even
    #    between peers (sending own images, threats): at most medium.
    elif (s.likely_minor() and s.claimed_age in (None, s.stated_age) and not s.cues.get("adult_life") and partners  # noqa: SIM102
          and not any(p.likely_adult() for p in partners)
          and _ages_close(s, partners)
          and max(m[SENDS_SEXUAL_CONTENT], m[THREAT]) < ON
          and sum([m[i] >= ON for i in ISOLATION]) < 2):
        if risk > 0.55:
            risk = 0.55
            fired.append("peers: a child talking to children of about the same or unknown age")
    # 4. Carers involved: an author who brings the child's parents in ("ask your mom", "your dad said it's fine")
    #    is not isolating the child; without secrecy, sexual talk, own images or threats, at most medium.
    if (risk > 0.55 and s.cues.get("transparency")
            and max(m[SECRECY], m[SEXUAL_TALK], m[SENDS_SEXUAL_CONTENT], m[THREAT]) < ON):
        risk = 0.55
        fired.append("carers involved: the author brings the parents in and asks for no secrecy")
    # 5. A known relationship: 98% of reported offenders are unknown to the child offline (ENTICEMENT.md). When
    #    the conversation is plainly between a coach, teacher, relative or trading partner and the child (the
    #    author talks about the team, school, family or the trade, and the child does too or the author does so
    #    repeatedly), and there is no sexual talk, own images or threat: at most medium.
    if (risk > 0.55 and sum(s.cues.get(c, 0) for c in LEGITIMATE_CONTEXT) >= 1
            and sum(p.cues.get(c, 0) for p in partners for c in LEGITIMATE_CONTEXT) >= 1
            and max(m[SEXUAL_TALK], m[SENDS_SEXUAL_CONTENT], m[THREAT]) < ON):
        risk = 0.55
        fired.append("known relationship: team, school, family or trade context and no sexual talk or threat")
    # 6. Weak alone: without any of the tactics beyond rapport, age questions, details and gifts, at most medium;
    #    unless it is a stranger's approach to a child: the author asked the age of a partner who is a child (by a
    #    stated age or a child's life), also flattered, asked for details or offered gifts, is not a child by what
    #    they wrote, and neither side mentions a team, school, family or trade, nor the author the carers.
    if risk > 0.55 and max([m[i] for i in SEVERE]) < ON and not _approach_to_child(s, partners):
        risk = 0.55
        fired.append("weak alone: no tactic beyond rapport, questions, details or gifts")
    return risk, fired


def _approach_to_child(s: AuthorState, partners: list[AuthorState]) -> bool:
    """Rule 6's exception: a stranger asking a child's age while flattering, collecting details or offering gifts."""
    m = s.max_probs
    grooming = m[RAPPORT] >= ON or m[PERSONAL_INFO] >= ON or m[INCENTIVE] >= ON
    return bool(s.probed and grooming and not s.likely_minor()
                and any(p.is_minor() or p.cues.get("minor_life") for p in partners)
                and not any(s.cues.get(c) for c in LEGITIMATE_CONTEXT + ("transparency",))
                and not any(p.cues.get(c) for p in partners for c in LEGITIMATE_CONTEXT))


# ------------------------------------------------------------------------------------------------
# The public analyzers


class StreamingAnalyzer:
    """Feed messages one at a time (`feed`); `result()` is at any point the analysis of what was read so far.

    Feeding every message of a conversation and calling `result()` gives exactly `analyze(conversation)`.
    """

    def __init__(self, participants: Iterable[Participant | Mapping[str, Any]] = (), *, conversation_id: str = "conversation",
                 language: str = "en", model: DetectorModel | None = None) -> None:
        self.conversation_id = conversation_id
        self.model = model or default_model(language)
        if self.model.risk_model is None:
            raise ValueError("the model has no risk model; train it fully before analysing")
        self._risk_model = self.model.risk_model
        self.state = ConversationState(get_language(self.model.language), self.model.tactic_model,
                                       [_participant(p) for p in participants], self.model.disclosure_threshold)
        self.author_risks: dict[str, float] = {}
        self.author_rules: dict[str, list[str]] = {}
        self.author_peaks: dict[str, float] = {}
        """The highest risk each author reached while reading (what levels and reported tactics rest on)."""
        self.peak_risk = 0.0
        self.peak_author: str | None = None
        self.first_alert: str | None = None
        self.discloser: str | None = None
        """The participant who disclosed, once established: alerts are withdrawn and risk capped at medium."""
        self.thresholds = self.model.thresholds()
        self._thresholds: list[float] = self.thresholds.tolist()

    def feed(self, message: Message | Mapping[str, Any]) -> MessageAssessment:
        """Read the next message (a Message or a dict with id, author, text, time)."""
        message = _message(message, len(self.state.records) + 1)
        probs, _ = self.state.add(message)
        writer = self.state.author(message.author)
        # A disclosure is told, mostly: someone who writes more serious tactics in their own voice than they tell
        # of (a sextortionist posing as a fellow victim: "he said he'll post it... send me the card codes") is not
        # a discloser, and their alert stands.
        if (self.discloser is None and writer.disclosing >= self.model.disclosure_messages
                and writer.disclosing >= writer.severe_direct):
            # A disclosure is established: what read as tactics is told of, not done. Withdraw the alert.
            self.discloser = message.author
            self.first_alert = None
            self.peak_risk = min(self.peak_risk, DISCLOSURE_CAP)
            self.author_peaks = {a: min(r, DISCLOSURE_CAP) for a, r in self.author_peaks.items()}
            for author in self.author_risks:
                self._score(author)
        self._score(message.author)
        if self.state.partner_view_changed:
            # What the partners know changed (an age stated, distress shown, ...): rescore them too.
            for author in self.author_risks:
                if author != message.author:
                    self._score(author)
        author, risk = max(self.author_risks.items(), key=lambda item: item[1])
        if risk > self.peak_risk:
            self.peak_risk, self.peak_author = risk, author
        level = level_for_risk(self.peak_risk)
        first = False
        if self.first_alert is None and is_alert(level):
            self.first_alert, first = message.id, True
        shown = {TACTICS[i]: round(p, 3) for i, (p, threshold) in enumerate(zip(probs.tolist(), self._thresholds))
                 if p >= threshold}
        return MessageAssessment(message.id, message.author, shown, round(self.peak_risk, 4), level,
                                 self.first_alert is not None, first)

    def _score(self, author: str) -> None:
        state = self.state
        partners = state.partners(author)
        vector = state._features(state.author(author), partners)
        risk = self._risk_model.risk(vector)
        risk, fired = apply_rules(state, author, risk, partners)
        if self.discloser is not None and risk > DISCLOSURE_CAP:
            risk = DISCLOSURE_CAP
            fired.append(f"disclosure: {self.discloser} tells of an approach; no enticement alert")
        self.author_risks[author] = risk
        self.author_rules[author] = fired
        if risk > self.author_peaks.get(author, 0.0):
            self.author_peaks[author] = risk

    def result(self) -> AnalysisResult:
        """The analysis of the conversation read so far."""
        model = self.model
        records = self.state.records
        risk = round(self.peak_risk, 4)
        level = level_for_risk(self.peak_risk)
        suspected = self.peak_author if level != "none" else None
        findings: list[TacticFinding] = []
        for message, probs, reading in records:
            author_risk = self.author_peaks.get(message.author, 0.0)
            if author_risk < model.finding_risk:
                continue
            for index, (p, threshold) in enumerate(zip(probs.tolist(), self._thresholds)):
                if p >= threshold:
                    findings.append(TacticFinding(TACTICS[index], message.id, message.author, round(p, 3),
                                                  _evidence(self.state.language, model.tactic_model, reading,
                                                            message.text, index)))
        found = {f.tactic for f in findings if f.author == suspected}
        incident = IncidentType.ONLINE_ENTICEMENT.value if level in ("high", "critical") and suspected else None
        annotations: list[str] = []
        if suspected and "sextortion_threat" in found and level in ("high", "critical"):
            annotations.append("sextortion")
        if (suspected and "image_request" in found and level in ("high", "critical")
                and found & {"sexual_talk", "sends_sexual_content", "sextortion_threat"}):
            annotations.append("csamSolicitation")  # images asked for in a sexualised or coercive context
        state = self.state.authors.get(suspected) if suspected else None
        if (state is not None and state.is_minor() and level in ("medium", "high", "critical")
                and all(p.is_minor() for p in self.state.partners(suspected or ""))):
            annotations.append("minorToMinorInteraction")
        reasons: list[str] = []
        if suspected:
            vector = self.state.features(suspected)
            reasons = [f"{name} (+{value})" for name, value in self._risk_model.explain(vector)]
            reasons += [f"rule {rule}" for rule in self.author_rules.get(suspected, [])]
        disclosure = self._disclosure() if self.discloser is not None else None
        return AnalysisResult(
            disclosure=disclosure,
            conversation_id=self.conversation_id,
            risk=risk,
            level=level,
            suspected_author=suspected,
            first_alert_message=self.first_alert,
            tactics=findings,
            suggested_incident_type=incident,
            suggested_annotations=annotations,
            messages_read=len(records),
            author_risks={a: round(r, 4) for a, r in self.author_peaks.items()},
            reasons=reasons,
        )


    def _disclosure(self) -> Disclosure:
        """The discloser's disclosing messages as evidence, and what in the whole conversation makes it urgent."""
        from tipline.enticement.free_text import deadline  # free_text reads through this package's model

        discloser = self.discloser or ""
        ids = list(self.state.author(discloser).disclosure_messages)
        by_id = {message.id: message for message, _, _ in self.state.records}
        urgent: list[str] = []
        for message, probs, _ in self.state.records:
            if probs[T["sextortion_threat"]] >= ON and "threat" not in urgent:
                urgent.append("threat")
            if probs[T["meeting_request"]] >= ON and "meeting" not in urgent:
                urgent.append("meeting")
            if deadline(message.text) and "deadline" not in urgent:
                urgent.append("deadline")
        return Disclosure(discloser, ids, [by_id[i].text.strip()[:200] for i in ids if i in by_id], urgent)


def _evidence(language: LanguagePack, model: TacticModel, reading: MessageReading, text: str, tactic_index: int) -> str:
    """The original words that show a tactic: every rule match, widened to the model's strongest nearby words."""
    positions: list[int] = []
    tactic = TACTICS[tactic_index]
    offsets = reading.offsets
    hit = reading.rule_hits.get(tactic)
    for start, end in language.rule_spans(tactic, reading.normalised, hit[0]) if hit is not None else []:
        positions += [i for i, o in enumerate(offsets) if o < end and o + len(reading.tokens[i]) > start]
    for feature, _ in model.top_features(reading, tactic_index, limit=3):
        kind, _, value = feature.partition(":")
        if kind == "w":
            positions += [i for i, t in enumerate(reading.tokens) if t == value][:1]
        elif kind == "b":
            first, _, second = value.partition("_")
            positions += next(([i, i + 1] for i in range(len(reading.tokens) - 1)
                               if reading.tokens[i] == first and reading.tokens[i + 1] == second), [])
    if not positions:
        return text.strip()[:200]
    positions.sort()
    anchor = positions[0]
    positions = [p for p in positions if abs(p - anchor) <= 8]
    start, end = reading.spans[min(positions)][0], reading.spans[max(positions)][1]
    return text[start:end][:200]


def _participant(value: Participant | Mapping[str, Any]) -> Participant:
    if isinstance(value, Participant):
        return value
    age = value.get("claimed_age")
    return Participant(str(value["id"]), value.get("display_name"), age if isinstance(age, int) else None)


def _message(value: Message | Mapping[str, Any], position: int) -> Message:
    if isinstance(value, Message):
        return value
    return Message(str(value.get("id", position)), str(value["author"]), str(value.get("text") or ""), value.get("time"))


def analyze(conversation: Conversation | Mapping[str, Any], *, language: str = "en",
            model: DetectorModel | None = None) -> AnalysisResult:
    """Analyse a whole conversation (a Conversation, or a tipline conversation JSON object) in reading order."""
    if not isinstance(conversation, Conversation):
        from tipline.enticement.formats import conversation_from_dict

        conversation = conversation_from_dict(dict(conversation))
    analyzer = StreamingAnalyzer(conversation.participants, conversation_id=conversation.id, language=language, model=model)
    for message in conversation.messages:
        analyzer.feed(message)
    return analyzer.result()
