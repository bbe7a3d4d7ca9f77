"""The table of people's second factors (TOTP): the logic is in store/totp.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import JSONDocument


class UserSecondFactorRow(Base):
    """A person's TOTP secret (sealed) and recovery codes (hashed); unconfirmed until a first code."""

    __tablename__ = "user_second_factors"

    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sealed_secret: Mapped[str | None] = mapped_column(Text)  # the confirmed secret
    pending_secret: Mapped[str | None] = mapped_column(Text)  # a new secret awaiting its first code
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(BigInteger)  # the last 30-second step a code was used for
    recovery_hashes: Mapped[list[str]] = mapped_column(JSONDocument, default=list)  # SHA-256 of each unused code


__all__ = ["UserSecondFactorRow"]
