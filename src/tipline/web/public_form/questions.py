"""The questions of the public report form, the answers each may take, and how a set of answers
becomes a `ReportContent` that analysts read like any other report.

Everything here is pure: no I/O, no clock (the caller passes `now`), so each rule is easy to test.
The wording is for a parent, a teacher or a child who is being threatened: plain, calm, practical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tipline.domain.incident import IncidentSummary, IncidentType, ReportAnnotations
from tipline.domain.internet import (
    CellPhoneIncident,
    ChatImIncident,
    EmailIncident,
    InternetDetails,
    NonInternetIncident,
    OnlineGamingIncident,
    WebPageIncident,
)
from tipline.domain.parties import Email, Person, PersonOrUserReported, Phone, Victim
from tipline.domain.public import PublicContact, PublicReport
from tipline.domain.report import ReportContent


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str = ""


# What happened. Online enticement and sextortion come first: they are what most people who use
# the form have seen. Sextortion is online enticement with the `sextortion` annotation.
WHAT: tuple[Choice, ...] = (
    Choice("sextortion", "Someone is threatening to share sexual pictures or videos of a child",
           "They may ask for more pictures, for money, or for something else, and say they will share "
           "the pictures if they do not get it."),
    Choice("enticement", "Someone online is trying to get a child to do sexual things",
           "For example asking a child for sexual pictures, talking with them about sex, or trying to "
           "meet them. They may pretend to be younger than they are."),
    Choice("images", "Sexual pictures or videos of a child are online or being shared",
           "On a website, in an app, or passed between people. Please do not copy or forward them: "
           "tell us where they are."),
    Choice("sent_to_child", "Someone sent sexual pictures, videos or messages to a child",
           "Material meant for adults, sent to a child who did not ask for it."),
    Choice("abuse", "A child is being, or was, sexually abused in person",
           "By anyone: a family member, someone the child knows, or a stranger."),
    Choice("trafficking", "A child is being offered or used for sex in exchange for something",
           "For example for money, a place to stay, food, drugs or gifts, whoever receives them."),
    Choice("travel", "Someone is travelling, or planning to travel, to sexually abuse children",
           "Including trips to another country, or arranging such trips for others."),
    Choice("misleading_words", "Words or pictures online are used to trick a child into seeing sexual material",
           "For example a game, cartoon or video that looks made for children but leads to sexual material."),
    Choice("misleading_site", "A website's name is used to trick a child into visiting a sexual website",
           "For example an address that looks like a children's brand, game or school."),
)
WHAT_TYPES: dict[str, IncidentType] = {
    "sextortion": IncidentType.ONLINE_ENTICEMENT,
    "enticement": IncidentType.ONLINE_ENTICEMENT,
    "images": IncidentType.CHILD_PORNOGRAPHY,
    "sent_to_child": IncidentType.UNSOLICITED_OBSCENE_MATERIAL,
    "abuse": IncidentType.CHILD_SEXUAL_MOLESTATION,
    "trafficking": IncidentType.CHILD_SEX_TRAFFICKING,
    "travel": IncidentType.CHILD_SEX_TOURISM,
    "misleading_words": IncidentType.MISLEADING_WORDS_OR_IMAGES,
    "misleading_site": IncidentType.MISLEADING_DOMAIN_NAME,
}

DANGER: tuple[Choice, ...] = (
    Choice("yes", "Yes, a child is in danger right now"),
    Choice("no", "No, or I am not sure"),
)

WHERE: tuple[Choice, ...] = (
    Choice("chat", "Messages or chat in an app"),
    Choice("social", "Social media or a website"),
    Choice("game", "An online game"),
    Choice("email", "Email"),
    Choice("phone", "Text messages or phone calls"),
    Choice("offline", "In person, not online"),
    Choice("other", "Somewhere else, or I am not sure"),
)

GENDER: tuple[Choice, ...] = (
    Choice("female", "Girl"),
    Choice("male", "Boy"),
    Choice("other", "Another gender"),
    Choice("unknown", "I do not know"),
)

RELATIONSHIP: tuple[Choice, ...] = (
    Choice("child_themself", "I am the young person this is about"),
    Choice("parent_or_carer", "A parent or carer of the child"),
    Choice("other_family", "Another family member"),
    Choice("friend", "A friend"),
    Choice("professional", "Someone who works with children, for example a teacher, coach or social worker"),
    Choice("other", "Someone else"),
    Choice("not_said", "I would rather not say"),
)

RADIOS: dict[str, tuple[Choice, ...]] = {
    "what": WHAT, "danger": DANGER, "where": WHERE, "child_gender": GENDER, "relationship": RELATIONSHIP,
}

# Longest answer accepted per text field (characters). Generous for real reports, bounded for abuse.
SHORT = 200
LIMITS: dict[str, int] = {
    "description": 20_000,
    "platform": SHORT,
    "links": 40_000,
    "when_date": 20,
    "when_time": 20,
    "when_note": 1_000,
    "child_age": 10,
    "child_username": SHORT,
    "other_usernames": 4_000,
    "other_profiles": 20_000,
    "other_first_name": SHORT,
    "other_last_name": SHORT,
    "other_email": 254,
    "other_phone": 50,
    "other_age": 10,
    "other_description": 20_000,
    "contact_name": SHORT,
    "contact_email": 254,
    "contact_phone": 50,
}
TEXT_FIELDS = tuple(LIMITS)
MAX_LINKS = 20
MAX_USERNAMES = 10
MAX_PROFILES = 10
MAX_LINK = 2_000
FIELD_NAMES = frozenset(TEXT_FIELDS) | frozenset(RADIOS) | {"may_contact", "tz"}

# What the labels call each text field, so a message can name it.
FIELD_LABELS = {
    "description": "What happened",
    "platform": "The name of the app, game, website or place",
    "links": "Links",
    "when_note": "What you know about when it happened",
    "child_username": "The child's username",
    "other_usernames": "Their usernames",
    "other_profiles": "Links to their profiles",
    "other_first_name": "Their first name",
    "other_last_name": "Their last name",
    "other_email": "Their email address",
    "other_phone": "Their phone number",
    "other_description": "What else you know about them",
    "contact_name": "Your name",
    "contact_email": "Your email address",
    "contact_phone": "Your phone number",
}

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{5,30}$")
_WHOLE_NUMBER = re.compile(r"^[0-9]{1,3}$")
_LINK = re.compile(r"^(https?://)?[^\s/?#]+\.[^\s/?#]+([/?#]\S*)?$", re.IGNORECASE)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})(:[0-9]{2}(\.[0-9]+)?)?$")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$")
DANGER_ESCALATION = "The reporter says a child is in danger right now."


def anchor(name: str) -> str:
    """The id an error-summary link points at: the field, or the first option of a group."""
    if name in RADIOS:
        return f"{name}-{RADIOS[name][0].value}"
    return name


@dataclass(frozen=True)
class Problem:
    """One thing the person needs to fix, tied to the field it is about (None: the whole form)."""

    field: str | None
    message: str

    @property
    def anchor(self) -> str | None:
        return anchor(self.field) if self.field else None


@dataclass(frozen=True)
class Outcome:
    content: ReportContent | None
    problems: list[Problem]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def load_zone(name: str) -> tzinfo:
    """A time zone by its IANA name; UTC works even where no time zone database is installed."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in ("UTC", "Etc/UTC"):
            return UTC
        raise


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or "UTC"


