"""Where a fact was found, in the words a reviewer reads instead of the schema's paths."""

from __future__ import annotations

import pytest

from tipline.domain.paths import describe_path


@pytest.mark.parametrize(("path", "words"), [
    ("victim[0].victimPerson.age", "Victim 1 · age"),
    ("intendedRecipient[1].intendedRecipientPerson.age", "Intended recipient 2 · age"),
    ("internetDetails[0].chatImIncident", "Internet details 1 · chat"),
    ("publicReport.description", "The reporter's own words · what happened"),
    ("personOrUserReported[2].screenName", "Reported person or account 3 · screen name"),
    ("reporter.reportingPerson.phone[0]", "Reporter · phone number 1"),
    ("incidentSummary.someNewElement", "Incident · some new element"),  # an unknown name is split into words
])
def test_a_path_reads_as_words_with_items_numbered_from_one(path: str, words: str) -> None:
    assert describe_path(path) == words


@pytest.mark.parametrize("text", ["the reporter's estimate of the child's age", "analysis 25, message m3", ""])
def test_text_that_is_no_path_is_left_as_it_is(text: str) -> None:
    assert describe_path(text) == text
