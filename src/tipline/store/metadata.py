"""Every table of tipline in one `MetaData`: importing this module registers them all.

The core tables are in tables.py; the agency directory, jurisdictions and referrals in referrals.py;
Idempotency-Key answers in idempotency.py; people's second factors in second_factors.py; messages on referrals in
referral_messages.py; forwarding destinations and forwardings in forwarding.py; imported referrals and partners' outcome
files in partners.py; hash-list exchanges in exchange_tables.py; abuse contacts, hosting lookups and takedown notices in
takedown.py; the series registry and clusters in victim_tables.py; who decided which report when in review_decisions.py;
trend counts and alerts in trends/tables.py. Each of those
imports `Base` from tables.py, so tables.py cannot import them back; whatever needs the whole schema (the
database, the migrations' comparison, tests that empty every table) imports `Base` from here instead.
"""

from tipline.store import (
    exchange_tables,
    forwarding,
    idempotency,
    partners,
    referral_messages,
    referrals,
    review_decisions,
    second_factors,
    takedown,
    victim_tables,
)
from tipline.store.tables import Base
from tipline.trends import tables as trend_tables

TABLE_MODULES = (exchange_tables, forwarding, idempotency, partners, referral_messages, referrals, review_decisions,
                 second_factors, takedown, victim_tables, trend_tables)
"""The modules besides tables.py whose tables are registered with `Base.metadata` by importing them."""

__all__ = ["TABLE_MODULES", "Base"]
