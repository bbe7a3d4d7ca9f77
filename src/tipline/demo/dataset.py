"""A synthetic demo dataset: invented people, fictional services, benign words, shared identifiers.

Everything here is made up. Emails use reserved example domains, phone numbers the ranges set aside
for fiction, IP addresses the documentation ranges. Conversations convey tactics in plain,
non-explicit words. Reports share offenders across services so that links are visible.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw

from tipline.domain.incident import IncidentType
from tipline.domain.report import ReportContent, ReportSource


@dataclass(frozen=True)
class DemoProvider:
    username: str
    display_name: str
    platform: str
    kind: str  # social, photo, game, messaging, email, video


PROVIDERS = [
    DemoProvider("chirp", "Chirp Social Ltd.", "Chirp", "social"),
    DemoProvider("pixelgram", "Pixelgram Inc.", "Pixelgram", "photo"),
    DemoProvider("blockland", "Blockland Games", "Blockland", "game"),
    DemoProvider("huddle", "Huddle Messenger", "Huddle", "messaging"),
    DemoProvider("quillmail", "Quill Mail", "Quill Mail", "email"),
    DemoProvider("streambox", "StreamBox Video", "StreamBox", "video"),
]

FIRST_NAMES = ["Alex", "Sam", "Jordan", "Taylor", "Casey", "Riley", "Morgan", "Jamie", "Robin", "Avery",
               "Quinn", "Drew", "Elliot", "Harper", "Rowan", "Sasha", "Kai", "Noor", "Mika", "Tomas",
               "Ines", "Yusuf", "Lena", "Mateo", "Priya", "Oskar", "Zara", "Emil", "Leila", "Hugo"]
LAST_NAMES = ["Example", "Sample", "Placeholder", "Fictus", "Madeup", "Testwood", "Demoson", "Nullman",
              "Fakely", "Inventa", "Mockridge", "Stubbs", "Dummett", "Notreal", "Pretendy"]
HANDLE_WORDS = ["shadow", "pixel", "nova", "river", "wolf", "comet", "maple", "storm", "echo", "ember",
                "frost", "orbit", "raven", "sunny", "tiger", "velvet", "lucky", "ghost", "cosmo", "blaze"]
CITIES = [("Springfield", "IL", "US"), ("Riverside", "CA", "US"), ("Franklin", "TN", "US"),
          ("Georgetown", "TX", "US"), ("Salem", "OR", "US"), ("Madison", "WI", "US"),
          ("Leeds", None, "GB"), ("Bristol", None, "GB"), ("Toronto", None, "CA"),
          ("Sydney", None, "AU"), ("Manila", None, "PH"), ("Lagos", None, "NG")]

GROOMING_LINES = [
    "you seem really mature for your age",
    "I understand you better than anyone at your school",
    "how old are you? what grade are you in?",
    "do you live with your mom and dad?",
    "are your parents home right now?",
    "who else uses your phone?",
    "don't tell your parents about me, they wouldn't get it",
    "this is our secret ok",
    "delete our chat when we're done",
    "let's talk on Huddle instead, messages disappear there",
    "send me a picture of yourself",
    "show me what you're wearing today",
    "I'll buy you a gift card if you do",
    "I can send you game coins",
    "I'm 15 too lol",
    "have you ever had a boyfriend?",
]
MEETING_LINES = ["can I pick you up after school on Friday?", "where will you be this weekend?"]
SEXTORTION_LINES = [
    "I have the photo you sent. If you don't pay I'll send it to your school",
    "you have 24 hours. send $200 in gift cards or everyone sees it",
    "I recorded our video call. do what I say or I post it",
    "I'll share it with all your followers tonight unless you send more",
]
CHILD_LINES = ["idk", "who is this?", "ok", "please stop", "my mom is home", "I don't want to", "lol what",
               "how do you know my school", "I'm scared", "fine"]

PUBLIC_DESCRIPTIONS = [
    "My daughter (13) has been messaged by someone who says he is 15 but talks like an adult. He keeps "
    "asking her to keep their chats secret and to move to another app.",
    "A man on a game server offered my son game currency in return for a photo of himself. My son told me "
    "and we saved the messages.",
    "Someone is threatening my niece: they say they will send a picture to her whole school unless she "
    "pays them in gift cards by tonight.",
    "I am a teacher. A student showed me messages from an adult who asked which school she goes to and "
    "when her parents are out.",
    "I'm 14 and someone I met online says he will post a photo of me unless I send money. I don't know what to do.",
    "I found a website that seems to be sharing images of children. I did not open the images.",
    "An account keeps sending unwanted rude pictures to kids in a group chat my son is in.",
    "A neighbour's teenager said an adult offered her a place to stay and money if she came to meet him.",
]


@dataclass
class Person:
    first: str
    last: str
    email: str
    phone: str
    calling_code: str
    handles: dict[str, str]
    ips: list[str]
    device: tuple[str, str]
    esp_ids: dict[str, str]
    city: tuple[str, str | None, str]
    age: int | None = None


@dataclass(frozen=True)
class DemoReport:
    source: ReportSource
    provider: str | None  # the ESP account's username, for provider reports
    content: ReportContent
    received_at: datetime
    files: tuple[tuple[str, bytes], ...] = ()  # (file name, content): abstract pictures, chat logs


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    """A ZIP of the members, byte for byte the same for the same input (fixed member times)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(f"album/{name}", date_time=(2026, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def abstract_picture(rng: random.Random, width: int = 480, height: int = 360) -> bytes:
    """A made-up picture of coloured shapes on a gradient: something to hash and to blur, nothing more."""
    image = Image.new("RGB", (width, height))
    top, bottom = [rng.randint(0, 255) for _ in range(3)], [rng.randint(0, 255) for _ in range(3)]
    for y in range(height):
        mix = y / height
        image.paste(tuple(int(a * (1 - mix) + b * mix) for a, b in zip(top, bottom)), (0, y, width, y + 1))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(6, 14)):
        x, y = rng.randint(0, width - 40), rng.randint(0, height - 40)
        size = rng.randint(20, 140)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + size, y + size), fill=colour)
        else:
            draw.rectangle((x, y, x + size, y + size // 2), fill=colour)
    out = io.BytesIO()
    image.save(out, format="JPEG" if rng.random() < 0.7 else "PNG", quality=88)
    return out.getvalue()


@dataclass
class _Builder:
    rng: random.Random
    now: datetime
    offenders: list[Person] = field(default_factory=list)

    def person(self, *, child: bool) -> Person:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        handle = f"{rng.choice(HANDLE_WORDS)}{rng.choice(HANDLE_WORDS)}{rng.randint(1, 999)}"
        region = rng.random()
        if region < 0.6:
            phone, code = f"(202) 555-01{rng.randint(0, 99):02d}", "+1"
        elif region < 0.85:
            phone, code = f"07700 900{rng.randint(0, 999):03d}", "+44"
        else:
            phone, code = f"0491 570 {rng.randint(110, 159):03d}", "+61"
        platforms = rng.sample([p.platform for p in PROVIDERS if p.kind != "email"], k=rng.randint(1, 3))
        return Person(
            first=first,
            last=last,
            email=f"{handle}@{rng.choice(['example.com', 'example.net', 'example.org'])}",
            phone=phone,
            calling_code=code,
            handles={platform: (handle if rng.random() < 0.7 else f"{handle}_{rng.randint(2, 9)}") for platform in platforms},
            ips=[self.ip() for _ in range(rng.randint(1, 3))],
            device=("IMEI", f"35-{rng.randint(100000, 999999)}-{rng.randint(100000, 999999)}-{rng.randint(0, 9)}"),
            esp_ids={platform: str(rng.randint(10**8, 10**9)) for platform in platforms},
            city=rng.choice(CITIES),
            age=rng.randint(11, 16) if child else rng.randint(24, 58),
        )

    def ip(self) -> str:
        rng = self.rng
        choice = rng.random()
        if choice < 0.8:
            prefix = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
            return f"{prefix}.{rng.randint(1, 254)}"
        return f"2001:db8:{rng.randint(0, 0xffff):x}::{rng.randint(1, 0xffff):x}"

    def when(self, max_days: int = 120) -> datetime:
        moment = self.now - timedelta(minutes=self.rng.randint(30, max_days * 24 * 60))
        return moment.replace(second=0, microsecond=0)

    def received(self, incident_at: datetime) -> datetime:
        """Reports arrive from hours to a few days after the incident, never in the future."""
        return min(self.now, incident_at + timedelta(minutes=self.rng.randint(20, 4 * 24 * 60)))

    def conversation(self, offender: str, child: str, start: datetime, sextortion: bool) -> str:
        rng = self.rng
        lines = []
        moment = start
        tactics = rng.sample(GROOMING_LINES, k=rng.randint(4, 8))
        if rng.random() < 0.12:  # most enticement is online only; a planned meeting is rarer, and urgent
            tactics.insert(rng.randint(len(tactics) // 2, len(tactics)), rng.choice(MEETING_LINES))
        if sextortion:
            tactics += rng.sample(SEXTORTION_LINES, k=rng.randint(1, 2))
        for text in tactics:
            moment += timedelta(minutes=rng.randint(1, 180))
            lines.append(f"[{moment:%Y-%m-%d %H:%M}] {offender}: {text}")
            if rng.random() < 0.6:
                moment += timedelta(minutes=rng.randint(1, 30))
                lines.append(f"[{moment:%Y-%m-%d %H:%M}] {child}: {rng.choice(CHILD_LINES)}")
        return "\n".join(lines)


def _address(person: Person) -> dict[str, Any]:
    city, state, country = person.city
    address: dict[str, Any] = {"address": f"{zlib.crc32(person.email.encode()) % 200 + 1} Example Street", "city": city,
                               "country": country, "type": "Home"}
    if state:
        address["state"] = state
    return address


def _account(person: Person, platform: str, *, with_person: str | None, rng: random.Random,
             detail: bool) -> dict[str, Any]:
    account: dict[str, Any] = {}
    if with_person:
        entry: dict[str, Any] = {"firstName": person.first, "lastName": person.last}
        if detail:
            entry["email"] = [{"value": person.email, "verified": rng.random() < 0.5}]
            entry["phone"] = [{"value": person.phone, "countryCallingCode": person.calling_code, "type": "Mobile"}]
        if person.age is not None and (with_person == "victimPerson" or rng.random() < 0.3):
            entry["age"] = person.age
        account[with_person] = entry
    handle = person.handles.get(platform) or next(iter(person.handles.values()))
    account["screenName"] = handle if rng.random() < 0.8 else f"@{handle.upper()}"
    account["espService"] = platform
    account["espIdentifier"] = person.esp_ids.get(platform) or next(iter(person.esp_ids.values()))
    if detail:
        account["profileUrl"] = [f"https://{platform.lower().replace(' ', '')}.example/{handle}"]
        account["ipCaptureEvent"] = [
            {"ipAddress": ip, "eventName": rng.choice(["Login", "Registration", "Upload"]),
             "dateTime": f"2026-09-0{rng.randint(1, 9)}T1{rng.randint(0, 9)}:00:00Z"}
            for ip in person.ips
        ]
        if rng.random() < 0.5:
            account["deviceId"] = [{"idType": person.device[0], "idValue": person.device[1]}]
    return account


def generate(count: int, now: datetime, seed: int = 2026) -> list[DemoReport]:
    """`count` reports, mostly from service providers, about 15% from the public form."""
    rng = random.Random(seed)
    builder = _Builder(rng, now)
    builder.offenders = [builder.person(child=False) for _ in range(max(8, count // 7))]
    # A few prolific offenders appear in many reports: the links analysts should see.
    weights = [8 if i < 5 else (3 if i < 15 else 1) for i in range(len(builder.offenders))]
    incident_weights = [
        (IncidentType.ONLINE_ENTICEMENT, 40), (IncidentType.CHILD_PORNOGRAPHY, 25),
        (IncidentType.UNSOLICITED_OBSCENE_MATERIAL, 10), (IncidentType.CHILD_SEX_TRAFFICKING, 7),
        (IncidentType.MISLEADING_WORDS_OR_IMAGES, 5), (IncidentType.CHILD_SEXUAL_MOLESTATION, 5),
        (IncidentType.CHILD_SEX_TOURISM, 5), (IncidentType.MISLEADING_DOMAIN_NAME, 3),
    ]
    types, type_weights = zip(*incident_weights, strict=True)
    reports = []
    for _ in range(count):
        offender = rng.choices(builder.offenders, weights=weights)[0]
        child = builder.person(child=True)
        incident_type = rng.choices(types, weights=type_weights)[0]
        if rng.random() < 0.15:
            reports.append(_public_report(builder, offender, child, incident_type))
        else:
            reports.append(_provider_report(builder, offender, child, incident_type))
    return reports


def _provider_report(b: _Builder, offender: Person, child: Person, incident_type: IncidentType) -> DemoReport:
    rng = b.rng
    shared_platforms = [p for p in PROVIDERS if p.platform in offender.handles]
    provider = rng.choice(shared_platforms or PROVIDERS)
    if incident_type in (IncidentType.MISLEADING_DOMAIN_NAME, IncidentType.CHILD_SEX_TOURISM) and rng.random() < 0.5:
        provider = next(p for p in PROVIDERS if p.kind == "email")
    incident_at = b.when()
    sextortion = incident_type == IncidentType.ONLINE_ENTICEMENT and rng.random() < 0.2
    offender_handle = offender.handles.get(provider.platform) or next(iter(offender.handles.values()))
    child_handle = child.handles.get(provider.platform) or next(iter(child.handles.values()))
    summary: dict[str, Any] = {
        "incidentType": incident_type.value,
        "platform": provider.platform,
        "incidentDateTime": incident_at.isoformat(),
    }
    annotations = {}
    if sextortion:
        annotations["sextortion"] = True
    if incident_type == IncidentType.ONLINE_ENTICEMENT and rng.random() < 0.1:
        annotations["minorToMinorInteraction"] = True
    if annotations:
        summary["reportAnnotations"] = annotations
    if rng.random() < 0.06:
        summary["escalateToHighPriority"] = rng.choice([
            "The reported user arranged to meet the child in person this evening.",
            "The child said they would hurt themselves if the images are shared.",
            "The reported user shared the child's home address in a group chat.",
        ])
    internet = _internet_details(b, provider, incident_type, offender, child, offender_handle, child_handle,
                                 incident_at, sextortion)
    content: dict[str, Any] = {
        "incidentSummary": summary,
        "internetDetails": internet,
        "reporter": {
            "reportingPerson": {"firstName": "Trust", "lastName": "Safety Team",
                                "email": [f"safety@{provider.username}.example"]},
            "contactPerson": {"firstName": rng.choice(FIRST_NAMES), "lastName": rng.choice(LAST_NAMES),
                              "phone": [{"value": "(202) 555-0199", "countryCallingCode": "+1", "type": "Business"}]},
            "termsOfService": f"{provider.display_name} prohibits any sexual exploitation of minors.",
            "legalURL": f"https://{provider.username}.example/legal",
        },
        "personOrUserReported": [
            _account(offender, provider.platform, with_person="personOrUserReportedPerson", rng=rng,
                     detail=rng.random() < 0.8)
        ],
    }
    if incident_type in (IncidentType.ONLINE_ENTICEMENT, IncidentType.UNSOLICITED_OBSCENE_MATERIAL):
        content["intendedRecipient"] = [_account(child, provider.platform, with_person="intendedRecipientPerson",
                                                 rng=rng, detail=False)]
    if incident_type in (IncidentType.ONLINE_ENTICEMENT, IncidentType.CHILD_SEX_TRAFFICKING,
                         IncidentType.CHILD_SEXUAL_MOLESTATION) and rng.random() < 0.6:
        victim = _account(child, provider.platform, with_person="victimPerson", rng=rng, detail=False)
        victim["victimPerson"]["address"] = [_address(child)]
        if rng.random() < 0.4:
            victim["schoolName"] = f"{child.city[0]} Middle School"
        content["victim"] = [victim]
    if rng.random() < 0.1:
        content["lawEnforcement"] = {"agencyName": f"{offender.city[0]} Police Department",
                                     "caseNumber": f"2026-{rng.randint(1000, 9999)}", "reportedToLe": True}
    if rng.random() < 0.3:
        content["additionalInfo"] = "The account was disabled after our review. Earlier messages are retained."
        content["personOrUserReported"][0]["accountPermanentlyDisabled"] = {
            "value": True, "disabledDate": (incident_at + timedelta(hours=6)).isoformat(), "userNotified": False}
    files: list[tuple[str, bytes]] = []
    if incident_type in (IncidentType.CHILD_PORNOGRAPHY, IncidentType.UNSOLICITED_OBSCENE_MATERIAL) and rng.random() < 0.6:
        pictures = [(f"upload_{rng.randint(1000, 9999)}.{'jpg' if n % 2 == 0 else 'png'}", abstract_picture(rng))
                    for n in range(rng.randint(1, 2))]
        if len(pictures) > 1 and rng.random() < 0.4:  # sent as one archive: the pipeline unpacks it
            files.append((f"album_{rng.randint(1000, 9999)}.zip", _zip(pictures)))
        else:
            files += pictures
    if incident_type == IncidentType.ONLINE_ENTICEMENT and rng.random() < 0.25:
        log = b.conversation(offender_handle, child_handle, incident_at - timedelta(days=2), sextortion)
        rows = ["time,author,text"] + [
            '{},{},"{}"'.format(line[1:17], line[19:].split(": ", 1)[0], line.split(": ", 1)[1].replace('"', "'"))
            for line in log.splitlines()
        ]
        files.append(("chat_export.csv", "\n".join(rows).encode()))
    return DemoReport(ReportSource.ESP_JSON, provider.username, ReportContent.model_validate(content),
                      b.received(incident_at), tuple(files))


def _internet_details(b: _Builder, provider: DemoProvider, incident_type: IncidentType, offender: Person,
                      child: Person, offender_handle: str, child_handle: str, incident_at: datetime,
                      sextortion: bool) -> list[dict[str, Any]]:
    rng = b.rng
    if incident_type in (IncidentType.ONLINE_ENTICEMENT, IncidentType.UNSOLICITED_OBSCENE_MATERIAL):
        conversation = b.conversation(offender_handle, child_handle, incident_at - timedelta(days=rng.randint(1, 20)),
                                      sextortion)
        if provider.kind == "game":
            return [{"onlineGamingIncident": {"gameName": provider.platform, "console": rng.choice(["PC", "Mobile"]),
                                              "content": conversation}}]
        return [{"chatImIncident": {"chatClient": provider.platform, "content": conversation}}]
    if incident_type == IncidentType.CHILD_PORNOGRAPHY:
        if rng.random() < 0.3:
            return [{"peer2peerIncident": {"client": "ExampleShare",
                                           "ipCaptureEvent": [{"ipAddress": offender.ips[0], "eventName": "Upload"}],
                                           "fileNames": "archive_001.zip"}}]
        return [{"webPageIncident": {"url": [f"https://files.{provider.username}.example/u/{rng.randint(10**5, 10**6)}"]}}]
    if incident_type == IncidentType.MISLEADING_DOMAIN_NAME:
        return [{"webPageIncident": {"url": [f"https://kids-cartoons-{rng.randint(1, 99)}.example"],
                                     "thirdPartyHostedContent": True}}]
    if incident_type in (IncidentType.CHILD_SEX_TOURISM, IncidentType.MISLEADING_WORDS_OR_IMAGES):
        if provider.kind == "email":
            return [{"emailIncident": {"emailAddress": [offender.email],
                                       "content": "Subject: travel plans\n\nThe sender asks about arranging a trip "
                                                  "and mentions meeting young people there."}}]
        return [{"webPageIncident": {"url": [f"https://{provider.username}.example/post/{rng.randint(10**5, 10**6)}"]}}]
    if incident_type == IncidentType.CHILD_SEXUAL_MOLESTATION:
        return [{"nonInternetIncident": {"locationName": "A community centre", "incidentAddress": [_address(child)]}}]
    if incident_type == IncidentType.CHILD_SEX_TRAFFICKING:
        return [
            {"webPageIncident": {"url": [f"https://ads.{provider.username}.example/listing/{rng.randint(10**4, 10**5)}"]}},
            {"cellPhoneIncident": {"phoneNumber": {"value": offender.phone, "countryCallingCode": offender.calling_code}}},
        ]
    return []


def offender_known(key: str) -> str | None:
    """A public reporter's answer to "does the child know this person in person?", drawn from its own seed (so
    the rest of the demo's draws are unchanged): a quarter leave it empty; of those who know, nearly all say
    "only online", as in NCMEC's study (98 % of reported offenders unknown to the child offline)."""
    draw = random.Random(key).random()
    return None if draw < 0.25 else "known_offline" if draw < 0.27 else "unknown" if draw < 0.31 else "online_only"


def _public_report(b: _Builder, offender: Person, child: Person, incident_type: IncidentType) -> DemoReport:
    rng = b.rng
    platform = rng.choice(list(offender.handles))
    description = rng.choice(PUBLIC_DESCRIPTIONS)
    in_danger = rng.random() < 0.12
    incident_at = b.when(30)
    content: dict[str, Any] = {
        "incidentSummary": {"incidentType": IncidentType.ONLINE_ENTICEMENT.value
                            if incident_type == IncidentType.CHILD_PORNOGRAPHY and rng.random() < 0.5
                            else incident_type.value,
                            "platform": platform, "incidentDateTime": incident_at.isoformat(),
                            "incidentDateTimeDescription": "around this time, the reporter is not sure of the hour"},
        "internetDetails": [{"chatImIncident": {"chatClient": platform}}],
        "personOrUserReported": [{"screenName": offender.handles[platform], "espService": platform}],
        "victim": [{"victimPerson": {"age": child.age}}],
        "publicReport": {
            "description": description,
            "reporterRelationship": rng.choice(["parent_or_carer", "child_themself", "professional", "other_family"]),
            "childInDangerNow": in_danger,
            "childGender": rng.choice(["female", "female", "female", "male", "unknown"]),
            "otherPersonDescription": "Says he is a teenager; writes like an adult." if rng.random() < 0.5 else None,
        },
    }
    if rng.random() < 0.4:
        content["publicReport"]["contact"] = {
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "email": f"{rng.choice(HANDLE_WORDS)}{rng.randint(1, 99)}@example.org",
            "mayContact": True,
        }
    if content["publicReport"]["otherPersonDescription"] is None:
        del content["publicReport"]["otherPersonDescription"]
    known = offender_known(f"{description}|{incident_at.isoformat()}")
    if known:
        content["publicReport"]["offenderKnown"] = known
    return DemoReport(ReportSource.PUBLIC_FORM, None, ReportContent.model_validate(content),
                      b.received(incident_at))
