"""Messages between an agency and the hotline about one referral: either side writes, both read them
on the referral (the agency's referral page, the report's page at the hotline) and on the report's
timeline. Writing is audited (`referral.message_sent`); they are read on pages whose reads are audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.store.accounts import Principal
from tipline.store.audit import AuditLog
from tipline.store.referral_messages import ReferralMessageRow
from tipline.store.referrals import ReferralRow

MAX_MESSAGE = 5000
SIDES = ("agency", "hotline")


class MessageRefused(ValueError):
    """A message that cannot be sent, with the reason."""


def send_message(audit: AuditLog, session: Session, referral: ReferralRow, side: str, principal: Principal,
                 body: str) -> ReferralMessageRow:
    """Append a message (1 to 5,000 characters) from `side`, audited with its length (not its text)."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    text = body.strip()
    if not text:
        raise MessageRefused("write a message first")
    if len(text) > MAX_MESSAGE:
        raise MessageRefused(f"a message is at most {MAX_MESSAGE:,} characters; this one has {len(text):,}")
    row = ReferralMessageRow(referral_id=referral.id, side=side, author=principal.actor.name,
                             author_user_id=principal.user_id, body=text, created_at=utc_now())
    session.add(row)
    session.flush()
    audit.append(session, principal.actor, "referral.message_sent", report_id=referral.report_id,
                 details={"referral_id": referral.id, "message_id": row.id, "side": side, "characters": len(text)})
    return row


def messages_of(session: Session, referral_id: int) -> list[ReferralMessageRow]:
    return list(session.execute(select(ReferralMessageRow).where(ReferralMessageRow.referral_id == referral_id)
                                .order_by(ReferralMessageRow.created_at, ReferralMessageRow.id)).scalars())


__all__ = ["MAX_MESSAGE", "MessageRefused", "ReferralMessageRow", "messages_of", "send_message"]
