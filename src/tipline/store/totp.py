"""People's second factor: a TOTP secret (RFC 6238, `pyotp`; any authenticator app) and recovery codes.

The secret is stored sealed (AES-256-GCM) with the instance's `second-factor.key` in TIPLINE_KEY_DIR
(32 random bytes, 0600, created on first use like the other keys), the user's id as associated data,
so the database alone gives no secret and a sealed secret copied onto another user does not open.
Recovery codes (ten, 80 random bits each) are stored as SHA-256 hashes and each works once. A code is
accepted within one 30-second step either side, and never twice: the last step used is kept.

Which roles must have one is a setting (TIPLINE_TOTP_REQUIRED_ROLES, e.g. `admin,supervisor`); a
person of such a role without one may only set it up (web/auth.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.roles import USER_ROLES, Role
from tipline.keyfiles import load_or_create_key
from tipline.store.audit import AuditLog
from tipline.store.second_factors import UserSecondFactorRow
from tipline.store.tables import User

KEY_FILE = "second-factor.key"
ISSUER = "tipline"
RECOVERY_CODES = 10
_NONCE = 12


class SecondFactorError(ValueError):
    """A second-factor request that cannot be done, with the reason."""


def required_roles(text: str | None) -> frozenset[Role]:
    """TIPLINE_TOTP_REQUIRED_ROLES: role names separated by commas; an unknown name stops start-up."""
    roles = set()
    for name in (part.strip() for part in (text or "").split(",")):
        if not name:
            continue
        if name not in {r.value for r in USER_ROLES}:
            raise ValueError(f"TIPLINE_TOTP_REQUIRED_ROLES names {name!r}, which is not a role; use "
                             f"{', '.join(r.value for r in USER_ROLES)}")
        roles.add(Role(name))
    return frozenset(roles)


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


class SecondFactors:
    """Enrolment, verification and removal of people's TOTP second factor, each audited."""

    def __init__(self, audit: AuditLog, key_dir: Path, required: frozenset[Role] = frozenset()) -> None:
        self.audit = audit
        self._key_dir = key_dir
        self.required = required

    def _key(self) -> bytes:
        return load_or_create_key(self._key_dir / KEY_FILE)

    def _seal(self, user_id: int, secret: str) -> str:
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self._key()).encrypt(nonce, secret.encode("ascii"), f"totp:{user_id}".encode())
        return "v1:" + base64.b64encode(nonce + sealed).decode("ascii")

    def _open(self, user_id: int, sealed: str) -> str:
        try:
            raw = base64.b64decode(sealed.removeprefix("v1:"), validate=True)
            return AESGCM(self._key()).decrypt(raw[:_NONCE], raw[_NONCE:], f"totp:{user_id}".encode()).decode()
        except (ValueError, InvalidTag):
            raise SecondFactorError(f"the second factor does not open with this instance's {KEY_FILE}: set it up "
                                    "again (`tipline users reset-second-factor`)") from None

    # --- state --------------------------------------------------------------------------------------

    def enrolled(self, session: Session, user_id: int) -> UserSecondFactorRow | None:
        row = session.get(UserSecondFactorRow, user_id)
        return row if row is not None and row.confirmed_at is not None and row.sealed_secret else None

    def due(self, session: Session, user: User) -> bool:
        """The person's role requires a second factor and they have none yet."""
        return Role(user.role) in self.required and self.enrolled(session, user.id) is None

    # --- enrolment ----------------------------------------------------------------------------------

    def begin(self, session: Session, user: User) -> tuple[str, str]:
        """A new secret to confirm (replacing any unconfirmed one; a confirmed one keeps working until the
        new one is confirmed): returns the secret in text and the otpauth:// address for the QR code."""
        secret = pyotp.random_base32()
        row = session.get(UserSecondFactorRow, user.id)
        if row is None:
            row = UserSecondFactorRow(user_id=user.id, sealed_secret=None, created_at=utc_now(), confirmed_at=None,
                                      last_step=None, recovery_hashes=[])
            session.add(row)
        row.pending_secret = self._seal(user.id, secret)
        session.flush()
        return secret, uri_of(secret, user.username)

    def pending(self, session: Session, user: User) -> tuple[str, str] | None:
        """The secret awaiting confirmation (text, otpauth:// address), if one was begun."""
        row = session.get(UserSecondFactorRow, user.id)
        if row is None or not row.pending_secret:
            return None
        secret = self._open(user.id, row.pending_secret)
        return secret, uri_of(secret, user.username)

    def confirm(self, session: Session, user: User, code: str, actor: Actor) -> list[str]:
        """Confirm the new secret with a code from the app; returns ten new recovery codes (shown once)."""
        row = session.get(UserSecondFactorRow, user.id, with_for_update=True)
        if row is None or not row.pending_secret:
            raise SecondFactorError("start setting up a second factor first")
        step = _matching_step(self._open(user.id, row.pending_secret), code.strip().replace(" ", ""), None)
        if step is None:
            self.audit.append(session, actor, "user.second_factor_failed",
                              details={"username": user.username, "during": "enrolment"})
            raise SecondFactorError("that code does not match: type the 6 digits the app shows now")
        replacing = row.confirmed_at is not None
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
        row.sealed_secret, row.pending_secret = row.pending_secret, None
        row.confirmed_at, row.last_step = utc_now(), step
        row.recovery_hashes = [_hash_code(c) for c in codes]
        self.audit.append(session, actor, "user.second_factor_enrolled",
                          details={"username": user.username, "replaced": replacing})
        return codes

    # --- signing in ---------------------------------------------------------------------------------

    def verify(self, session: Session, user: User, code: str, actor: Actor) -> str | None:
        """Check a code at sign-in: "totp", "recovery code" (that code is then spent), or None."""
        row = session.get(UserSecondFactorRow, user.id, with_for_update=True)
        if row is None or row.confirmed_at is None or not row.sealed_secret:
            return None
        typed = code.strip()
        if typed.replace(" ", "").isdigit():
            step = _matching_step(self._open(user.id, row.sealed_secret), typed.replace(" ", ""), row.last_step)
            if step is not None:
                row.last_step = step
                return "totp"
        else:
            digest = _hash_code(typed)
            hashes = list(row.recovery_hashes)
            if any(hmac.compare_digest(digest, h) for h in hashes):
                row.recovery_hashes = [h for h in row.recovery_hashes if h != digest]
                self.audit.append(session, actor, "user.recovery_code_used",
                                  details={"username": user.username, "left": len(hashes) - 1})
                return "recovery code"
        self.audit.append(session, actor, "user.second_factor_failed",
                          details={"username": user.username, "during": "sign-in"})
        return None

    def recovery_codes_left(self, session: Session, user_id: int) -> int:
        row = self.enrolled(session, user_id)
        return len(row.recovery_hashes) if row else 0

    # --- removal ------------------------------------------------------------------------------------

    def remove(self, session: Session, user: User, actor: Actor, *, by_operator: bool = False) -> bool:
        """Remove the person's second factor (their own choice when their role does not require one, or
        an operator's from the server when they lost it); True if there was one."""
        row = session.get(UserSecondFactorRow, user.id)
        if row is None:
            return False
        if not by_operator and Role(user.role) in self.required:
            raise SecondFactorError("your role requires a second factor: set up a new one instead, which "
                                    "replaces this one")
        session.delete(row)
        self.audit.append(session, actor, "user.second_factor_removed",
                          details={"username": user.username, "by_operator": by_operator})
        return True


def uri_of(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The 30-second step (now, or one either side) whose code this is, if not already used."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utc_now())
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (last_step is None or step > last_step):
            return step
    return None


__all__ = ["KEY_FILE", "SecondFactorError", "SecondFactors", "required_roles"]
