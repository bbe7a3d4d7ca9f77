"""Hash-list exchanges over HTTP: HMA's `/c/exchanges` and `/c/exchange/{name}` (with tipline's
additions: the bank, the last fetch, entries' feedback and quarantine, the problems met), analysts'
feedback on an entry, and the supervisor's release or disabling of a held entry.

Nothing here fetches: the web process makes no outbound requests; `tipline exchanges fetch` (a worker
or a timer) does, and sends the feedback recorded here. Exchanges are added from the command line,
where their credentials are read from standard input (HMA's `POST /c/exchanges` is not served)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from tipline.domain.roles import Permission
from tipline.exchanges.apis import checkpoint_time
from tipline.exchanges.fetch import rescore_after_release
from tipline.exchanges.periodic import DEFAULT_FETCH_MINUTES
from tipline.exchanges.registry import APIS
from tipline.store.accounts import Principal
from tipline.store.exchange_tables import ExchangeEntryRow, ExchangeRow
from tipline.store.exchanges import ExchangeError
from tipline.store.tables import BankRow
from tipline.web.auth import POLICY_MARK, AuthError, allow
from tipline.web.params import Id
from tipline.web.transaction import InTransaction

router = APIRouter(tags=["HMA-compatible API"])


def _json_policy(*permissions: Permission) -> Any:
    """allow(), answering refusals in JSON on these paths (they are not under /api/)."""
    inner = allow(*permissions)

    async def policy(request: Request) -> Principal:
        try:
            found: Principal = await inner(request)
            return found
        except AuthError as error:
            raise AuthError(error.status, error.message, api=True) from None

    setattr(policy, POLICY_MARK, getattr(inner, POLICY_MARK))
    return policy


Reader = Annotated[Principal, Depends(_json_policy(Permission.REPORT_READ))]
"""Reading exchanges: analysts, supervisors, victim identification."""
Reviewer = Annotated[Principal, Depends(_json_policy(Permission.REPORT_REVIEW))]
"""Feedback on an entry: analysts and supervisors, who decide what a file is."""
Supervisor = Annotated[Principal, Depends(allow(Permission.REPORT_SUPERVISE))]
"""Releasing or disabling a held entry (the supervisor's page)."""


class ExchangeMessage(BaseModel):
    message: str
    error: str


class ExchangeEntry(BaseModel):
    id: int = Field(description="The exchange entry's id (`tipline exchanges confirm|reject|release ID`)")
    remote_id: str = Field(description="The entry's id at the exchange (NCMEC: member-id)")
    signal_type: str
    value: str
    bank_entry_id: int = Field(description="The bank entry it fills (HMA's bank content id)")
    tags: list[str]
    first_seen: str
    last_seen: str
    deleted: bool
    feedback: str | None = Field(description="confirmed or rejected by an analyst (a rejected entry does not match)")
    feedback_sent: str | None = Field(description="pending, sent, failed or unsupported (the exchange takes none)")
    hold: str | None = Field(description="held (its matches are not acted on), released or disabled")
    hold_reason: str | None


class ExchangeStatus(BaseModel):
    last_fetch_time: int = Field(description="HMA: the last fetch's start, unix time (0: never)")
    checkpoint_time: int = Field(description="HMA: the time the checkpoint reached, unix time (0: none)")
    success: bool = Field(description="HMA: whether the last fetch ended without an error")
    state: str = Field(description="tipline: idle, fetching or failed")
    last_error: str | None = Field(description="tipline: why the last fetch stopped")
    problems: dict[str, int] = Field(description="tipline: input not applied, by kind, in all fetches")


class Exchange(BaseModel):
    name: str
    api: str = Field(description="ncmec or file")
    enabled: bool
    bank: str = Field(description="tipline: the bank the exchange fills")
    config: dict[str, Any] = Field(description="tipline: the exchange's settings (never its credentials)")
    status: ExchangeStatus
    entries: dict[str, int] = Field(description="tipline: live, deleted, confirmed, rejected and held entries")
    held: list[ExchangeEntry] = Field(description="tipline: entries held by the flood quarantine")
    feedback: list[ExchangeEntry] = Field(description="tipline: entries analysts confirmed or rejected (newest 100)")
    problems: list[dict[str, Any]] = Field(description="tipline: the latest input not applied, named per entry")


class Feedback(BaseModel):
    confirmed: bool = Field(description="true: the file was what the entry says; false: it was not")
    reason: str | None = Field(None, max_length=1000, description="What the analyst saw (a rejection's reason)")


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "error": {400: "bad_request", 404: "not_found"}.get(status, "error")},
                        status_code=status)


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ExchangeMessage, "description": "No such exchange"}}


def _entry(row: ExchangeEntryRow) -> dict[str, Any]:
    return {"id": row.id, "remote_id": row.remote_id, "signal_type": row.signal_type, "value": row.value,
            "bank_entry_id": row.bank_entry_id, "tags": list(row.tags or []), "first_seen": row.first_seen.isoformat(),
            "last_seen": row.last_seen.isoformat(), "deleted": row.deleted_at is not None, "feedback": row.feedback,
            "feedback_sent": row.feedback_sent, "hold": row.hold, "hold_reason": row.hold_reason}


def _status(row: ExchangeRow) -> dict[str, Any]:
    return {"last_fetch_time": int(row.last_fetch_started_at.timestamp()) if row.last_fetch_started_at else 0,
            "checkpoint_time": checkpoint_time(row.checkpoint) or 0,
            "success": row.state != "failed", "state": row.state, "last_error": row.last_error,
            "problems": dict(((row.counts or {}).get("total") or {}).get("problems") or {})}


