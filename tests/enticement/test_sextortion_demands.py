"""Detector v4 (issue 10): sextortion's demands in the words offenders use, card codes, payment apps, crypto and more
images, make a threat critical; the same words without a threat, or ordinary "more" and "wallet", do not."""

from __future__ import annotations

import pytest

from tipline.enticement import Conversation, Message, Participant, analyze
from tipline.enticement.languages import get_language


def chat(*lines: str, ages: dict[str, int] | None = None) -> Conversation:
    """A conversation from 'author: text' lines."""
    messages = []
    for number, line in enumerate(lines, start=1):
        author, _, text = line.partition(": ")
        messages.append(Message(f"m{number}", author, text))
    authors = dict.fromkeys(m.author for m in messages)
    participants = [Participant(a, a, (ages or {}).get(a)) for a in authors]
    return Conversation("test", messages, participants)


@pytest.mark.parametrize(("text", "demand"), [
    ("send 150 in steam cards and ill delete everything", True),
    ("i want 500 in bitcoin. wallet address below", True),
    ("take a pic of the card codes and send here", True),
    ("cash app me 200 now", True),
    ("one more video. face in it. tonight", True),
    ("Send me two more by tonight", True),
    ("another pic or i post it", True),
    ("can i have some more fries", False),
    ("we need two more players for the squad", False),
    ("my wallet is in the car", False),
])
def test_the_demand_cue_knows_how_sextortion_is_paid(text: str, demand: bool) -> None:
    assert bool(get_language("en").read(text).cues.get("demand")) is demand


def test_threats_with_a_demand_for_steam_cards_are_critical() -> None:
    result = analyze(chat(
        "jayden_rx: u there",
        "kai: who is this",
        "jayden_rx: i have ur pics saved. every one",
        "jayden_rx: send 150 in steam cards and ill delete everything",
        "kai: i dont have that",
        "jayden_rx: then find it. u got 2 hours or i post it to ur school",
        ages={"kai": 15},
    ))
    assert result.level == "critical", result.details()
    assert result.suspected_author == "jayden_rx"
    assert "sextortion" in result.suggested_annotations


def test_threats_demanding_more_images_are_critical() -> None:
    result = analyze(chat(
        "not.going.away: blocking me didnt work huh",
        "matty: leave me alone",
        "not.going.away: one more video tonight or i post the pictures to your club page",
        "matty: please dont",
        "not.going.away: send it or everyone sees it. you have 1 hour",
        ages={"matty": 14},
    ))
    assert result.level == "critical", result.details()
    assert result.suspected_author == "not.going.away"


def test_a_seller_asking_for_payment_by_app_does_not_alert() -> None:
    result = analyze(chat(
        "dana: is the bike still available?",
        "lee: yes, $120, pick it up saturday",
        "dana: can i pay by venmo or cash app?",
        "lee: venmo is fine. send me one more message when you leave",
    ))
    assert not result.alert, result.details()
