"""People's logins, service-provider API accounts and browser sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.errors import TiplineError
from tipline.domain.roles import GRANT_APPROVERS, USER_ROLES, Role, needs_second_person
from tipline.store.audit import AuditLog
from tipline.store.tables import ApiAccount, RoleGrant, User, UserSession
from tipline.store.totp import SecondFactors

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(TiplineError, ValueError):
    """A request about accounts that cannot be done, with the reason."""

    status, code, title = 400, "invalid_request", "Could not do that"


class SecondFactorNeeded(AccountError):
    """A password alone was offered for a login that needs a second factor."""

    status, code, title = 401, "second_factor_required", "A second factor is needed"


class GrantNotFound(AccountError):
    """No role grant has this id."""


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
    # the role requires a second factor this person has not set up: they may only set it up (web/auth.py)
    second_factor_due: bool = False

    @property
    def username(self) -> str:
        return self.actor.name


PUBLIC = Principal(Actor(ActorType.PUBLIC, None, "public"), Role.PUBLIC)


class Accounts:
    def __init__(self, audit: AuditLog, hasher: PasswordHasher | None = None,
                 second_factors: SecondFactors | None = None) -> None:
        self.audit = audit
        self.hasher = hasher or PasswordHasher()
        self.second_factors = second_factors

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
        """Create a login from the server (the command line, the demo): whoever runs this has host
        access, so a role that reads reports (or approves such grants) is granted at once, recorded as a grant requested and
        approved by `actor` from the command line, and supervisors are told (`user.role_granted`).
        Returns the user and the password (generated unless given)."""
        user, password = self._create_user(session, username, role, actor, display_name, password, pending=False)
        if needs_second_person(role):
            grant = RoleGrant(user_id=user.id, role=role.value, previous_role=None, state="approved", via="cli",
                              requested_by=actor.name, requested_by_user_id=None, requested_at=utc_now(),
                              decided_by=actor.name, decided_by_user_id=None, decided_at=utc_now())
            session.add(grant)
            session.flush()
            self._audit_granted(session, actor, grant, user)
        return user, password

    def request_user(
        self, session: Session, username: str, role: Role, requester: Actor, requester_user_id: int | None,
        *, display_name: str | None = None,
    ) -> tuple[User, str, RoleGrant | None]:
        """Create a login from the web: with a role that reads reports or approves such grants
        (`needs_second_person`) it cannot sign in until a
        second person (another admin or a supervisor, never the requester) approves the grant.
        Returns the user, its generated password and the pending grant (None when none is needed)."""
        pending = needs_second_person(role)
        user, password = self._create_user(session, username, role, requester, display_name, None, pending=pending)
        grant = self._request_grant(session, user, role, None, requester, requester_user_id) if pending else None
        return user, password, grant

    def _create_user(
        self, session: Session, username: str, role: Role, actor: Actor, display_name: str | None,
        password: str | None, *, pending: bool,
    ) -> tuple[User, str]:
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
            pending_approval=pending,
        )
        session.add(user)
        session.flush()
        details: dict[str, object] = {"username": name, "role": role.value}
        if pending:
            details["pending_approval"] = True
        self.audit.append(session, actor, "user.created", details=details)
        return user, password

    # --- roles that read reports (or approve such grants): a second person approves ---------------------------------

    def _request_grant(self, session: Session, user: User, role: Role, previous: str | None, requester: Actor,
                       requester_user_id: int | None) -> RoleGrant:
        waiting = session.execute(
            select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.state == "pending")
        ).scalars().first()
        if waiting is not None:
            raise AccountError(f"a grant of the {waiting.role} role to {user.username!r} is already waiting for "
                               "approval; approve or refuse it first")
        grant = RoleGrant(user_id=user.id, role=role.value, previous_role=previous, state="pending", via="web",
                          requested_by=requester.name, requested_by_user_id=requester_user_id, requested_at=utc_now())
        session.add(grant)
        session.flush()
        self.audit.append(session, requester, "user.role_requested", details={
            "username": user.username, "role": role.value, "previous_role": previous, "grant": grant.id,
            "requested_by": requester.name})
        return grant

    def change_role(
        self, session: Session, username: str, role: Role, actor: Actor, actor_user_id: int | None, *, via: str,
    ) -> RoleGrant | None:
        """Change a person's role. From the web (`via="web"`), a role that needs a second person becomes a
        pending grant (returned) that a second person must approve; the command line (`via="cli"`)
        grants it at once, recorded and told to supervisors. Other roles change at once."""
        user = self.user_by_name(session, username)
        if user is None:
            raise AccountError(f"no user named {username!r}")
        if role not in USER_ROLES:
            raise AccountError(f"role must be one of {', '.join(USER_ROLES)}; got {role!r}")
        if user.role == role.value:
            return None
        if needs_second_person(role) and via == "web":
            return self._request_grant(session, user, role, user.role, actor, actor_user_id)
        previous = user.role
        user.role = role.value
        self.revoke_sessions(session, user.id)  # sessions start again with the new role
        if needs_second_person(role):
            grant = RoleGrant(user_id=user.id, role=role.value, previous_role=previous, state="approved", via=via,
                              requested_by=actor.name, requested_by_user_id=actor_user_id, requested_at=utc_now(),
                              decided_by=actor.name, decided_by_user_id=actor_user_id, decided_at=utc_now())
            session.add(grant)
            session.flush()
            self._audit_granted(session, actor, grant, user)
        else:
            self.audit.append(session, actor, "user.role_changed",
                              details={"username": user.username, "from": previous, "to": role.value})
        return None

    def decide_grant(self, session: Session, grant_id: int, approve: bool, actor: Actor,
                     actor_user_id: int | None) -> RoleGrant:
        """Approve (or refuse) a pending grant: only an active admin or supervisor who neither
        asked for it nor receives it may. Approving gives the role (and lets a new login sign in);
        refusing a new login disables it. Both are audited naming who asked and who decided."""
        grant = session.get(RoleGrant, grant_id, with_for_update=True)
        if grant is None:
            raise GrantNotFound(f"no role grant {grant_id}")
        if grant.state != "pending":
            raise AccountError(f"this grant was already {grant.state} by {grant.decided_by}")
        decider = session.get(User, actor_user_id) if actor_user_id is not None else None
        if decider is None or not decider.active or decider.pending_approval or \
                Role(decider.role) not in GRANT_APPROVERS:
            raise AccountError("only another administrator or a supervisor may decide on a role grant")
        if grant.requested_by_user_id == decider.id:
            raise AccountError("you asked for this grant: another administrator or a supervisor must decide on it")
        if grant.user_id == decider.id:
            raise AccountError("nobody may decide on a grant of a role to themselves")
        user = session.get(User, grant.user_id)
        assert user is not None  # the foreign key
        grant.state = "approved" if approve else "refused"
        grant.decided_by = actor.name
        grant.decided_by_user_id = decider.id
        grant.decided_at = utc_now()
        if approve:
            user.role = grant.role
            user.pending_approval = False
            self.revoke_sessions(session, user.id)
            self._audit_granted(session, actor, grant, user)
        else:
            if grant.previous_role is None:
                user.active = False  # a new login nobody approved never signs in
            self.audit.append(session, actor, "user.role_refused", details={
                "username": user.username, "role": grant.role, "grant": grant.id,
                "requested_by": grant.requested_by, "refused_by": actor.name})
        return grant

    def _audit_granted(self, session: Session, actor: Actor, grant: RoleGrant, user: User) -> None:
        details = {"username": user.username, "role": grant.role, "previous_role": grant.previous_role,
                   "grant": grant.id, "requested_by": grant.requested_by, "approved_by": grant.decided_by,
                   "via": grant.via}
        if grant.via == "cli":
            details["note"] = "granted from the server's command line: whoever ran it has host access"
        self.audit.append(session, actor, "user.role_granted", details=details)

    def pending_grants(self, session: Session) -> list[tuple[RoleGrant, User]]:
        return [(grant, user) for grant, user in session.execute(
            select(RoleGrant, User).join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.state == "pending").order_by(RoleGrant.requested_at)
        )]

    def recent_grants(self, session: Session, since: datetime) -> list[tuple[RoleGrant, User]]:
        """Grants approved since `since` (newest first): what supervisors are alerted to."""
        return [(grant, user) for grant, user in session.execute(
            select(RoleGrant, User).join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.state == "approved", RoleGrant.decided_at >= since)
            .order_by(RoleGrant.decided_at.desc()).limit(50)
        )]

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

    def change_own_password(self, session: Session, user_id: int, current: str, new: str, actor: Actor,
                            keep_session_id: int | None = None) -> None:
        """A person changes their own password: the current one must be right, the new one at least 12
        characters and different; every other session of theirs ends (the one they are using stays)."""
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise AccountError("no such active login")
        try:
            self.hasher.verify(user.password_hash, current)
        except Exception:  # noqa: BLE001 - argon2 raises one of several errors for a wrong password
            self.audit.append(session, actor, "user.password_change_refused", details={"username": user.username})
            raise AccountError("the current password is not right").at_field("current") from None
        if len(new) < 12:
            raise AccountError("the new password must be at least 12 characters long").at_field("new")
        if new == current:
            raise AccountError("the new password must differ from the current one").at_field("new")
        user.password_hash = self.hasher.hash(new)
        user.password_changed_at = utc_now()
        now = utc_now()
        for row in session.execute(select(UserSession).where(
                UserSession.user_id == user_id, UserSession.revoked_at.is_(None))).scalars():
            if row.id != keep_session_id:
                row.revoked_at = now
        self.audit.append(session, actor, "user.password_changed", details={"username": user.username})

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
        if user is None or not user.active or user.pending_approval:
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
        if user is None or not user.active or user.pending_approval:
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
            second_factor_due=self.second_factors is not None and self.second_factors.due(session, user),
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

    def rotate_api_secret(self, session: Session, username: str, actor: Actor) -> str:
        """A new generated secret for a provider's account (returned to show once); the old one stops
        working at once (docs/security.md, "Credentials"). Audited as `api_account.secret_rotated`."""
        account = session.execute(
            select(ApiAccount).where(ApiAccount.username == username.strip().lower())).scalar_one_or_none()
        if account is None:
            raise AccountError(f"no service-provider account named {username!r}")
        secret = secrets.token_urlsafe(32)
        account.secret_hash = _secret_hash(secret)
        self.audit.append(session, actor, "api_account.secret_rotated", details={"username": account.username})
        return secret

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
        """A person's login by password alone (HTTP Basic for scripts). Refused (SecondFactorNeeded) for a
        login that has a second factor or whose role requires one: a password alone must not pass it."""
        user = self.check_password(session, username, password)
        if user is None:
            return None
        if self.second_factors is not None and (self.second_factors.enrolled(session, user.id) is not None
                                                or self.second_factors.due(session, user)):
            raise SecondFactorNeeded(f"{user.username} signs in with a second factor, which HTTP Basic cannot "
                                     "carry: sign in in the browser")
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

