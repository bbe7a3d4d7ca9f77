"""Reading a report's free text (a parent's description, an ESP's additional information) for what
makes it urgent: threats, deadlines, money demands, meeting plans and a child's stated age.

A description is not a chat: it tells of an incident in the third person ("he says he will send the
picture to her school unless she pays $500 by Friday 6pm"). Each sentence is read with the same
tactic model as chat messages (threats, meeting plans, image requests), and the words that fix the
urgency are found directly: a deadline, an amount or payment account demanded, a child's age. Every
finding quotes the sentence it comes from, so triage can give the words as its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tipline.enticement.languages import get_language
from tipline.enticement.model import DetectorModel, default_model
from tipline.enticement.tactics import TACTICS
from tipline.linking.payments import find_payment_handles

TEXT_TACTICS = ("sextortion_threat", "meeting_request", "image_request")
"""The tactics read in free text: the ones that make a report urgent when a reporter describes them."""

KINDS = (*TEXT_TACTICS, "deadline", "money_demand", "child_age")
TEXT_THRESHOLD = 0.7
"""A sentence of a description tells of a threat, a meeting or an image request when the tactic model gives at least
this (or the model's own threshold, if higher): a reporter's full sentences are not chat, and a false "meeting
planned" ranks a report P1, so past events ("we met the coach at the game") must not pass."""
MAX_QUOTE = 300
MAX_TEXT = 50_000  # a description longer than this is read in its first 50,000 characters

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock)"
_SPAN = r"(?:\d+|one|two|three|four|five|six|twelve|twenty[- ]four|24|48|72)\s*(?:min(?:ute)?s?|h(?:ou)?rs?|hours?|days?)"
_DEADLINE = re.compile(
    rf"\b(?:by|before|until|till|within|in the next|no later than)\s+(?:the\s+)?"
    rf"(?:tonight|tomorrow(?:\s+(?:morning|night|at\s+{_CLOCK}))?|today|midnight|noon|end of (?:the )?day|"
    rf"(?:this\s+|next\s+)?{_DAY}(?:\s+(?:at\s+)?(?:{_CLOCK}|morning|night|evening))?|{_CLOCK}|{_SPAN})"
    rf"|\b(?:you|u|she|he|they|we) (?:only )?(?:have|has|got) (?:only )?{_SPAN}"
    rf"|\b{_SPAN} (?:left|to pay|or else)\b|\bcount ?down\b",
    re.IGNORECASE,
)
_AMOUNT = (r"(?:[$£€]\s?\d[\d,]*(?:\.\d\d)?k?|\d[\d,]*(?:\.\d\d)?\s?(?:dollars|usd|pounds|gbp|euros?|eur|bucks)\b"
           r"|(?:\w+\s)?gift ?cards?|bitcoin|btc|crypto(?:currency)?|robux|v-?bucks)")
_DEMAND = re.compile(
    rf"\b(?:demand(?:s|ed|ing)?|wants?|wanted|asks? for|asked (?:for|\w+ for)|asking (?:for|\w+ for)|pay(?:s|ing)?|"
    rf"make (?:her|him|me|us|them) pay|send (?:him|her|them|it)|transfer|give (?:him|her|them))\b[^.!?\n]{{0,60}}?"
    rf"(?P<amount>{_AMOUNT})",
    re.IGNORECASE,
)
# A meeting told in the third person: "he keeps asking my niece to meet him at the mall".
_MEETING = re.compile(
    r"\b(?:ask(?:s|ed|ing)?|want(?:s|ed)?|tr(?:y|ies|ied|ying)|plan(?:s|ned|ning)?|arrang(?:e|es|ed|ing)|"
    r"invit(?:e|es|ed|ing)|told|tells|pressur\w*|convinc\w*|offer(?:s|ed|ing)?|insist\w*)\b[^.!?\n]{0,40}?"
    r"\b(?:to meet|meet (?:up|him|her|them|in person)|(?:to )?pick (?:her|him|them) up|come (?:over|to his|to her)|"
    r"to visit (?:him|her)|run away with)",
    re.IGNORECASE,
)
_CHILD_WORDS = (r"(?:son|daughter|child|kid|niece|nephew|grandson|granddaughter|student|pupil|stepson|stepdaughter|"
                r"(?:little |younger |baby )?(?:sister|brother)|girl|boy)")
