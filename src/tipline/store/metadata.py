"""Every table of tipline in one `MetaData`: importing this module registers them all.

The core tables are in tables.py; the agency directory, jurisdictions and referrals in referrals.py;
Idempotency-Key answers in idempotency.py; forwarding destinations and forwardings in forwarding.py.
Each of those imports `Base` from tables.py, so tables.py cannot import them back; whatever needs the whole schema (the database, the migrations' comparison,
tests that empty every table) imports `Base` from here instead.
"""

from tipline.store import forwarding, idempotency, referrals
from tipline.store.tables import Base

TABLE_MODULES = (forwarding, idempotency, referrals)
"""The modules besides tables.py whose tables are registered with `Base.metadata` by importing them."""

__all__ = ["TABLE_MODULES", "Base"]