def zone_for(browser_zone: str, default_zone: str) -> tuple[tzinfo, bool]:
    """The reporter's time zone as their browser said it, else the instance's default (and False)."""
    candidate = browser_zone.strip()
    if candidate and _ZONE.match(candidate) and ".." not in candidate:
        try:
            return ZoneInfo(candidate), True
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return load_zone(default_zone), False


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class _Reader:
    """Checks the answers one by one, collecting every problem (not only the first)."""

    def __init__(self, values: Mapping[str, str], too_long: frozenset[str]) -> None:
        self.values = values
        self.too_long = too_long
        self.problems: list[Problem] = []

    def problem(self, field: str | None, message: str) -> None:
        self.problems.append(Problem(field, message))

    def text(self, name: str) -> str:
        value = self.values.get(name, "").replace("\r\n", "\n").replace("\x00", "")
        stripped = value.strip()
        limit = LIMITS[name]
        if name in self.too_long or len(stripped) > limit:
            label = FIELD_LABELS.get(name, "This answer")
            self.problem(name, f"{label} is too long. Please shorten it to {limit:,} characters or fewer"
                               + (f" (it has {len(stripped):,})." if name not in self.too_long else "."))
            return stripped[:limit]
        return stripped

    def choice(self, name: str, missing: str | None = None) -> str | None:
        value = self.values.get(name, "").strip()
        if not value:
            if missing:
                self.problem(name, missing)
            return None
        if value not in {c.value for c in RADIOS[name]}:
            self.problem(name, "Choose one of the options shown.")
            return None
        return value

    def whole_number(self, name: str, low: int, high: int, not_number: str, out_of_range: str) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        if not _WHOLE_NUMBER.match(raw):
            self.problem(name, not_number)
            return None
        number = int(raw)
        if not low <= number <= high:
            self.problem(name, out_of_range)
            return None
        return number

    def email(self, name: str, whose: str) -> str | None:
        raw = self.text(name)
        if raw and not _EMAIL.match(raw):
            self.problem(name, f"Enter {whose} email address in the form name@example.com, or leave it empty.")
            return None
        return raw or None

    def phone(self, name: str, whose: str) -> str | None:
        raw = self.text(name)
        if raw and (not _PHONE.match(raw) or sum(ch.isdigit() for ch in raw) < 5):
            self.problem(name, f"Enter {whose} phone number using digits, for example +1 202 555 0143, "
                               "or leave it empty.")
            return None
        return raw or None

    def link_lines(self, name: str, most: int, what: str) -> list[str]:
        found = lines(self.text(name))
        if len(found) > most:
            self.problem(name, f"Please give at most {most} {what}, one on each line (you gave {len(found)}). "
                               "You can add others under \u201cWhat happened\u201d.")
            return found[:most]
        for number, link in enumerate(found, start=1):
            if len(link) > MAX_LINK or not _LINK.match(link):
                self.problem(name, f"Line {number} of \u201c{FIELD_LABELS[name]}\u201d does not look like a web "
                                   "address (for example https://example.com/page). Check it, or move it to "
                                   "\u201cWhat happened\u201d.")
                return []
        return found


