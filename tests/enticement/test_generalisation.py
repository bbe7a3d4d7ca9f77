"""Detector v3 (issue 10): the bare age-then-picture approach, deadlines that are threats and those that are not,
quoted words read as told rather than done, and a stranger's approach to a child alerting before any picture."""

from __future__ import annotations

import pytest

from tipline.enticement import Conversation, Message, Participant, analyze
from tipline.enticement.languages import get_language
from tipline.enticement.languages.base import quotes_others


def chat(*lines: str, ages: dict[str, int] | None = None) -> Conversation:
    """A conversation from 'author: text' lines."""
    messages = []
    for number, line in enumerate(lines, start=1):
        author, _, text = line.partition(": ")
        messages.append(Message(f"m{number}", author, text))
    authors = dict.fromkeys(m.author for m in messages)
    participants = [Participant(a, a, (ages or {}).get(a)) for a in authors]
    return Conversation("test", messages, participants)


def test_bare_age_question_then_picture_request_is_at_least_medium() -> None:
    """Two lines, nothing else: an adult asking a child's age and then for a picture is not 'none'."""
    result = analyze(chat("drk: how old r u", "drk: send me a pic"))
    assert result.level in ("medium", "high", "critical"), result.details()
    assert result.suspected_author == "drk"
    assert any("age, then access" in reason for reason in result.details()["reasons"])


def test_age_question_answered_by_a_child_then_picture_request_alerts() -> None:
    result = analyze(chat("drk: how old r u", "lil: 13", "drk: send me a pic"))
    assert result.alert and result.suspected_author == "drk", result.details()
    assert result.first_alert_message == "m3"


def test_same_age_peers_swapping_ages_and_selfies_do_not_alert() -> None:
    result = analyze(chat(
        "jo: how old r u", "pip: 13 u", "jo: im 13 too lol", "jo: send a selfie so i know ur real",
        "pip: [photo]", "pip: ur turn",
    ))
    assert not result.alert, result.details()


@pytest.mark.parametrize(("text", "threat"), [
    ("u have 20 min", True),
    ("ok then. 1 hour", True),
    ("30 mins left", True),
    ("sending it to your school in 10 min", True),
    ("Wonderful. $18/hr, and I'll leave pizza money", False),
    ('"we drove 3 hours for this" lol', False),
    ("took me like 3 hrs ngl", False),
])
def test_a_deadline_is_a_threat_rule_hit_a_price_or_a_journey_is_not(text: str, threat: bool) -> None:
    reading = get_language("en").read(text)
    assert ("sextortion_threat" in reading.rule_hits) is threat


def test_quoting_someone_elses_words_reads_as_told() -> None:
    pack = get_language("en")
    assert pack.read('He wrote "you\'re so mature, don\'t tell your parents" to her').reported
    assert pack.read("Often very flattering, “you're so mature”, then more").reported
    # a short label in quotes, or a whole message in quotes, is not a quotation of someone else
    assert not pack.read('gave you the "rising artist" role').reported
    assert not pack.read('"Settlement of 300 avoids further action"').reported
    assert quotes_others('she said "send me a picture now" and left')
    assert not quotes_others("send me a picture now")


def test_a_strangers_approach_to_a_child_alerts_before_any_picture_request() -> None:
    """Flattery, the child's age and a gift from someone who never mentions a team, school or family: the alert comes
    before the first image request, threat or meeting request."""
    result = analyze(chat(
        "sunny_b: hi beautiful",
        "amelia: who r u",
        "sunny_b: ur so pretty, how old r u",
        "amelia: 13",
        "sunny_b: wow ur so mature for ur age",
        "sunny_b: i'll buy you a gift card for your birthday",
        "sunny_b: send me a picture of you",
    ))
    assert result.alert and result.suspected_author == "sunny_b", result.details()
    assert result.first_alert_message in ("m3", "m4", "m5", "m6"), result.details()


@pytest.mark.parametrize(("text", "reported"), [
    ("he say is only a joke and that i must not tell my mother", True),
    ("a girl on insta said shes 14 and asked me to send a pic", True),
    ("the guy from the app who said he was 15 just asked for a pic", True),
    ("someone online has a pic of me and says hell send it to everyone", True),
    ("send me a pic and i'll say yes", False),
    ("i said no", False),
])
def test_reported_speech_told_in_many_voices(text: str, reported: bool) -> None:
    """A disclosure is told in non-native English ("he say") and with the teller describing who ("the guy from the
    app who said"): those words read as told of, so the discloser is not taken for the one who did it."""
    assert get_language("en").read(text).reported is reported


def test_a_safety_lesson_quoting_a_threat_is_not_a_threat() -> None:
    """Quoted or reported tactics are someone else's: a lesson that quotes a sextortion demand does not alert, the
    same words said directly to a child are critical."""
    lesson = analyze(chat(
        'mr_hale: Here is an example: "Pay me $100 or I\'ll send your photo to your school." That is sextortion',
        "student: what do we do",
        'mr_hale: Another: "you have 2 hours or everyone sees it". Don\'t pay, screenshot it, tell a trusted adult',
        "student: ok",
    ))
    assert not lesson.alert, lesson.details()
    threat = analyze(chat(
        "x_k: pay me $100 or i'll send your photo to your school",
        "ana: please dont",
        "x_k: you have 2 hours or everyone sees it",
    ), )
    assert threat.alert and threat.suspected_author == "x_k", threat.details()


@pytest.mark.parametrize(("text", "general"), [
    ("If someone you don't know asks for a photo, tell a trusted adult", True),
    ("Scammers often pretend to be a teen girl and then ask for pictures", True),
    ("Red flags: they ask you to move to another app and keep it secret", True),
    ("Q3: Someone says 'send me a pic or I'll post the old one'. What do you do?", True),
    ("never send pictures to anyone you met online", True),
    ("send me a picture of you, don't tell your parents", False),
    ("if they check ur phone delete our chats", False),
    ("Lesson 4: how do you say secret in english", False),
    ("I'll get you a gift card if you get 100%", False),
])
def test_approaches_spoken_of_in_general_read_as_told(text: str, general: bool) -> None:
    """Warnings, safety lessons and moderators speak of tactics in general ("if someone asks you", "scammers often");
    those words are told, not the writer's own approach, while an enticer's direct words and a language tutor's
    lesson headings are not."""
    reading = get_language("en").read(text)
    assert reading.general is general
    assert reading.told is (general or reading.reported)
