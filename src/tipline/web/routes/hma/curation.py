"""`/c/...`: list, create and read banks, add signals or uploaded content to them, and read, disable or
enable one bank content (HMA's curation root). Changes go through BankStore (audited, in the change log)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from tipline.domain.numbers import parse_whole_number
from tipline.matching import (
    BankEntry,
    BankKind,
    SignalError,
    parse_classification,
    parse_signal_type,
)
from tipline.store.accounts import Principal
from tipline.store.banks import BankError
from tipline.store.tables import BankEntryRow, BankRow
from tipline.web.params import Id
from tipline.web.routes.hma.access import Curator, Reader
from tipline.web.routes.hma.bodies import read_json, read_upload
from tipline.web.routes.hma.hashing import hash_within_budget, pick_signals
from tipline.web.routes.hma.shapes import (
    ERRORS,
    NO_URL_FETCHING,
    NOT_FOUND,
    SIGNALS_OF,
    UPLOAD_BODY,
    UPLOAD_ERRORS,
    HmaBank,
    HmaBankCreate,
    HmaContent,
    HmaContentAdded,
    HmaContentUpdate,
    HmaMessage,
    Refused,
    answers,
    json_body,
)

router = APIRouter(tags=["HMA-compatible API"])


def _bank_shape(row: BankRow) -> dict[str, Any]:
    return {"name": row.name, "matching_enabled_ratio": 1.0, "kind": row.kind, "pdq_threshold": row.pdq_threshold,
            "description": row.description or ""}


def _bank_row(session: Any, name: str) -> BankRow:
    row: BankRow | None = session.execute(select(BankRow).where(BankRow.name == name)).scalar_one_or_none()
    if row is None:
        raise Refused(404, f"bank {name!r} not found")
    return row


@router.get("/c/banks", summary="List banks", response_model=list[HmaBank], responses=ERRORS)
@answers
async def banks_index(request: Request, principal: Reader) -> Any:
    """Every bank, by name, as HMA's BankConfig (`name`, `matching_enabled_ratio`) with tipline's kind,
    PDQ threshold and description."""
    instance = request.app.state.instance

    def work() -> list[dict[str, Any]]:
        with instance.db.transaction() as session:
            return [_bank_shape(row) for row in session.execute(select(BankRow).order_by(BankRow.name)).scalars()]

    return await run_in_threadpool(work)


@router.get("/c/bank/{bank_name}", summary="Read a bank", response_model=HmaBank, responses={**ERRORS, **NOT_FOUND})
@answers
async def bank_show(request: Request, bank_name: str, principal: Reader) -> Any:
    instance = request.app.state.instance

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            return _bank_shape(_bank_row(session, bank_name))

    return await run_in_threadpool(work)


@router.post("/c/banks", summary="Create a bank", status_code=201, response_model=HmaBank,
             responses={**ERRORS, 415: {"model": HmaMessage, "description": "Not application/json"}},
             openapi_extra=json_body(HmaBankCreate, "HMA's BankCreateRequest, with tipline's kind and threshold"))
@answers
async def bank_create(request: Request, principal: Curator) -> Any:
    """Create a bank (audited). A bank of that name already existing answers 403, as HMA does."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise Refused(400, "name is required")
    ratio, enabled = body.get("enabled_ratio"), body.get("enabled")
    if (ratio is not None and ratio != 1 and ratio != 1.0) or enabled is False:
        raise Refused(400, "tipline banks match every lookup: enabled_ratio must be 1.0 (disable entries instead)")
    kind = body.get("kind", BankKind.KNOWN_MATERIAL.value)
    threshold = body.get("pdq_threshold", 31)
    description = body.get("description", "")
    if kind not in {k.value for k in BankKind}:
        raise Refused(400, f"kind must be one of {', '.join(k.value for k in BankKind)}, got {kind!r}")
    if not isinstance(threshold, int) or isinstance(threshold, bool):
        raise Refused(400, f"pdq_threshold must be an integer from 0 to 256, got {threshold!r}")
    if not isinstance(description, str):
        raise Refused(400, "description must be text")
    instance = request.app.state.instance

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            if session.execute(select(BankRow.id).where(BankRow.name == name)).first() is not None:
                raise Refused(403, "Bank already exists")
            try:
                row = instance.banks.create(session, name, kind, principal.actor, pdq_threshold=threshold,
                                            description=description)
            except BankError as error:
                raise Refused(400, str(error)) from None
            shape = _bank_shape(row)
        with instance.db.transaction() as session:
            instance.matching.matcher(session, fresh=True)  # this process matches it at once
        return shape

    return await run_in_threadpool(work)