_AGES = (
    re.compile(rf"\b(\d{{1,2}})[- ]?(?:year|yr)s?[- ]?old\s+{_CHILD_WORDS}\b", re.IGNORECASE),
    re.compile(rf"\b(?:my|our|his|her)\s+{_CHILD_WORDS}(?:\s*,?\s*[A-Z][a-z]+)?\s*,?\s*(?:who\s+is\s+|who's\s+|is\s+|"
               r"aged?\s+)(?:only\s+|just\s+)?(\d{1,2})\b(?!\s*(?:%|dollars|\$|:|am|pm|times|minutes|hours|days))",
               re.IGNORECASE),
    re.compile(r"\b(?:my|our)\s+(\d{1,2})[- ]?(?:year|yr)s?[- ]?old\b", re.IGNORECASE),
    re.compile(r"\b(?:i am|i'm|im)\s+(?:only\s+|just\s+)?(\d{1,2})(?:\s+years?\s+old|\s+y/?o)?\b(?!\s*(?:%|:|am|pm))",
               re.IGNORECASE),
    re.compile(r"\b(?:she|he)\s*(?:is|'s)\s+(?:only\s+|just\s+)(\d{1,2})\b|\b(?:she|he)\s*(?:is|'s)\s+(\d{1,2})\s+years?\s+old\b",
               re.IGNORECASE),
)


@dataclass(frozen=True, slots=True)
class TextFinding:
    """One thing a free-text field says: what kind, where (the field's path), the sentence quoted, and a
    value where there is one (the age, the amount or account, the deadline's words)."""

    kind: str
    path: str
    quote: str
    value: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "quote": self.quote, "value": self.value}


def sentences(text: str) -> Iterator[str]:
    """The sentences (and lines) of a text, trimmed, without empty ones."""
    for sentence in _SENTENCE.split(text[:MAX_TEXT]):
        sentence = sentence.strip()
        if sentence:
            yield sentence


def _quote(sentence: str) -> str:
    return sentence if len(sentence) <= MAX_QUOTE else sentence[: MAX_QUOTE - 1] + "…"


def deadline(text: str) -> str | None:
    """The words of a deadline the text sets ("by Friday 6pm", "you have 2 hours"), if any."""
    match = _DEADLINE.search(text)
    return match.group(0) if match else None


def child_age(sentence: str) -> int | None:
    """A child's age the sentence states ("my 13-year-old son", "my daughter is 14", "I'm 15"), if any."""
    for pattern in _AGES:
        match = pattern.search(sentence)
        if match:
            age = int(next(group for group in match.groups() if group))
            if 3 <= age <= 17:
                return age
    return None


def read_text(path: str, text: str, model: DetectorModel | None = None, language: str = "en") -> list[TextFinding]:
    """What one free-text field says, each finding once per sentence, in reading order."""
    model = model or default_model(language)
    pack = get_language(language)
    threshold = max(model.tactic_threshold, TEXT_THRESHOLD)
    indices = [TACTICS.index(tactic) for tactic in TEXT_TACTICS]
    found: list[TextFinding] = []
    for sentence in sentences(text):
        quote = _quote(sentence)
        probs = model.tactic_model.probabilities(pack.read(sentence))
        for tactic, index in zip(TEXT_TACTICS, indices, strict=True):
            if probs[index] >= threshold or (tactic == "meeting_request" and _MEETING.search(sentence)):
                found.append(TextFinding(tactic, path, quote))
        words = deadline(sentence)
        if words:
            found.append(TextFinding("deadline", path, quote, words))
        demand = _DEMAND.search(sentence)
        payments = [handle.raw for handle in find_payment_handles(sentence)]
        if demand or (payments and re.search(r"\b(?:pay|send|demand|wants?|transfer)\b", sentence, re.IGNORECASE)):
            found.append(TextFinding("money_demand", path, quote, demand.group("amount") if demand else payments[0]))
        age = child_age(sentence)
        if age is not None:
            found.append(TextFinding("child_age", path, quote, str(age)))
    return found


def read_report_text(fields: Iterable[tuple[str, str]], model: DetectorModel | None = None,
                     language: str = "en") -> list[TextFinding]:
    """What every free-text field of a report says ((path, text) pairs, e.g. `ReportContent.free_text()`)."""
    return [finding for path, text in fields if text.strip() for finding in read_text(path, text, model, language)]
