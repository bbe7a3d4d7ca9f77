"""Guards of the public report form: its settings, the signed form token (CSRF without a session),
the signed receipt token (so nobody can walk through report numbers), and the per-address limit."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard
from zoneinfo import ZoneInfoNotFoundError

from tipline.config import ConfigError, Settings, int_setting
from tipline.domain.numbers import parse_whole_number
from tipline.web.i18n import gettext as _
from tipline.web.public_form.questions import load_zone

FORM_COOKIE = "tipline_report_form"
FORM_TOKEN_FIELD = "form_token"
HONEYPOT_FIELD = "homepage"
MIB = 1024 * 1024


@dataclass(frozen=True)
class FormSettings:
    """Limits of the form, from TIPLINE_PUBLIC_FORM_* variables (see docs/public-form.md)."""

    rate_limit: int = 5
    rate_window_seconds: int = 600
    max_files: int = 20
    max_file_bytes: int = 25 * MIB
    max_total_bytes: int = 100 * MIB
    form_hours: int = 24
    receipt_hours: int = 24
    time_zone: str = "UTC"

    @classmethod
    def from_settings(cls, settings: Settings) -> FormSettings:
        env = dict(settings.extra)
        zone = env.get("TIPLINE_PUBLIC_FORM_TIME_ZONE") or "UTC"
        try:
            load_zone(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"TIPLINE_PUBLIC_FORM_TIME_ZONE must name a time zone such as "
                              f"America/New_York, got {zone!r}") from None
        return cls(
            rate_limit=int_setting(env, "TIPLINE_PUBLIC_FORM_RATE_LIMIT", cls.rate_limit, minimum=1),
            rate_window_seconds=int_setting(env, "TIPLINE_PUBLIC_FORM_RATE_WINDOW_SECONDS", cls.rate_window_seconds,
                                     minimum=1),
            max_files=int_setting(env, "TIPLINE_PUBLIC_FORM_MAX_FILES", cls.max_files, minimum=0),
            max_file_bytes=int_setting(env, "TIPLINE_PUBLIC_FORM_MAX_FILE_BYTES", cls.max_file_bytes, minimum=1),
            max_total_bytes=int_setting(env, "TIPLINE_PUBLIC_FORM_MAX_TOTAL_BYTES", cls.max_total_bytes, minimum=1),
            form_hours=int_setting(env, "TIPLINE_PUBLIC_FORM_TOKEN_HOURS", cls.form_hours, minimum=1),
            receipt_hours=int_setting(env, "TIPLINE_PUBLIC_FORM_RECEIPT_HOURS", cls.receipt_hours, minimum=1),
            time_zone=zone,
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """HMAC-SHA256 under a key derived from the instance's secret key, one key per purpose."""

    def __init__(self, secret_key: bytes, purpose: str) -> None:
        self._key = hmac.new(secret_key, f"tipline public form {purpose} v1".encode(), hashlib.sha256).digest()

    def sign(self, message: str) -> str:
        return _b64(hmac.new(self._key, message.encode(), hashlib.sha256).digest())

    def check(self, message: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(message).encode(), signature.encode())  # bytes: any text is refused


class FormTokens:
    """Signed double-submit CSRF protection for a form the public uses without a session.

    The browser gets a random value in a strict same-site cookie; the form carries
    `issued.HMAC(cookie.issued)`. A forged cross-site post has neither the cookie nor a token that
    matches it, and the token alone is useless without the cookie it was signed for."""

    def __init__(self, secret_key: bytes, hours: int, clock: Callable[[], float] = time.time) -> None:
        self.signer = Signer(secret_key, "form")
        self.lifetime = hours * 3600
        self.clock = clock

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def cookie_ok(cookie: str | None) -> TypeGuard[str]:
        return cookie is not None and len(cookie) == 43 and all(c.isalnum() or c in "-_" for c in cookie)

    def token_for(self, cookie: str) -> str:
        issued = str(int(self.clock()))
        return f"{issued}.{self.signer.sign(f'{cookie}.{issued}')}"

    def check(self, cookie: str | None, token: str | None) -> str | None:
        """None when the token is good for this cookie; otherwise what went wrong, for the person."""
        if not self.cookie_ok(cookie):
            return _("Your browser did not send back the small security cookie this form uses, so the report "
                     "was not sent. Please make sure cookies are allowed for this site, then press "
                     "\u201cSend report\u201d again.")
        issued, _sep, signature = (token or "").partition(".")
        if parse_whole_number(issued, minimum=0) is None or not signature or not self.signer.check(
                f"{cookie}.{issued}", signature):
            return _("This form did not come from this site, or it was opened in another window, so the "
                     "report was not sent. Please check your answers and press \u201cSend report\u201d again.")
        age = self.clock() - int(issued)
        if age > self.lifetime or age < -300:
            return _("This form was open for a long time and expired, so the report was not sent. Please check "
                     "your answers and press \u201cSend report\u201d again.")
        return None


