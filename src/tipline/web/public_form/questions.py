"""The questions of the public report form, the answers each may take, and how a set of answers
becomes a `ReportContent` that analysts read like any other report.

Everything here is pure: no I/O, no clock (the caller passes `now`), so each rule is easy to test.
The wording is for a parent, a teacher or a child who is being threatened: plain, calm, practical.

Length (a little over 500 lines): each question's wording, choices, limits and its mapping to the report
stand together, so that a translator and a reviewer read one question in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tipline.domain.ages import AgeGuess, AgeProblem, parse_age_guess
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
from tipline.web.i18n import N_, number
from tipline.web.i18n import gettext as _


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str = ""


# What happened. Online enticement and sextortion come first: they are what most people who use
# the form have seen. Sextortion is online enticement with the `sextortion` annotation.
WHAT: tuple[Choice, ...] = (
    Choice("sextortion", N_("Someone is threatening to share sexual pictures or videos of a child"),
           N_("They may ask for more pictures, for money, or for something else, and say they will share "
           "the pictures if they do not get it.")),
    Choice("enticement", N_("Someone online is trying to get a child to do sexual things"),
           N_("For example asking a child for sexual pictures, talking with them about sex, or trying to "
           "meet them. They may pretend to be younger than they are.")),
    Choice("images", N_("Sexual pictures or videos of a child are online or being shared"),
           N_("On a website, in an app, or passed between people. Please do not copy or forward them: "
           "tell us where they are.")),
    Choice("sent_to_child", N_("Someone sent sexual pictures, videos or messages to a child"),
           N_("Material meant for adults, sent to a child who did not ask for it.")),
    Choice("abuse", N_("A child is being, or was, sexually abused in person"),
           N_("By anyone: a family member, someone the child knows, or a stranger.")),
    Choice("trafficking", N_("A child is being offered or used for sex in exchange for something"),
           N_("For example for money, a place to stay, food, drugs or gifts, whoever receives them.")),
    Choice("travel", N_("Someone is travelling, or planning to travel, to sexually abuse children"),
           N_("Including trips to another country, or arranging such trips for others.")),
    Choice("misleading_words", N_("Words or pictures online are used to trick a child into seeing sexual material"),
           N_("For example a game, cartoon or video that looks made for children but leads to sexual material.")),
    Choice("misleading_site", N_("A website's name is used to trick a child into visiting a sexual website"),
           N_("For example an address that looks like a children's brand, game or school.")),
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
    Choice("yes", N_("Yes, a child is in danger right now")),
    Choice("no", N_("No, or I am not sure")),
)

WHERE: tuple[Choice, ...] = (
    Choice("chat", N_("Messages or chat in an app")),
    Choice("social", N_("Social media or a website")),
    Choice("game", N_("An online game")),
    Choice("email", N_("Email")),
    Choice("phone", N_("Text messages or phone calls")),
    Choice("offline", N_("In person, not online")),
    Choice("other", N_("Somewhere else, or I am not sure")),
)

GENDER: tuple[Choice, ...] = (
    Choice("female", N_("Girl")),
    Choice("male", N_("Boy")),
    Choice("other", N_("Another gender")),
    Choice("unknown", N_("I do not know")),
)

KNOWN: tuple[Choice, ...] = (
    Choice("online_only", N_("No, they only know each other online")),
    Choice("known_offline", N_("Yes, the child knows them in person"),
           N_("For example a family member, a neighbour, someone from school, a club or a team.")),
    Choice("unknown", N_("I do not know")),
)

RELATIONSHIP: tuple[Choice, ...] = (
    Choice("child_themself", N_("I am the young person this is about")),
    Choice("parent_or_carer", N_("A parent or carer of the child")),
    Choice("other_family", N_("Another family member")),
    Choice("friend", N_("A friend")),
    Choice("professional", N_("Someone who works with children, for example a teacher, coach or social worker")),
    Choice("other", N_("Someone else")),
    Choice("not_said", N_("I would rather not say")),
)

RADIOS: dict[str, tuple[Choice, ...]] = {
    "what": WHAT, "danger": DANGER, "where": WHERE, "child_gender": GENDER, "relationship": RELATIONSHIP,
    "offender_known": KNOWN,
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
    "child_age": 60,
    "child_username": SHORT,
    "other_usernames": 4_000,
    "other_profiles": 20_000,
    "other_first_name": SHORT,
    "other_last_name": SHORT,
    "other_email": 254,
    "other_phone": 50,
    "other_age": 60,
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
FIELD_NAMES = frozenset(TEXT_FIELDS) | frozenset(RADIOS) | {"may_contact", "tz", "lang", "held", "held_discard"}

# What the labels call each text field, so a message can name it.
FIELD_LABELS = {
    "description": N_("What happened"),
    "platform": N_("The name of the app, game, website or place"),
    "links": N_("Links"),
    "when_note": N_("What you know about when it happened"),
    "child_age": N_("The child's age"),
    "other_age": N_("Their age"),
    "child_username": N_("The child's username"),
    "other_usernames": N_("Their usernames"),
    "other_profiles": N_("Links to their profiles"),
    "other_first_name": N_("Their first name"),
    "other_last_name": N_("Their last name"),
    "other_email": N_("Their email address"),
    "other_phone": N_("Their phone number"),
    "other_description": N_("What else you know about them"),
    "contact_name": N_("Your name"),
    "contact_email": N_("Your email address"),
    "contact_phone": N_("Your phone number"),
}

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{5,30}$")
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
            label = _(FIELD_LABELS.get(name, N_("This answer")))
            if name in self.too_long:
                self.problem(name, _("%(label)s is too long. Please shorten it to %(limit)s characters or fewer.",
                                     label=label, limit=number(limit)))
            else:
                self.problem(name, _("%(label)s is too long. Please shorten it to %(limit)s characters or fewer "
                                     "(it has %(length)s).", label=label, limit=number(limit),
                                     length=number(len(stripped))))
            return stripped[:limit]
        return stripped

    def choice(self, name: str, missing: str | None = None) -> str | None:
        value = self.values.get(name, "").strip()
        if not value:
            if missing:
                self.problem(name, missing)
            return None
        if value not in {c.value for c in RADIOS[name]}:
            self.problem(name, _("Choose one of the options shown."))
            return None
        return value

    def age(self, name: str, low: int, high: int, out_of_range: str | None = None) -> AgeGuess | None:
        """An age as typed: a number, or words such as "about 14", "13 or 14", "20s" (kept as a range)."""
        before = len(self.problems)
        raw = self.text(name)
        if len(self.problems) > before:
            return None  # text() has said it is too long: one message per field
        guess = parse_age_guess(raw, low=low, high=high)
        if isinstance(guess, AgeProblem):
            if guess.out_of_range:
                self.problem(name, out_of_range or _("Enter an age from %(low)s to %(high)s, or leave it empty.",
                                                     low=low, high=high))
            else:
                self.problem(name, _("Enter an age as a number, for example 14, or in words such as \u201cabout "
                                     "14\u201d, \u201c13 or 14\u201d or \u201c20s\u201d. A guess is fine. Or "
                                     "leave it empty."))
            return None
        return guess

    def email(self, name: str, whose: str) -> str | None:
        raw = self.text(name)
        if raw and not _EMAIL.match(raw):
            self.problem(name, _("Enter your email address in the form name@example.com, or leave it empty.")
                         if whose == "your" else
                         _("Enter their email address in the form name@example.com, or leave it empty."))
            return None
        return raw or None

    def phone(self, name: str, whose: str) -> str | None:
        raw = self.text(name)
        if raw and (not _PHONE.match(raw) or sum(ch.isdigit() for ch in raw) < 5):
            self.problem(name, _("Enter your phone number using digits, for example +1 202 555 0143, or leave it "
                                 "empty.") if whose == "your" else
                         _("Enter their phone number using digits, for example +1 202 555 0143, or leave it "
                           "empty."))
            return None
        return raw or None

    def link_lines(self, name: str, most: int, what: str) -> list[str]:
        found = lines(self.text(name))
        if len(found) > most:
            self.problem(name, _("Please give at most %(most)s %(what)s, one on each line (you gave %(count)s). "
                                 "You can add others under \u201cWhat happened\u201d.",
                                 most=most, what=_(what), count=len(found)))
            return found[:most]
        for line_number, link in enumerate(found, start=1):
            if len(link) > MAX_LINK or not _LINK.match(link):
                self.problem(name, _("Line %(line)s of \u201c%(label)s\u201d does not look like a web address (for "
                                     "example https://example.com/page). Check it, or move it to \u201cWhat "
                                     "happened\u201d.", line=line_number, label=_(FIELD_LABELS[name])))
                return []
        return found


def read_answers(
    values: Mapping[str, str],
    *,
    now: datetime,
    default_zone: str = "UTC",
    too_long: frozenset[str] = frozenset(),
    language: str | None = None,
) -> Outcome:
    """Check a submission's answers and, when they are all usable, build the report they describe.

    `values` maps field names to what was typed (missing fields count as empty); `too_long` names
    fields the reader had to cut short. Every problem found is returned, each with its field."""
    r = _Reader(values, too_long)

    what = r.choice("what", _("Choose what happened. If none fits exactly, choose the closest one and "
                              "explain in your own words."))
    description = r.text("description")
    if not description and "description" not in too_long:
        r.problem("description", _("Tell us what happened, in your own words. A few sentences are enough."))
    danger = r.choice("danger")

    where = r.choice("where")
    platform = r.text("platform") or None
    links = r.link_lines("links", MAX_LINKS, N_("links"))

    incident_at, when_description = _when(r, now, default_zone)

    child_age = r.age("child_age", 0, 17, _("This form is about children under 18. Enter an age from 0 to 17 "
                                            "(their age when it happened), or leave it empty."))
    child_gender = r.choice("child_gender")
    child_username = r.text("child_username") or None

    usernames = lines(r.text("other_usernames"))
    if len(usernames) > MAX_USERNAMES:
        r.problem("other_usernames", _("Please give at most %(most)s usernames, one on each line (you gave "
                                       "%(count)s). You can add others under \u201cWhat else you know about "
                                       "them\u201d.", most=MAX_USERNAMES, count=len(usernames)))
    elif any(len(name) > SHORT for name in usernames):
        r.problem("other_usernames", _("Each username can be at most %(most)s characters. Put one username "
                                       "on each line.", most=SHORT))
    profiles = r.link_lines("other_profiles", MAX_PROFILES, N_("profile links"))
    other_first = r.text("other_first_name") or None
    other_last = r.text("other_last_name") or None
    other_email = r.email("other_email", "their")
    other_phone = r.phone("other_phone", "their")
    other_age = r.age("other_age", 0, 120)
    other_description = r.text("other_description") or None
    offender_known = r.choice("offender_known")

    relationship = r.choice("relationship") or "not_said"
    contact_name = r.text("contact_name") or None
    contact_email = r.email("contact_email", "your")
    contact_phone = r.phone("contact_phone", "your")
    may_contact = values.get("may_contact", "").strip() == "yes"
    if may_contact and not (contact_email or contact_phone) and not any(
        p.field in ("contact_email", "contact_phone") for p in r.problems
    ):
        r.problem("contact_email", _("To let us contact you, give an email address or a phone number. "
                                     "Or untick \u201cIt is safe to contact me\u201d to stay anonymous."))

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
    if other_first or other_last or other_email or other_phone or (other_age is not None and other_age.exact is not None):
        person = Person(
            first_name=other_first,
            last_name=other_last,
            emails=[Email(value=other_email)] if other_email else [],
            phones=[Phone(value=other_phone)] if other_phone else [],
            age=other_age.exact if other_age is not None else None,
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
            person=Person(age=child_age.exact if child_age is not None else None),
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
            child_age=child_age,
            other_person_age=other_age,
            language=language,
            other_person_description=other_description,
            offender_known=offender_known,  # type: ignore[arg-type]  # one of KNOWN or None, checked above; the model's Literal validates it again
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
            r.problem("when_date", _("Enter the date as year-month-day, for example 2025-03-14, or leave it empty "
                                     "and tell us what you know below."))
        else:
            if day.year < 1900:
                r.problem("when_date", _("Check the year of the date."))
                day = None
            elif day > (now.astimezone(zone) + timedelta(days=1)).date():
                r.problem("when_date", _("That date is in the future. Check it, or leave it empty and tell us "
                                         "what you know below."))
                day = None

    moment: time | None = None
    if raw_time:
        match = _TIME.match(raw_time)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            r.problem("when_time", _("Enter the time as hours and minutes, for example 18:30, or leave it empty."))
        elif not raw_date:
            r.problem("when_time", _("You gave a time but no date. Add the date, or leave the time empty."))
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