def read_answers(
    values: Mapping[str, str],
    *,
    now: datetime,
    default_zone: str = "UTC",
    too_long: frozenset[str] = frozenset(),
) -> Outcome:
    """Check a submission's answers and, when they are all usable, build the report they describe.

    `values` maps field names to what was typed (missing fields count as empty); `too_long` names
    fields the reader had to cut short. Every problem found is returned, each with its field."""
    r = _Reader(values, too_long)

    what = r.choice("what", "Choose what happened. If none fits exactly, choose the closest one and "
                            "explain in your own words.")
    description = r.text("description")
    if not description and "description" not in too_long:
        r.problem("description", "Tell us what happened, in your own words. A few sentences are enough.")
    danger = r.choice("danger")

    where = r.choice("where")
    platform = r.text("platform") or None
    links = r.link_lines("links", MAX_LINKS, "links")

    incident_at, when_description = _when(r, now, default_zone)

    child_age = r.whole_number(
        "child_age", 0, 17,
        "Enter the child's age as a number, for example 14, or leave it empty.",
        "This form is about children under 18. Enter an age from 0 to 17 (their age when it happened), "
        "or leave it empty.",
    )
    child_gender = r.choice("child_gender")
    child_username = r.text("child_username") or None

    usernames = lines(r.text("other_usernames"))
    if len(usernames) > MAX_USERNAMES:
        r.problem("other_usernames", f"Please give at most {MAX_USERNAMES} usernames, one on each line "
                                     f"(you gave {len(usernames)}). You can add others under "
                                     "\u201cWhat else you know about them\u201d.")
    elif any(len(name) > SHORT for name in usernames):
        r.problem("other_usernames", f"Each username can be at most {SHORT} characters. Put one username "
                                     "on each line.")
    profiles = r.link_lines("other_profiles", MAX_PROFILES, "profile links")
    other_first = r.text("other_first_name") or None
    other_last = r.text("other_last_name") or None
    other_email = r.email("other_email", "their")
    other_phone = r.phone("other_phone", "their")
    other_age = r.whole_number(
        "other_age", 0, 120,
        "Enter their age as a number, for example 30, or leave it empty. A guess is fine.",
        "Enter an age from 0 to 120, or leave it empty.",
    )
    other_description = r.text("other_description") or None

    relationship = r.choice("relationship") or "not_said"
    contact_name = r.text("contact_name") or None
    contact_email = r.email("contact_email", "your")
    contact_phone = r.phone("contact_phone", "your")
    may_contact = values.get("may_contact", "").strip() == "yes"
    if may_contact and not (contact_email or contact_phone) and not any(
        p.field in ("contact_email", "contact_phone") for p in r.problems
    ):
        r.problem("contact_email", "To let us contact you, give an email address or a phone number. "
                                   "Or untick \u201cIt is safe to contact me\u201d to stay anonymous.")

    if r.problems or what is None or incident_at is None:
        return Outcome(None, r.problems)

    service = platform if where != "offline" else None
    summary = IncidentSummary(
        incident_type=WHAT_TYPES[what],
        platform=service,
        escalate_to_high_priority=DANGER_ESCALATION if danger == "yes" else None,
        report_annotations=ReportAnnotations(sextortion=True) if what == "sextortion" else None,
        incident_date_time=incident_at,
        incident_date_time_description=when_description,
    )

    details: list[InternetDetails] = []
    if where == "chat":
        details.append(InternetDetails(chat_im_incident=ChatImIncident(chat_client=platform)))
    elif where == "social":
        details.append(InternetDetails(web_page_incident=WebPageIncident(urls=links)))
    elif where == "game":
        details.append(InternetDetails(online_gaming_incident=OnlineGamingIncident(game_name=platform)))
    elif where == "email":
        addresses = [Email(value=other_email)] if other_email else []
        details.append(InternetDetails(email_incident=EmailIncident(email_addresses=addresses)))
    elif where == "phone":
        number = Phone(value=other_phone) if other_phone else None
        details.append(InternetDetails(cell_phone_incident=CellPhoneIncident(phone_number=number)))
    elif where == "offline":
        details.append(InternetDetails(non_internet_incident=NonInternetIncident(location_name=platform)))
    if links and where != "social":
        details.append(InternetDetails(web_page_incident=WebPageIncident(urls=links)))

    person = None
    if other_first or other_last or other_email or other_phone or other_age is not None:
        person = Person(
            first_name=other_first,
            last_name=other_last,
            emails=[Email(value=other_email)] if other_email else [],
            phones=[Phone(value=other_phone)] if other_phone else [],
            age=other_age,
        )
    # One entry per username (each becomes a screen-name identifier); what is known about the
    # person behind them, and their profile links, go with the first.
    accounts: list[str | None] = list(usernames) or ([None] if person is not None or profiles else [])
    reported = [
        PersonOrUserReported(
            screen_name=name,
            esp_service=service,
            person=person if n == 0 else None,
            profile_urls=profiles if n == 0 else [],
        )
        for n, name in enumerate(accounts)
    ]

    victims = []
    if child_age is not None or child_username:
        victims.append(Victim(
            person=Person(age=child_age),
            screen_name=child_username,
            esp_service=service if child_username else None,
        ))

    contact = None
    if contact_name or contact_email or contact_phone:
        contact = PublicContact(name=contact_name, email=contact_email, phone=contact_phone,
                                may_contact=may_contact)

    content = ReportContent(
        incident_summary=summary,
        internet_details=details,
        persons_or_users_reported=reported,
        victims=victims,
        public_report=PublicReport(
            description=description,
            reporter_relationship=relationship,  # type: ignore[arg-type]  # one of RELATIONSHIPS, checked above; the model's Literal validates it again
            child_in_danger_now=danger == "yes",
            child_gender=child_gender,  # type: ignore[arg-type]  # one of GENDERS or None, checked above; the model's Literal validates it again
            other_person_description=other_description,
            contact=contact,
        ),
    )
    return Outcome(content, [])


