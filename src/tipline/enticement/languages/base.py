"""The interface a language implements for the detector: normalisation, tactic lexicon, context cues and stated ages."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tipline.domain.numbers import parse_whole_number
from tipline.enticement.tactics import TACTICS

CONTEXT_CUES: tuple[str, ...] = (
    "sport",  # coaches, teams, practice: a legitimate reason for an adult to talk to a child
    "school",  # teachers, tutors, homework
    "family",  # relatives and family life
    "trade",  # trading in games or marketplaces
    "adult_life",  # work, rent, a car, a spouse: signs the writer is an adult
    "transparency",  # involving the parents ("ask your mom", "your parents are in the group chat")
    "minor_life",  # signs the writer is a child (homework, grounded, "my mom won't let me")
    "distress",  # refusal, fear, pleading
    "demand",  # payment or more material demanded
)

CUE_PASSES: tuple[tuple[str, ...], ...] = (
    ("sport", "school", "family", "trade", "adult_life", "transparency"),
    ("minor_life", "distress", "demand"),
)
"""Cue categories matched together: the words of categories in one pass must not overlap."""


@dataclass(slots=True)
class MessageReading:
    """What a language pack reads in one message: normalised tokens with their spans, rule hits, cues and ages."""

    tokens: list[str]
    """Normalised tokens (lower case, slang expanded); a token may hold several words ("i don't know")."""
    spans: list[tuple[int, int]]
    """For each token, its (start, end) in the original text."""
    normalised: str
    """The tokens joined by single spaces: what the rules match."""
    offsets: list[int]
    """For each token, where it starts in `normalised`."""
    rule_hits: dict[str, tuple[int, int]] = field(default_factory=dict)
    """For each tactic whose rule matched, the (start, end) of the first match in `normalised`."""
    cues: dict[str, int] = field(default_factory=dict)
    """Counts of context cues (see CONTEXT_CUES) in the message."""
    stated_age: int | None = None
    """An age the writer states for themself ("im 13", "I'm in 8th grade"), if any."""
    bare_number: int | None = None
    """The number when the whole message is one number (an answer to "how old are you?")."""
    question: bool = False
    reported: bool = False
    """The writer tells of what someone else said or did ("he keeps asking me", "this guy said"), or quotes someone's
    words: a disclosure's, a warning's or a moderator's words."""
    general: bool = False
    """The writer speaks of such approaches in general, as warnings, lessons and moderators' rules do ("if someone
    asks you", "scammers often", "red flags", "Example 3:"). Read in the writer's state only (`told`), never by the
    tactic model."""
    vector: Any = None
    """The message's dense meaning vector (`tipline.enticement.embeddings`), set by the tactic model."""
    disclosure: float = 0.0
    """The tactic model's probability that the writer is disclosing an approach, threat or abuse."""

    @property
    def told(self) -> bool:
        """Someone else's words or acts, or approaches spoken of in general: not the writer's own tactics."""
        return self.reported or self.general

    def original_span(self, start: int, end: int, text: str) -> str:
        """The original words covering the normalised characters start..end."""
        first = last = None
        for index, offset in enumerate(self.offsets):
            token_end = offset + len(self.tokens[index])
            if token_end > start and offset < end:
                if first is None:
                    first = index
                last = index
        if first is None or last is None:
            return ""
        return text[self.spans[first][0] : self.spans[last][1]]


_QUOTED = re.compile(r'["“”«»]([^"“”«»]+)["“”«»]')


def quotes_others(text: str) -> bool:
    """Whether the message quotes words of three or more (a quotation inside the message, not the whole message):
    people telling of, warning about or moderating an approach quote its words ("he said "don't tell your mom"");
    an enticer rarely quotes himself."""
    for match in _QUOTED.finditer(text):
        if len(match.group(1).split()) >= 3 and (match.start() > 0 or match.end() < len(text.rstrip())):
            return True
    return False


_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|[$€£]\d+", re.UNICODE)
_ASCII_TOKEN = re.compile(_TOKEN.pattern, re.ASCII)
r"""_TOKEN for an ASCII text: the same tokens (\w and \d are the same sets there), by table lookups."""