def _provenance(request: Request) -> dict[str, str | None]:
    """tipline's additions to the curation calls: provenance of what is added, as query parameters."""
    return {name: request.query_params.get(name) or None
            for name in ("classification", "series", "source", "source_id")}


def _add_signals(request: Request, principal: Principal, bank_name: str, signals: dict[str, str],
                 not_added: dict[str, str], via: str) -> dict[str, Any]:
    """Add each signal as an entry of the bank, in one transaction; HMA's answer."""
    instance = request.app.state.instance
    provenance = _provenance(request)
    entries = []
    for name, value in signals.items():
        try:
            entries.append(BankEntry(bank=bank_name, signal_type=parse_signal_type(name), value=value,
                                     added_at=BankEntry.now(), added_by=principal.actor.name,
                                     classification=parse_classification(provenance["classification"]),
                                     series=provenance["series"], source=provenance["source"],
                                     source_id=provenance["source_id"]))
        except SignalError as error:
            if str(error).startswith("unknown signal type"):
                raise Refused(400, f"No such signal type {name!r}") from None
            raise Refused(400, f"Invalid {name} signal: {error}") from None
    if not entries:
        raise Refused(400, "No signals given" + (f" ({'; '.join(not_added.values())})" if not_added else ""))
    ids: list[int] = []
    with instance.db.transaction() as session:
        _bank_row(session, bank_name)
        instance.banks.add_entries(session, bank_name, entries, principal.actor, audit_detail={"via": via},
                                   ids_out=ids)
        stored = {(row.signal_type, row.value): row.id for row in session.execute(
            select(BankEntryRow).where(BankEntryRow.id.in_(ids))).scalars()}
    with instance.db.transaction() as session:
        instance.matching.matcher(session, fresh=True)  # this process matches them at once
    entry_ids = {name: stored[(entry.signal_type.value, entry.value)] for name, entry in zip(signals, entries)}
    return {"id": next(iter(entry_ids.values())), "signals": {name: e.value for name, e in zip(signals, entries)},
            "entry_ids": entry_ids, "not_added": not_added}


PROVENANCE_PARAMETERS = {"parameters": [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
    for name, text in (("classification", "tipline: A1, A2, B1 or B2"),
                       ("series", "tipline: the victim-identification series"),
                       ("source", "tipline: where the content or hash comes from"),
                       ("source_id", "tipline: the source's id for it (HMA's metadata content_id)"))
]}


@router.post("/c/bank/{bank_name}/signal", summary="Add signals to a bank", response_model=HmaContentAdded,
             responses={**ERRORS, **NOT_FOUND, 415: {"model": HmaMessage, "description": "Not application/json"}},
             openapi_extra={**json_body(None, "Signal type to value, e.g. {\"pdq\": \"f8f8...\"}"),
                            **PROVENANCE_PARAMETERS})
@answers
async def bank_add_signal(request: Request, bank_name: str, principal: Curator) -> Any:
    """Add signals (audited); they match within a second. Each signal becomes one entry."""
    instance = request.app.state.instance

    def exists() -> None:
        with instance.db.transaction() as session:
            _bank_row(session, bank_name)

    await run_in_threadpool(exists)
    body = await read_json(request)
    if not isinstance(body, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in body.items()):
        raise Refused(400, "the body must be a JSON object of signal type to signal value (text)")
    return await run_in_threadpool(_add_signals, request, principal, bank_name, body, {}, "HMA API signal")


@router.post("/c/bank/{bank_name}/content", summary="Add uploaded content to a bank",
             response_model=HmaContentAdded, responses={**ERRORS, **NOT_FOUND, **UPLOAD_ERRORS},
             openapi_extra={**UPLOAD_BODY, **PROVENANCE_PARAMETERS})