def _when(r: _Reader, now: datetime, default_zone: str) -> tuple[datetime | None, str | None]:
    """incidentDateTime (always with a zone) and incidentDateTimeDescription from the date, the
    optional time, the reporter's own words and the browser's time zone."""
    raw_date = r.text("when_date")
    raw_time = r.text("when_time")
    note = r.text("when_note")
    zone, from_browser = zone_for(r.values.get("tz", ""), default_zone)
    words: list[str] = []

    day: date | None = None
    if raw_date:
        try:
            if not _DATE.match(raw_date):
                raise ValueError(raw_date)
            day = date.fromisoformat(raw_date)
        except ValueError:
            r.problem("when_date", "Enter the date as year-month-day, for example 2025-03-14, or leave it empty "
                                   "and tell us what you know below.")
        else:
            if day.year < 1900:
                r.problem("when_date", "Check the year of the date.")
                day = None
            elif day > (now.astimezone(zone) + timedelta(days=1)).date():
                r.problem("when_date", "That date is in the future. Check it, or leave it empty and tell us "
                                       "what you know below.")
                day = None

    moment: time | None = None
    if raw_time:
        match = _TIME.match(raw_time)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            r.problem("when_time", "Enter the time as hours and minutes, for example 18:30, or leave it empty.")
        elif not raw_date:
            r.problem("when_time", "You gave a time but no date. Add the date, or leave the time empty.")
        else:
            moment = time(int(match.group(1)), int(match.group(2)))

    if day is None:
        if raw_date or (raw_time and not raw_date):
            return None, None
        incident_at = now.astimezone(zone)
        words.append("The reporter gave no date; this is when the report was sent.")
    else:
        incident_at = datetime.combine(day, moment or time(0, 0), tzinfo=zone)
        if moment is None:
            words.append("The reporter gave a date without a time.")
        source = "from the reporter's browser" if from_browser else "assumed: the browser did not say"
        words.append(f"Time zone: {zone_name(zone)} ({source}).")
    if note:
        words.append(f"In the reporter's words: {note}")
    return incident_at, " ".join(words) or None