@router.get("/c/exchanges", summary="List exchanges", response_model=list[str])
def exchanges_index(principal: Reader, work: InTransaction) -> list[str]:
    """HMA's list of exchange names."""
    return [row.name for row in work.instance.exchanges.all(work.session)]


@router.get("/c/exchanges/apis", summary="List exchange types", response_model=list[str])
def exchange_apis(principal: Reader) -> list[str]:
    """The kinds of exchange this tipline fetches from (HMA's installed SignalExchangeAPIs)."""
    return sorted(APIS)


@router.get("/c/exchange/{exchange_name}", summary="Read an exchange", response_model=Exchange, responses=NOT_FOUND)
def exchange_show(exchange_name: str, principal: Reader, work: InTransaction) -> Any:
    """HMA's exchange (`name`, `api`, `enabled` and its settings) with tipline's status, entries by state,
    the held entries, the entries analysts gave feedback on, and the latest problems named per entry."""
    store = work.instance.exchanges
    try:
        row = store.get(work.session, exchange_name)
    except ExchangeError as error:
        return _refused(404, str(error))
    bank = work.session.get(BankRow, row.bank_id)
    feedback = (store.entries(work.session, row, state="rejected") + store.entries(work.session, row, state="confirmed"))
    return {"name": row.name, "api": row.api, "enabled": row.enabled, "bank": bank.name if bank else "",
            "config": {"fetch_every_minutes": DEFAULT_FETCH_MINUTES, **row.config}, "status": _status(row), "entries": store.entry_counts(work.session, row),
            "held": [_entry(e) for e in store.entries(work.session, row, state="held")],
            "feedback": [_entry(e) for e in sorted(feedback, key=lambda e: e.id)[-100:]],
            "problems": [{"at": p.at.isoformat(), "kind": p.kind, "remote_id": p.remote_id, "detail": p.detail}
                         for p in store.problems(work.session, row, 50)]}


@router.get("/c/exchange/{exchange_name}/status", summary="An exchange's fetch status", response_model=ExchangeStatus,
            responses=NOT_FOUND)
def exchange_status(exchange_name: str, principal: Reader, work: InTransaction) -> Any:
    """HMA's `{last_fetch_time, checkpoint_time, success}` with tipline's state, error and problem counts."""
    try:
        return _status(work.instance.exchanges.get(work.session, exchange_name))
    except ExchangeError as error:
        return _refused(404, str(error))


@router.post("/c/exchange/{exchange_name}/entry/{entry_id}/feedback", summary="Confirm or reject an entry",
             response_model=ExchangeEntry,
             responses={**NOT_FOUND, 400: {"model": ExchangeMessage, "description": "The entry is not this exchange's"}})
def entry_feedback(exchange_name: str, entry_id: Id, body: Feedback, principal: Reviewer, work: InTransaction) -> Any:
    """An analyst's word on an entry (audited): a rejected entry stops matching at once; the exchange is
    told (NCMEC: a vote) by the next `tipline exchanges fetch` or `send-feedback`, never from here."""
    store = work.instance.exchanges
    try:
        exchange = store.get(work.session, exchange_name)
        entry = store.entry(work.session, entry_id)
        if entry.exchange_id != exchange.id:
            return _refused(404, f"exchange {exchange_name!r} has no entry {entry_id}")
        row = store.record_feedback(work.session, entry.id, body.confirmed, principal.actor, body.reason)
    except ExchangeError as error:
        return _refused(404, str(error))
    return _entry(row)


@router.post("/supervisor/exchange-entries/{entry_id}/release", include_in_schema=False)
def release_entry(entry_id: Id, principal: Supervisor, work: InTransaction) -> Response:
    """The supervisor releases a held entry: its matches count again, and those reports are scored again."""
    try:
        row = work.instance.exchanges.release(work.session, entry_id, principal.actor)
    except ExchangeError:
        return RedirectResponse("/supervisor?notice=exchange-gone#exchange-holds", status_code=303)
    rescore_after_release(work.instance, work.session, row.bank_entry_id)
    return RedirectResponse("/supervisor?notice=exchange-released#exchange-holds", status_code=303)


@router.post("/supervisor/exchange-entries/{entry_id}/disable", include_in_schema=False)
def disable_entry(entry_id: Id, principal: Supervisor, work: InTransaction) -> Response:
    """The supervisor disables a held entry: it no longer matches (its held matches stay unacted on)."""
    try:
        work.instance.exchanges.disable_entry(work.session, entry_id, principal.actor)
    except ExchangeError:
        return RedirectResponse("/supervisor?notice=exchange-gone#exchange-holds", status_code=303)
    return RedirectResponse("/supervisor?notice=exchange-disabled#exchange-holds", status_code=303)


def supervisor_holds(session: Any, instance: Any) -> dict[str, Any]:
    """For the supervisor's page: held entries with their exchange, and exchanges whose fetch failed."""
    from sqlalchemy import select

    held = session.execute(
        select(ExchangeEntryRow, ExchangeRow.name).join(ExchangeRow, ExchangeRow.id == ExchangeEntryRow.exchange_id)
        .where(ExchangeEntryRow.hold == "held").order_by(ExchangeEntryRow.hold_at).limit(200)).all()
    failed = [row for row in instance.exchanges.all(session) if row.state == "failed"]
    return {"exchange_holds": [{"entry": entry, "exchange": name} for entry, name in held],
            "exchange_failures": failed}
