"""Every table of tipline in one `MetaData`: importing this module registers them all.

The core tables are in tables.py; the agency directory, jurisdictions and referrals in referrals.py;
Idempotency-Key answers in idempotency.py; people's second factors in second_factors.py; messages on
referrals in referral_messages.py; forwarding destinations and forwardings in forwarding.py; the
series registry and clusters in victim_tables.py; trend counts and alerts in trends/tables.py. Each of those
imports `Base` from tables.py, so tables.py cannot import them back; whatever needs the whole schema (the
database, the migrations' comparison, tests that empty every table) imports `Base` from here instead.
"""

from tipline.store import forwarding, idempotency, referral_messages, referrals, second_factors, victim_tables
from tipline.store.tables import Base
from tipline.trends import tables as trend_tables

TABLE_MODULES = (forwarding, idempotency, referrals, referral_messages, second_factors, victim_tables, trend_tables)
"""The modules besides tables.py whose tables are registered with `Base.metadata` by importing them."""

__all__ = ["TABLE_MODULES", "Base"]