@answers
async def bank_add_content(request: Request, bank_name: str, principal: Curator) -> Any:
    """Hash an uploaded photo (pdq, md5) or video (video_md5, vpdq) and add its signals (audited); they match
    within a second. The content itself is not kept. A PDQ hash of quality below 50 is not banked."""
    instance = request.app.state.instance

    def exists() -> None:
        with instance.db.transaction() as session:
            _bank_row(session, bank_name)

    await run_in_threadpool(exists)
    if request.query_params.get("url") is not None:
        raise Refused(501, NO_URL_FETCHING.format(path=f"/c/bank/{bank_name}/content"))
    upload = await read_upload(request)
    assert upload.field is not None
    field = upload.field
    hashes = await hash_within_budget(request, upload)
    signals = pick_signals(hashes, SIGNALS_OF[field])
    not_added: dict[str, str] = {}
    if "pdq" in signals and (hashes.pdq_quality or 0) < 50:
        del signals["pdq"]
        not_added["pdq"] = (f"PDQ quality {hashes.pdq_quality} is below 50: the image is too flat to tell apart, "
                            "and its hash would match unrelated images")
    return await run_in_threadpool(_add_signals, request, principal, bank_name, signals, not_added,
                                   f"HMA API content ({hashes.media_type})")



# --- endpoints: one bank content (one entry) ---------------------------------------------------------------


ENABLED, DISABLED = 1, 0


def _content_row(session: Any, bank_name: str, content_id: int) -> tuple[BankRow, BankEntryRow]:
    bank = _bank_row(session, bank_name)
    row = session.get(BankEntryRow, content_id)
    if row is None or row.bank_id != bank.id:
        raise Refused(404, f"content '{content_id}' not found")
    return bank, row


def _content_shape(bank: BankRow, row: BankEntryRow, include_signals: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "id": row.id, "disable_until_ts": ENABLED if row.enabled else DISABLED, "collab_metadata": {},
        "original_media_uri": None, "bank": {"name": bank.name, "matching_enabled_ratio": 1.0},
        "signal_type": row.signal_type, "classification": row.classification, "series": row.series,
        "source": row.source, "source_id": row.source_id, "added_by": row.added_by,
        "added_at": row.added_at.isoformat(),
    }
    if include_signals:
        shape["signals"] = {row.signal_type: row.value}
    return shape


@router.get("/c/bank/{bank_name}/content/{content_id}", summary="Read one bank content (entry)",
            response_model=HmaContent, response_model_exclude_unset=True,
            responses={**ERRORS, 404: {"model": HmaMessage, "description": "No such bank, or no such content in it"}})
@answers
async def bank_content_show(
    request: Request, bank_name: str, content_id: Id, principal: Reader,
    include_signals: Annotated[str, Query(description="true adds the entry's signal")] = "false",
) -> Any:
    """HMA's BankContentResponse for one entry, with tipline's provenance."""
    instance = request.app.state.instance

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            bank, row = _content_row(session, bank_name, content_id)
            return _content_shape(bank, row, include_signals.lower() == "true")

    return await run_in_threadpool(work)


@router.put("/c/bank/{bank_name}/content/{content_id}", summary="Disable or enable one bank content (entry)",
            response_model=HmaContent, response_model_exclude_unset=True,
            responses={**ERRORS, 404: {"model": HmaMessage, "description": "No such bank, or no such content in it"},
                       415: {"model": HmaMessage, "description": "Not application/json"}},
            openapi_extra=json_body(HmaContentUpdate, "HMA's BankContentUpdateRequest"))
@answers
async def bank_content_update(request: Request, bank_name: str, content_id: Id, principal: Curator) -> Any:
    """`{"disable_until_ts": 0}` disables the entry, `1` enables it again (audited); the change matches within
    a second. A timestamp (HMA's timed disabling) is refused: tipline's entries are on or off."""
    instance = request.app.state.instance

    def exists() -> None:
        with instance.db.transaction() as session:
            _content_row(session, bank_name, content_id)

    await run_in_threadpool(exists)
    body = await read_json(request)
    value = body.get("disable_until_ts") if isinstance(body, dict) else None
    if isinstance(value, str) and parse_whole_number(value.strip()) is not None:
        value = parse_whole_number(value.strip())
    if value not in (ENABLED, DISABLED) or isinstance(value, bool):
        raise Refused(400, "disable_until_ts must be 0 (disabled) or 1 (enabled); tipline does not serve timed "
                       f"disabling (got {value!r})")

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            bank, row = _content_row(session, bank_name, content_id)
            instance.banks.set_enabled(session, content_id, value == ENABLED, principal.actor)
            shape = _content_shape(bank, row, False)
        with instance.db.transaction() as session:
            instance.matching.matcher(session, fresh=True)  # this process stops (or starts) matching it at once
        return shape

    return await run_in_threadpool(work)
