"""Rows written in bulk (store/bulk.py: an exchange's fetch, a trends rebuild) read back as rows the
ORM wrote do: the same values, timestamps compared in SQL as the rest of the database's, and the ids
reserved for them the rows' own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.instance import Instance
from tipline.matching import BankEntry, SignalType
from tipline.store.exchange_tables import ExchangeEntryRow
from tipline.store.tables import BankEntryRow

ACTOR = Actor.system("test")


def test_entries_added_in_bulk_read_back_and_compare_like_any_other(instance: Instance) -> None:
    before = utc_now().replace(microsecond=0)  # a whole second: the driver's own adapter would write it shorter
    with instance.db.transaction() as session:
        bank = instance.banks.create(session, "shared", "known_material", ACTOR)
        instance.banks.add_entries(session, "shared", [BankEntry("shared", SignalType.MD5, "0" * 32)], ACTOR)
        keyed = instance.banks.add_keyed(session, bank.id, [
            BankEntry("shared", SignalType.MD5, f"{i:032x}", source="EX", source_id=f"e{i}") for i in range(1, 4)
        ], ACTOR)
        exchange = instance.exchanges.create(session, "EX", "file", {"path": __file__}, "shared", ACTOR)
        from tipline.store.bulk import insert_many

        insert_many(session, ExchangeEntryRow.__table__, [
            {"exchange_id": exchange.id, "remote_id": f"e{i}", "signal_type": "md5", "value": f"{i:032x}",
             "bank_entry_id": keyed[("md5", f"e{i}", f"{i:032x}")], "tags": ["A1", "Zoë"], "first_seen": before,
             "last_seen": before, "seen_generation": 0} for i in range(1, 4)])
    after = utc_now() + timedelta(seconds=1)
    with instance.db.transaction() as session:
        rows = {row.source_id: row for row in session.execute(
            select(BankEntryRow).where(BankEntryRow.source == "EX")).scalars()}
        assert {keyed[("md5", k, rows[k].value)] for k in rows} == {row.id for row in rows.values()}
        assert all(row.enabled and row.added_by == ACTOR.name for row in rows.values())
        # timestamps written in bulk are compared in SQL as the ORM's are (the same stored form)
        assert session.execute(select(func.count()).select_from(BankEntryRow).where(
            BankEntryRow.added_at <= after, BankEntryRow.added_at >= before)).scalar_one() == 4
        assert session.execute(select(func.count()).select_from(ExchangeEntryRow).where(
            ExchangeEntryRow.first_seen <= after, ExchangeEntryRow.first_seen >= before)).scalar_one() == 3
        entry = session.execute(select(ExchangeEntryRow).where(ExchangeEntryRow.remote_id == "e2")).scalar_one()
        assert entry.tags == ["A1", "Zoë"] and entry.first_seen == before
        more = instance.banks.add_keyed(session, rows["e1"].bank_id, [
            BankEntry("shared", SignalType.MD5, "f" * 32, source="EX", source_id="later")], ACTOR)
        assert min(more.values()) > max(row.id for row in rows.values())
