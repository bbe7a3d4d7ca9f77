"""The table of messages between an agency and the hotline on a referral: the logic is in
referral/messages.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import BigId


class ReferralMessageRow(Base):
    """One message on a referral, from the agency or from the hotline."""

    __tablename__ = "referral_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(BigId, ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))  # "agency" or "hotline"
    author: Mapped[str] = mapped_column(String(200))
    author_user_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


__all__ = ["ReferralMessageRow"]
