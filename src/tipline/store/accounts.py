"""People's logins, service-provider API accounts and browser sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.roles import USER_ROLES, Role
from tipline.store.audit import AuditLog
from tipline.store.tables import ApiAccount, User, UserSession

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(ValueError):
    """A request about accounts that cannot be done, with the reason."""


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError(
            f"username {username!r} is not allowed: use 2-64 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Principal:
    """Who is making a request: a person, a service provider's API account, or the public."""

    actor: Actor
    role: Role
    user_id: int | None = None
    api_account_id: int | None = None
    session_id: int | None = None
    csrf_token: str | None = None
    display_name: str = ""

    @property
    def username(self) -> str:
        return self.actor.name


PUBLIC = Principal(Actor(ActorType.PUBLIC, None, "public"), Role.PUBLIC)


class Accounts:
    def __init__(self, audit: AuditLog, hasher: PasswordHasher | None = None) -> None:
        self.audit = audit
        self.hasher = hasher or PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        """Checking a password against no account must cost what checking a real one costs."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    # --- people -----------------------------------------------------------------------------

    def add_user(
        self,
        session: Session,
        username: str,
        role: Role,
        actor: Actor,
        *,
        display_name: str | None = None,
        password: str | None = None,
    ) -> tuple[User, str]:
        """Create a login; returns the user and the password (generated unless given)."""
        name = _check_username(username)
        if role not in USER_ROLES:
            raise AccountError(f"role must be one of {', '.join(USER_ROLES)}; got {role!r}")
        if session.execute(select(User).where(User.username == name)).scalar_one_or_none():
            raise AccountError(f"a user named {name!r} already exists")
        password = password or generate_password()
        if len(password) < 12:
            raise AccountError("passwords must be at least 12 characters long")
        now = utc_now()
        user = User(
            username=name,
            display_name=display_name or name,
            role=role.value,
            password_hash=self.hasher.hash(password),
            active=True,
            preferences={},
            created_at=now,
            created_by=actor.name,
            password_changed_at=now,
        )
        session.add(user)
        session.flush()
        self.audit.append(session, actor, "user.created", details={"username": name, "role": role.value})
        return user, password

    def reset_password(self, session: Session, username: str, actor: Actor, password: str | None = None) -> str:
        user = self.user_by_name(session, username)
        if user is None:
            raise AccountError(f"no user named {username!r}")
        password = password or generate_password()
        user.password_hash = self.hasher.hash(password)
        user.password_changed_at = utc_now()
        self.revoke_sessions(session, user.id)
        self.audit.append(session, actor, "user.password_reset", details={"username": user.username})
        return password

    def set_active(self, session: Session, username: str, active: bool, actor: Actor) -> User:
        user = self.user_by_name(session, username)
        if user is None:
            raise AccountError(f"no user named {username!r}")
        user.active = active
        if not active:
            self.revoke_sessions(session, user.id)
        self.audit.append(
            session, actor, "user.enabled" if active else "user.disabled", details={"username": user.username}
        )
        return user

    def user_by_name(self, session: Session, username: str) -> User | None:
        return session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()

    def list_users(self, session: Session) -> list[User]:
        return list(session.execute(select(User).order_by(User.username)).scalars())

    def check_password(self, session: Session, username: str, password: str) -> User | None:
        """The active user with this password, or None (in about the same time either way)."""
        user = self.user_by_name(session, username)
        if user is None or not user.active:
            try:
                self.hasher.verify(self._dummy_hash, password)
            except VerificationError:
                pass
            return None
        try:
            self.hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        return user

    # --- browser sessions --------------------------------------------------------------------

    def open_session(self, session: Session, user: User, hours: int, client: str | None) -> tuple[str, UserSession]:
        """Start a browser session; returns the cookie token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = utc_now()
        row = UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
            revoked_at=None,
            client_address=client,
        )
        session.add(row)
        session.flush()
        return token, row

    def principal_for_session(self, session: Session, token: str) -> Principal | None:
        row = session.execute(
            select(UserSession).where(UserSession.token_hash == _token_hash(token))
        ).scalar_one_or_none()
        now = utc_now()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
        if now - row.last_seen_at > timedelta(minutes=1):
            row.last_seen_at = now
        return Principal(
            actor=Actor(ActorType.USER, str(user.id), user.username),
            role=Role(user.role),
            user_id=user.id,
            session_id=row.id,
            csrf_token=row.csrf_token,
            display_name=user.display_name,
        )

    def revoke_session(self, session: Session, session_id: int) -> None:
        row = session.get(UserSession, session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utc_now()

    def revoke_sessions(self, session: Session, user_id: int) -> None:
        now = utc_now()
        for row in session.execute(
            select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        ).scalars():
            row.revoked_at = now

    # --- service-provider API accounts -------------------------------------------------------

    def add_api_account(
        self, session: Session, username: str, actor: Actor, *, display_name: str | None = None
    ) -> tuple[ApiAccount, str]:
        """Create an ESP API account; returns it and its generated secret (shown once, stored hashed)."""
        name = _check_username(username)
        if session.execute(select(ApiAccount).where(ApiAccount.username == name)).scalar_one_or_none():
            raise AccountError(f"an API account named {name!r} already exists")
        secret = secrets.token_urlsafe(32)
        account = ApiAccount(
            username=name,
            display_name=display_name or username.strip(),
            secret_hash=_secret_hash(secret),
            active=True,
            created_at=utc_now(),
            created_by=actor.name,
            last_used_at=None,
        )
        session.add(account)
        session.flush()
        self.audit.append(session, actor, "api_account.created", details={"username": name})
        return account, secret

    def list_api_accounts(self, session: Session) -> list[ApiAccount]:
        return list(session.execute(select(ApiAccount).order_by(ApiAccount.username)).scalars())

    def principal_for_api(self, session: Session, username: str, secret: str) -> Principal | None:
        account = session.execute(
            select(ApiAccount).where(ApiAccount.username == username.strip().lower())
        ).scalar_one_or_none()
        expected = account.secret_hash if account is not None else _secret_hash("no such account")
        if not hmac.compare_digest(expected, _secret_hash(secret)) or account is None or not account.active:
            return None
        now = utc_now()
        if account.last_used_at is None or now - account.last_used_at > timedelta(minutes=5):
            account.last_used_at = now
        return api_principal(account)

    def principal_for_user_password(self, session: Session, username: str, password: str) -> Principal | None:
        user = self.check_password(session, username, password)
        if user is None:
            return None
        return Principal(
            actor=Actor(ActorType.USER, str(user.id), user.username),
            role=Role(user.role),
            user_id=user.id,
            display_name=user.display_name,
        )


def api_principal(account: ApiAccount) -> Principal:
    """The principal a service provider's API account acts as."""
    return Principal(
        actor=Actor(ActorType.API_ACCOUNT, str(account.id), account.username),
        role=Role.ESP,
        api_account_id=account.id,
        display_name=account.display_name,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _secret_hash(secret: str) -> str:
    """API secrets are 256 random bits, so a fast hash is as safe as a slow one and keeps each
    request cheap; people's passwords, which can be guessed, use Argon2 instead."""
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()

