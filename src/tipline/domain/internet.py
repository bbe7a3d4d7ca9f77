"""Where online the incident happened: the eight kinds of internet details."""

from __future__ import annotations

from pydantic import Field, model_validator

from tipline.domain.base import ContentText, DomainModel, ShortText, Text, UrlText, items
from tipline.domain.parties import Address, Email, IpCaptureEvent, Phone


class WebPageIncident(DomainModel):
    urls: list[UrlText] = items("url")
    additional_info: Text | None = None
    third_party_hosted_content: bool | None = None


class EmailIncident(DomainModel):
    email_addresses: list[Email] = items("emailAddress")
    content: ContentText | None = None
    additional_info: Text | None = None


class NewsgroupIncident(DomainModel):
    name: ShortText | None = None
    email_addresses: list[Email] = items("emailAddress")
    content: ContentText | None = None
    additional_info: Text | None = None


class ChatImIncident(DomainModel):
    chat_client: ShortText | None = None
    chat_room_name: ShortText | None = None
    content: ContentText | None = None
    additional_info: Text | None = None


class OnlineGamingIncident(DomainModel):
    game_name: ShortText | None = None
    console: ShortText | None = None
    content: ContentText | None = None
    additional_info: Text | None = None


class CellPhoneIncident(DomainModel):
    phone_number: Phone | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    additional_info: Text | None = None


class NonInternetIncident(DomainModel):
    location_name: ShortText | None = None
    incident_addresses: list[Address] = items("incidentAddress")
    additional_info: Text | None = None


class Peer2PeerIncident(DomainModel):
    client: ShortText | None = None
    ip_capture_events: list[IpCaptureEvent] = items("ipCaptureEvent")
    file_names: Text | None = None
    additional_info: Text | None = None


INTERNET_DETAIL_KINDS: dict[str, str] = {
    "web_page_incident": "Web page",
    "email_incident": "Email",
    "newsgroup_incident": "Newsgroup",
    "chat_im_incident": "Chat / instant messaging",
    "online_gaming_incident": "Online gaming",
    "cell_phone_incident": "Cell phone",
    "non_internet_incident": "Not online",
    "peer2peer_incident": "Peer to peer",
}


class InternetDetails(DomainModel):
    """Exactly one of the eight kinds, as the schema's choice requires."""

    web_page_incident: WebPageIncident | None = None
    email_incident: EmailIncident | None = None
    newsgroup_incident: NewsgroupIncident | None = None
    chat_im_incident: ChatImIncident | None = None
    online_gaming_incident: OnlineGamingIncident | None = None
    cell_phone_incident: CellPhoneIncident | None = None
    non_internet_incident: NonInternetIncident | None = None
    peer2peer_incident: Peer2PeerIncident | None = Field(default=None, alias="peer2peerIncident")

    @model_validator(mode="after")
    def _exactly_one(self) -> InternetDetails:
        present = [name for name in INTERNET_DETAIL_KINDS if getattr(self, name) is not None]
        if len(present) != 1:
            wire = ", ".join(type(self).model_fields[n].alias or n for n in INTERNET_DETAIL_KINDS)
            raise ValueError(f"internetDetails must hold exactly one of {wire}; found {len(present)}")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in INTERNET_DETAIL_KINDS if getattr(self, name) is not None)

    @property
    def detail(self) -> DomainModel:
        detail: DomainModel = getattr(self, self.kind)
        return detail

    @property
    def kind_label(self) -> str:
        return INTERNET_DETAIL_KINDS[self.kind]