@dataclass(frozen=True)
class Receipt:
    number: int
    what: str
    danger: bool
    child: bool = False  # the reporter is the young person it is about


class ReceiptTokens:
    """The receipt page's address: `payload.signature`, where the payload says which report number
    to show, when the receipt was issued and which help fits. Without the key, no other number can
    be shown, so report numbers cannot be enumerated through the receipt page."""

    def __init__(self, secret_key: bytes, hours: int, clock: Callable[[], float] = time.time) -> None:
        self.signer = Signer(secret_key, "receipt")
        self.lifetime = hours * 3600
        self.clock = clock

    def issue(self, receipt: Receipt) -> str:
        payload = _b64(f"{receipt.number}.{int(self.clock())}.{receipt.what}.{int(receipt.danger)}"
                       f".{int(receipt.child)}".encode())
        return f"{payload}.{self.signer.sign(payload)[:32]}"

    def read(self, token: str) -> Receipt | None:
        payload, _sep, signature = token.partition(".")
        if len(token) > 200 or not payload or len(signature) != 32:
            return None
        if not hmac.compare_digest(self.signer.sign(payload)[:32].encode(), signature.encode()):
            return None
        try:
            number, issued, what, danger, child = _unb64(payload).decode("ascii").split(".")
            age = self.clock() - int(issued)
            if age > self.lifetime or age < -300:
                return None
            return Receipt(int(number), what, danger == "1", child == "1")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None


def decoy_number() -> int:
    """The number shown to a submission that filled the honeypot: far above any real report number
    (so it never names someone else's report) and logged, so staff can recognise it."""
    return 900_000_000 + secrets.randbelow(99_999_999)


class SubmissionLimiter:
    """At most `limit` accepted submissions per address within `window` seconds (in-process, like
    `tipline.web.auth.LoginThrottle`). Rejected attempts do not count, so fixing mistakes is never
    held against anyone."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._accepted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float] | None:
        entries = self._accepted.get(key)
        if entries is None:
            return None
        while entries and now - entries[0] >= self.window:
            entries.popleft()
        if not entries:
            del self._accepted[key]
            return None
        return entries

    def wait_seconds(self, key: str) -> float:
        """0 when `key` may submit now; otherwise how long until it may."""
        now = self.clock()
        with self._lock:
            entries = self._prune(key, now)
            if entries is None or len(entries) < self.limit:
                return 0.0
            return max(1.0, self.window - (now - entries[0]))

    def accepted(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            entries = self._prune(key, now)
            if entries is None:
                entries = self._accepted[key] = deque()
            entries.append(now)
            if len(self._accepted) > 10_000:  # forget addresses whose window has passed
                for stale in list(self._accepted):
                    self._prune(stale, now)


WRONG_CODES_PER_HOUR = 10
"""Wrong report codes one address may try in an hour (adding to a report, asking for follow-up)."""


def wrong_codes(request: Any) -> SubmissionLimiter:
    limiter: SubmissionLimiter | None = getattr(request.app.state, "public_wrong_codes", None)
    if limiter is None:
        limiter = SubmissionLimiter(WRONG_CODES_PER_HOUR, 3600)
        request.app.state.public_wrong_codes = limiter
    return limiter
