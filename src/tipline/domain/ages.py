"""Ages as people give them when they are not sure: "about 14", "13 or 14", "maybe 20s", "teen".

A worried parent rarely knows the exact age of the person who wrote to their child, and a child
reporting about a friend may only know "year 9". The public form accepts such answers and keeps
them as a range (`low`..`high`) together with the words typed, so an analyst sees both what the
reporter said and what tipline understood. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pydantic import Field, model_validator

from tipline.domain.base import DomainModel

_UNITS = {
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    # Spanish
    "cero": 0, "uno": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
    "veinti": 20, "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70,
    "ochenta": 80, "noventa": 90,
}
_DECADE_WORDS = {
    "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
    "eighties": 80, "nineties": 90,
    "veintes": 20, "treintas": 30, "cuarentas": 40, "cincuentas": 50, "sesentas": 60,
}
_TEEN_WORDS = ("teen", "teens", "teenager", "teenage", "adolescent", "adolescente", "adolescentes")
# Hedges said around an age. They change nothing in the range but are part of the words kept.
_HEDGES = (
    "about", "around", "approximately", "approx", "roughly", "maybe", "perhaps", "probably", "like",
    "nearly", "almost", "i think", "i guess", "not sure", "possibly", "aged", "age", "years old", "year old",
    "yrs old", "yrs", "yo", "y/o", "years", "ish", "or so", "or something", "circa", "ca",
    "unos", "unas", "alrededor de", "aproximadamente", "mas o menos", "quizas", "quiza", "tal vez", "creo que",
    "anos", "de edad", "in his", "in her", "in their", "en sus",
)
_OLDER = ("over", "older than", "at least", "more than", "mas de", "mayor de")
_YOUNGER = ("under", "younger than", "less than", "below", "menos de", "menor de")
_EARLY = ("early", "principios de los")
_MID = ("mid", "mid-", "middle")
_LATE = ("late", "finales de los")


class AgeGuess(DomainModel):
    """An age, or a range of ages, as the reporter gave it."""

    low: int = Field(ge=0, le=130, description="The youngest the person may be")
    high: int = Field(ge=0, le=130, description="The oldest the person may be")
    words: str = Field(max_length=200, description="What the reporter typed")

    @model_validator(mode="after")
    def _ordered(self) -> AgeGuess:
        if self.low > self.high:
            raise ValueError("an age range's low end is above its high end")
        return self

    @property
    def exact(self) -> int | None:
        """The age when the reporter gave one number (with or without "about")."""
        return self.low if self.low == self.high else None

    def describe(self) -> str:
        span = str(self.low) if self.low == self.high else f"{self.low}\u2013{self.high}"
        return f"{span} (\u201c{self.words}\u201d)"


@dataclass(frozen=True)
class AgeProblem:
    """Why an answer could not be read as an age; `message` is for the person who typed it."""

    message: str
    out_of_range: bool = False


def _fold(text: str) -> str:
    """Lower case, accents removed, any script's digits as ASCII digits, dashes and tildes as spaces."""
    out = []
    for ch in unicodedata.normalize("NFKD", text.lower()):
        if unicodedata.combining(ch):
            continue
        digit = unicodedata.digit(ch, None) if not ch.isascii() else None
        if digit is not None and unicodedata.category(ch) == "Nd":
            out.append(str(digit))
        else:
            out.append(ch)
    folded = "".join(out)
    folded = re.sub(r"[~\u2013\u2014\-?!.,;:()]", " ", folded)
    folded = folded.replace("'s", "s").replace("\u2019s", "s")
    return " ".join(folded.split())


def _number_words(text: str) -> str:
    """Number words turned into digits: "fourteen" → "14", "twenty one" → "21", "veintidos" → "22"."""
    tokens = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        glued = re.fullmatch(r"(veinti|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(\w+)", token)
        if glued and glued.group(2) in _UNITS and _UNITS[glued.group(2)] < 10:
            out.append(str(_TENS[glued.group(1)] + _UNITS[glued.group(2)]))
        elif token in _TENS and token != "veinti":
            value = _TENS[token]
            nxt = tokens[i + 1:i + 3]
            if nxt[:1] == ["y"] and len(nxt) > 1 and nxt[1] in _UNITS and _UNITS[nxt[1]] < 10:
                value += _UNITS[nxt[1]]
                i += 2
            elif nxt[:1] and nxt[0] in _UNITS and 0 < _UNITS[nxt[0]] < 10:
                value += _UNITS[nxt[0]]
                i += 1
            out.append(str(value))
        elif token in _UNITS:
            out.append(str(_UNITS[token]))
        else:
            out.append(token)
        i += 1
    return " ".join(out)


