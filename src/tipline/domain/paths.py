"""Where in a report a fact was found, in words: `victim[0].victimPerson.age` reads "Victim 1 · age".

Triage reasons, jurisdiction clues and free-text findings keep the wire path of what they quote (the
XSD's element names, zero-based indexes) so that they can be traced exactly; screens show this instead.
"""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")

# Element names as a person would say them. An empty name is a wrapper that adds nothing ("victimPerson").
WORDS: dict[str, str] = {
    "incidentSummary": "incident", "incidentType": "incident type", "incidentDateTime": "when it happened",
    "incidentDateTimeDescription": "when it happened, in words", "escalateToHighPriority": "reason to escalate",
    "reportAnnotations": "annotations", "platform": "platform",
    "internetDetails": "internet details", "chatImIncident": "chat", "webPageIncident": "web page",
    "emailIncident": "email", "onlineGamingIncident": "online game", "cellPhoneIncident": "phone",
    "nonInternetIncident": "not online", "peer2peerIncident": "file sharing", "newsgroupIncident": "newsgroup",
    "url": "web address", "content": "content", "chatClient": "chat app", "gameName": "game",
    "victim": "victim", "victimPerson": "", "intendedRecipient": "intended recipient",
    "intendedRecipientPerson": "", "personOrUserReported": "reported person or account",
    "personOrUserReportedPerson": "", "reporter": "reporter", "reportingPerson": "",
    "age": "age", "dateOfBirth": "date of birth", "firstName": "first name", "lastName": "last name",
    "email": "email address", "phone": "phone number", "address": "address", "screenName": "screen name",
    "espService": "service", "profileUrl": "profile address", "ipCaptureEvent": "IP address seen",
    "additionalInfo": "additional information", "publicReport": "the reporter's own words",
    "description": "what happened", "otherPersonDescription": "about the other person",
    "additions": "added later", "contact": "contact", "childAge": "child's age (as given)",
    "otherPersonAge": "other person's age (as given)", "fileDetails": "file details",
    "originalFileName": "original file name", "locationOfFile": "where the file was",
    "offenderKnown": "does the child know them in person",
}

# Coded answers of the public form as a person reads them, by the element that holds them.
VALUE_WORDS: dict[str, dict[str, str]] = {
    "reporterRelationship": {
        "child_themself": "The young person this is about", "parent_or_carer": "A parent or carer of the child",
        "other_family": "Another family member", "friend": "A friend",
        "professional": "Someone who works with children", "other": "Someone else", "not_said": "Not said",
    },
    "childGender": {"female": "Girl", "male": "Boy", "other": "Another gender", "unknown": "Not known"},
    "offenderKnown": {"online_only": "No, only online", "known_offline": "Yes, in person", "unknown": "Not known"},
}


def _words_of(name: str) -> str:
    if name in WORDS:
        return WORDS[name]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def describe_value(key: str, value: object) -> object:
    """A coded answer in words ("parent_or_carer" under reporterRelationship reads "A parent or carer of the
    child"); any other value comes back unchanged."""
    if isinstance(value, str):
        return VALUE_WORDS.get(key, {}).get(value, value)
    return value


def describe_path(path: str) -> str:
    """A wire path in words, items numbered from 1; text that is not a path comes back unchanged."""
    parts: list[str] = []
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            return path
        words = _words_of(match.group(1))
        numbers = [int(n) + 1 for n in re.findall(r"\[(\d+)\]", match.group(2))]
        if words:
            parts.append(" ".join([words, *map(str, numbers)]))
        elif numbers and parts:
            parts[-1] = " ".join([parts[-1], *map(str, numbers)])
    if not parts:
        return path
    text = " · ".join(parts)
    return text[0].upper() + text[1:]