def _syntax(pattern: str) -> Iterator[int]:
    """The positions of a pattern's characters that are syntax: neither escaped nor inside a character class."""
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            index += 1 + (pattern[index + 1 : index + 2] == "^")  # a "]" right after "[" or "[^" is a literal
        else:
            yield index
        index += 1


def _leading_boundary_removed(pattern: str) -> str | None:
    r"""The pattern without the word boundary `\b` it starts with, when that boundary applies to the whole pattern (no
    `|` outside parentheses); else None."""
    if not pattern.startswith("\\b"):
        return None
    depth = 0
    for index in _syntax(pattern):
        char = pattern[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return None
    return pattern[2:]


def _without_captures(pattern: str) -> str:
    """The pattern with its capturing groups `(...)` made non-capturing `(?:...)`: the same matches, for rules whose
    groups nobody reads, and faster (re saves and restores the marks of capturing groups as it backtracks). Named
    groups stay; a backreference to a numbered group fails to compile, loudly."""
    starts = [index for index in _syntax(pattern) if pattern[index] == "(" and pattern[index + 1 : index + 2] != "?"]
    for index in reversed(starts):
        pattern = pattern[: index + 1] + "?:" + pattern[index + 1 :]
    return pattern


def _alternatives(items: list[tuple[bool, str]]) -> str:
    r"""`a|b|c...` of (starts with `\b`, regex without that `\b`) items, in their order, consecutive bounded items
    sharing one `\b` in front of them. The same regex (a zero-width `\b` tested once instead of per alternative),
    several times faster: `re` tries an alternation at every position of the text, and a shared leading `\b` turns
    that into one test at most positions, where alternatives each starting with `\b` are tried one by one."""
    parts: list[str] = []
    bounded: list[str] = []
    for has_boundary, regex in items:
        if has_boundary:
            bounded.append(regex)
            continue
        if bounded:
            parts.append("\\b(?:" + "|".join(bounded) + ")")
            bounded = []
        parts.append(regex)
    if bounded:
        parts.append("\\b(?:" + "|".join(bounded) + ")")
    return "|".join(parts)


def _alternation(patterns: list[str]) -> str:
    """One regex matching what any of the patterns matches, trying them in order (see `_alternatives`)."""
    items = []
    for pattern in map(_without_captures, patterns):
        rest = _leading_boundary_removed(pattern)
        items.append((rest is not None, f"(?:{pattern if rest is None else rest})"))
    return _alternatives(items)


def _named_alternation(groups: dict[str, list[str]]) -> str:
    """`(?P<name>patterns)|...` for each name in order (see `_alternatives`): `match.lastgroup` names what matched."""
    items = []
    for name, rules in groups.items():
        patterns = [_without_captures(p) for p in rules]
        rests = [_leading_boundary_removed(p) for p in patterns]
        if all(rest is not None for rest in rests):
            items.append((True, f"(?P<{name}>" + "|".join(f"(?:{rest})" for rest in rests) + ")"))
        else:
            items.append((False, f"(?P<{name}>" + _alternation(patterns) + ")"))
    return _alternatives(items)


@dataclass(frozen=True, slots=True)
class _NormalisedRules:
    """A language's rules compiled for the normalised text (one alternation per tactic, the cue passes, reported
    speech, and each tactic's rules apart, for evidence)."""

    tactic_res: dict[str, re.Pattern[str]]
    cue_res: list[re.Pattern[str]]
    reported_re: re.Pattern[str] | None
    tactic_parts: dict[str, list[re.Pattern[str]]]

    @classmethod
    def compile(cls, pack: LanguagePack, flags: int) -> _NormalisedRules:
        return cls(
            {t: re.compile(_alternation(ps), flags) for t, ps in pack.tactic_rules.items() if ps},
            # Few passes find every cue: one regex per group of categories whose words never overlap, a named
            # group per category (the same counts as one search per category, faster).
            [re.compile(_named_alternation({c: pack.cue_rules[c] for c in group if pack.cue_rules.get(c)}), flags)
             for group in CUE_PASSES],
            re.compile(_alternation(pack.reported_rules), flags) if pack.reported_rules else None,
            {t: [re.compile(_without_captures(p), flags) for p in ps] for t, ps in pack.tactic_rules.items()},
        )


class LanguagePack(ABC):
    """A language the detector reads. Subclass it, register it in `tipline.enticement.languages`, train a model."""

    code: str = ""
    name: str = ""
    slang: ClassVar[dict[str, str]] = {}
    tactic_rules: ClassVar[dict[str, list[str]]] = {}
    cue_rules: ClassVar[dict[str, list[str]]] = {}
    reported_rules: ClassVar[list[str]] = []
    """Patterns of reported speech or action by a third person (what a disclosure is told in)."""
    general_rules: ClassVar[list[str]] = []
    """Patterns of speaking of approaches in general (warnings, lessons, moderators' rules), matched on the lower-cased
    text with its punctuation ("Q3:"); such a message is told, like reported speech, in the writer's state."""

    def __init__(self) -> None:
        missing = [t for t in TACTICS if t not in self.tactic_rules]
        if missing:
            raise ValueError(f"language {self.code!r} has no rules for {', '.join(missing)}")
        # The rules read the normalised text: its tokens joined by spaces, so no control character; when it is ASCII
        # (nearly always), \w, \b and \d are the same sets in ASCII mode, which tests them by table lookup instead of
        # Unicode database calls, so the ASCII compilation of the rules gives the same matches, faster.
        self._rules = _NormalisedRules.compile(self, 0)
        self._ascii_rules = _NormalisedRules.compile(self, re.ASCII)
        self._general_re = re.compile(_alternation(self.general_rules)) if self.general_rules else None

    def rule_spans(self, tactic: str, normalised: str, start: int = 0) -> list[tuple[int, int]]:
        r"""Every span of a normalised message that one of a tactic's rules matches (for evidence). `start`: where the
        tactic's first match starts (`MessageReading.rule_hits`), when known: no rule of it matches before, so the
        search starts there (rules still see the text before it, for \b and lookbehinds)."""
        rules = self._ascii_rules if normalised.isascii() else self._rules
        return [m.span() for pattern in rules.tactic_parts.get(tactic, []) for m in pattern.finditer(normalised, start)]

    def read(self, text: str) -> MessageReading:
        """Normalise a message and apply the rules, cue lists and age patterns of the language."""
        tokens: list[str] = []
        spans: list[tuple[int, int]] = []
        offsets: list[int] = []
        position = 0
        slang = self.slang.get
        # "’" is "'" for the tokens: one replace of the text (the same length, so the same spans) instead of one a token
        lowered = text.lower()
        words = lowered.replace("’", "'")
        for match in (_ASCII_TOKEN if words.isascii() else _TOKEN).finditer(words):
            raw = match.group()
            token = slang(raw, raw)
            tokens.append(token)
            spans.append(match.span())
            offsets.append(position)
            position += len(token) + 1
        normalised = " ".join(tokens)
        reading = MessageReading(tokens, spans, normalised, offsets, question="?" in text)
        rules = self._ascii_rules if normalised.isascii() else self._rules
        for tactic, pattern in rules.tactic_res.items():
            hit = pattern.search(normalised)
            if hit:
                reading.rule_hits[tactic] = hit.span()
        cues = reading.cues
        for pattern in rules.cue_res:
            for match in pattern.finditer(normalised):
                cue = match.lastgroup
                if cue is not None:
                    cues[cue] = cues.get(cue, 0) + 1
        if (rules.reported_re is not None and rules.reported_re.search(normalised)) or quotes_others(text):
            reading.reported = True
        if self._general_re is not None and self._general_re.search(lowered):
            reading.general = True
        reading.stated_age = self.stated_age(normalised)
        if len(tokens) == 1:  # ASCII digits only ('①' is a digit to isdigit(), not to int()), 64-bit at most
            reading.bare_number = parse_whole_number(tokens[0], minimum=0)
        return reading

    @abstractmethod
    def stated_age(self, normalised: str) -> int | None:
        """The age a writer states for themself in a normalised message, if any."""