def _strip(text: str, phrases: tuple[str, ...]) -> tuple[str, bool]:
    """`text` without the given phrases (as whole words), and whether any was there."""
    found = False
    for phrase in sorted(phrases, key=len, reverse=True):
        pattern = r"(?<![\w/])" + re.escape(phrase) + r"(?![\w/])"
        if re.search(pattern, text):
            found = True
            text = re.sub(pattern, " ", text)
    return " ".join(text.split()), found


def parse_age_guess(text: str, *, low: int = 0, high: int = 120) -> AgeGuess | AgeProblem | None:
    """Read an age as typed. None for an empty answer; an `AgeProblem` when no age can be read or the
    age lies outside [low, high] (the message says which); else the range, with the words kept.

    Understood: "14", "about 14", "14ish", "~14", "13 or 14", "13-14", "between 13 and 14", "fourteen",
    "20s", "maybe 20s", "early 30s", "mid-forties", "late teens", "teen", "over 40", "under 10",
    and the same in Spanish ("unos 14", "catorce", "treinta y tantos" is not)."""
    words = " ".join(text.split())
    if not words:
        return None
    if len(words) > 200:
        return AgeProblem("That is too long for an age. Enter a number such as 14, or words such as \u201cabout 14\u201d.")
    folded = _number_words(_fold(words))
    folded = re.sub(r"(\d)\s*ish\b", r"\1 ish", folded)
    folded = re.sub(r"(\d0) s\b", r"\1s", folded)
    folded = re.sub(r"\b(\d0) ?(?:something|odd|plus|\+|y pico|y tantos|y algo)$", r"\1s", folded)
    folded, _ = _strip(folded, _HEDGES)

    decade: int | None = None
    found = re.fullmatch(r"(?:(\w+(?: \w+)*) )?(\d0)s", folded) or re.fullmatch(r"(?:(\w+(?: \w+)*) )?(\w+ies|\w+tas|veintes)", folded)
    part = None
    if found:
        part, number = found.group(1), found.group(2)
        decade = int(number) if number.isdigit() else _DECADE_WORDS.get(number)
    span: tuple[int, int] | None = None
    if decade is not None and decade >= 20:
        span = (decade, decade + 9)
        if part:
            if part in _EARLY:
                span = (decade, decade + 3)
            elif part in _MID:
                span = (decade + 3, decade + 6)
            elif part in _LATE:
                span = (decade + 6, decade + 9)
            else:
                span = None
    elif decade is None:
        rest, teen = _strip(folded, _TEEN_WORDS)
        if teen and rest in ("", "a"):
            span = (13, 19)
        elif teen and rest in _EARLY:
            span = (13, 15)
        elif teen and rest in _MID:
            span = (14, 17)
        elif teen and rest in _LATE:
            span = (16, 19)
        elif m := re.fullmatch(r"(?:between )?(\d{1,3}) (?:or|to|and|y|o|a) (\d{1,3})|(\d{1,3}) (\d{1,3})", folded):
            first, second = (int(g) for g in (m.group(1, 2) if m.group(1) else m.group(3, 4)))
            if first <= second and second - first <= 10:
                span = (first, second)
        elif m := re.fullmatch(r"(\d{1,3})", folded):
            span = (int(m.group(1)), int(m.group(1)))
        elif m := re.fullmatch(r"(\w+(?: \w+)*) (\d{1,3})", folded):
            bound = int(m.group(2))
            if m.group(1) in _OLDER:
                span = (bound, min(high, max(bound, low) + 20) if high > bound else bound)
            elif m.group(1) in _YOUNGER and bound > 0:
                span = (max(low, 0), bound - 1)
    if span is None:
        return AgeProblem("Enter an age as a number, for example 14, or in words such as \u201cabout 14\u201d, "
                          "\u201c13 or 14\u201d or \u201c20s\u201d. A guess is fine. Or leave it empty.")
    first, last = span
    if last < low or first > high:
        return AgeProblem(f"Enter an age from {low} to {high}, or leave it empty.", out_of_range=True)
    return AgeGuess(low=max(first, low), high=min(last, high), words=words)
