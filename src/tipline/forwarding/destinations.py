"""The registry of destinations: CyberTipline-compatible services reports can be forwarded to.

A destination is a test or a production service (NCMEC runs https://exttest.cybertip.org/ispws for
testing and https://report.cybertip.org/ispws for production). A production destination must use
HTTPS; a test destination may use plain HTTP (a partner's tipline on a private network, a local
instance). Every change is audited; the password is sealed and never printed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.forwarding.client import IspwsClient, Timeouts
from tipline.forwarding.credentials import forwarding_key, open_password, seal_password
from tipline.store.forwarding import ForwardDestinationRow

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.orm import Session

    from tipline.instance import Instance

TEST, PRODUCTION = "test", "production"
ENVIRONMENTS = (TEST, PRODUCTION)
ENVIRONMENT_LABELS = {TEST: "Test service", PRODUCTION: "Production service"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_PASSWORD = 1000


class DestinationError(ValueError):
    """A destination that cannot be added, changed or found; the message says why."""


@dataclass(frozen=True)
class DestinationView:
    """What may be shown of a destination (never its password)."""

    name: str
    base_url: str
    username: str
    environment: str
    active: bool

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "url": self.base_url, "username": self.username,
                "environment": self.environment, "active": self.active}


def view(row: ForwardDestinationRow) -> DestinationView:
    return DestinationView(row.name, row.base_url, row.username, row.environment, row.active)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise DestinationError(f"a destination name is 1 to 64 letters, digits, '.', '_' or '-' (got {name!r})")
    return name


def check_url(url: str, environment: str) -> str:
    """The base URL of the API (ending in /ispws on NCMEC's services), normalised."""
    url = url.strip()
    if len(url) > 500:
        raise DestinationError("the URL is longer than 500 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationError(f"the URL must be an http(s) address such as https://exttest.cybertip.org/ispws "
                               f"(got {url!r})")
    if parts.username is not None or parts.password is not None:
        raise DestinationError("the URL must not hold a user name or password: give them with --username and "
                               "--password-stdin, where the password is kept sealed")
    if parts.query or parts.fragment:
        raise DestinationError("the URL must not have a query (?...) or a fragment (#...)")
    if environment == PRODUCTION and parts.scheme != "https":
        raise DestinationError("a production destination must use https://")
    return url.rstrip("/")


def check_environment(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise DestinationError(f"the environment is 'test' or 'production' (got {environment!r})")
    return environment


def check_password(password: str) -> str:
    password = password.rstrip("\r\n")
    if not password:
        raise DestinationError("the password is empty")
    if len(password) > MAX_PASSWORD or any(ord(c) < 32 for c in password):
        raise DestinationError(f"the password must be one line of at most {MAX_PASSWORD} characters")
    return password


def find(session: Session, name: str) -> ForwardDestinationRow:
    row = session.execute(select(ForwardDestinationRow).where(ForwardDestinationRow.name == name)).scalar_one_or_none()
    if row is None:
        raise DestinationError(f"there is no destination named {name!r} (see `tipline destinations list`)")
    return row


def add(instance: Instance, session: Session, name: str, url: str, username: str, password: str, actor: Actor,
        *, environment: str = TEST) -> ForwardDestinationRow:
    check_name(name)
    check_environment(environment)
    url = check_url(url, environment)
    username = username.strip()
    if not username or len(username) > 200 or ":" in username:
        raise DestinationError("the user name must be 1 to 200 characters without ':'")
    password = check_password(password)
    exists = session.execute(select(ForwardDestinationRow.id).where(ForwardDestinationRow.name == name)).first()
    if exists:
        raise DestinationError(f"a destination named {name!r} exists already")
    now = utc_now()
    row = ForwardDestinationRow(
        name=name, base_url=url, username=username, environment=environment, active=True, created_at=now,
        created_by=actor.name, updated_at=now,
        sealed_password=seal_password(forwarding_key(instance.settings.key_dir), name, password),
    )
    session.add(row)
    session.flush()
    instance.audit.append(session, actor, "destination.added", details={
        "destination": name, "url": url, "username": username, "environment": environment})
    return row


def set_password(instance: Instance, session: Session, name: str, password: str, actor: Actor) -> None:
    row = find(session, name)
    row.sealed_password = seal_password(forwarding_key(instance.settings.key_dir), name, check_password(password))
    row.updated_at = utc_now()
    instance.audit.append(session, actor, "destination.password_changed", details={"destination": name})


def set_environment(instance: Instance, session: Session, name: str, environment: str, actor: Actor,
                    *, url: str | None = None) -> ForwardDestinationRow:
    """The test/production switch (with the other service's URL, if it has one)."""
    row = find(session, name)
    check_environment(environment)
    new_url = check_url(url or row.base_url, environment)
    before = (row.environment, row.base_url)
    row.environment, row.base_url, row.updated_at = environment, new_url, utc_now()
    instance.audit.append(session, actor, "destination.environment_changed", details={
        "destination": name, "from": before[0], "to": environment, "from_url": before[1], "url": new_url})
    return row


def listing(session: Session) -> list[ForwardDestinationRow]:
    return list(session.execute(select(ForwardDestinationRow).order_by(ForwardDestinationRow.name)).scalars())


def client_for(instance: Instance, row: ForwardDestinationRow, *,
               transport: httpx.BaseTransport | None = None) -> IspwsClient:
    password = open_password(forwarding_key(instance.settings.key_dir), row.name, row.sealed_password)
    timeouts = Timeouts(connect=min(10.0, instance.settings.forward_timeout_seconds),
                        read=instance.settings.forward_timeout_seconds,
                        write=instance.settings.forward_timeout_seconds)
    return IspwsClient(row.base_url, row.username, password, timeouts=timeouts, transport=transport)
