"""The kinds of exchange tipline fetches from, each turned into pages of `RemoteEntry` with a checkpoint.

* `ncmec`: NCMEC's hash-sharing API through python-threatexchange's `NCMECSignalExchangeAPI` (its
  time-window probing, paging and mid-page resumption, and `NCMECHashAPI`'s retries, which wait out
  429 and 5xx answers as `Retry-After` says), and feedback (votes) through `NCMECHashAPI.submit_feedback`.
  The client only knows NCMEC's fixed environments; a `url` in the config (a test server, a proxy)
  replaces the environment's base URL, which is the one thing the client is given it for.
* `file`: a partner's hash list (a Project VIC VICS export, a CSV, a ThreatExchange signal file, one
  hash a line) at a path or an http(s) URL, read with tipline's own hash-list readers
  (tipline.matching.formats). Each fetch reads the whole list: it is a snapshot, so entries that are no
  longer in it are deleted when a pass over it completes.

A page names what it could not use (`Problem`: a signal type tipline cannot match, a hash of the wrong
length, a line that is not a record) and carries the rest.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from tipline.matching import SignalError, SignalType
from tipline.matching.formats import HashListFormat, HashRecord, SkippedLine, guess_format, iter_hash_list
from tipline.matching.signals import normalize_signal

log = logging.getLogger("tipline.exchanges")

MAX_LIST_BYTES = 4 << 30
"""A file exchange's list is read up to this size (a URL's body is refused beyond it)."""
FILE_PAGE = 20_000
"""Records of a file list applied (and checkpointed) per transaction."""


class ExchangeConfigError(ValueError):
    """An exchange's settings or credentials that cannot be used, and why."""


class ExchangeRefused(RuntimeError):
    """The exchange refuses for now (a rate limit the client does not wait out, a reaction not taken): the
    fetch stops there and the next one resumes from its checkpoint."""


@dataclass(frozen=True)
class RemoteEntry:
    """One entry of an exchange: its id there, its signals (or that it was deleted), its tags."""

    remote_id: str
    signals: tuple[tuple[SignalType, str], ...] = ()
    deleted: bool = False
    tags: tuple[str, ...] = ()
    classification: str | None = None
    series: str | None = None
    bank_kind: str | None = None
    """The kind of bank the list says the entry belongs in (VICS Category 0 is benign), if it says."""
    complete: bool = True
    """The entry's signals are all it has (an API's update), so a signal it no longer has is deleted. A
    file list's record is one signal of an entry (VICS: MD5 and SHA1 of one Media): not complete."""


@dataclass(frozen=True)
class Problem:
    """Input that could not be applied: `kind` is one of PROBLEM_KINDS."""

    kind: str
    remote_id: str | None
    detail: str


PROBLEM_KINDS = {
    "unsupported_signal_type": "a signal type tipline cannot match (e.g. PhotoDNA)",
    "bad_value": "a hash of the wrong length or not hexadecimal",
    "bad_record": "a line or record that is not a hash-list entry",
    "malformed_page": "a page the client could not read",
    "wrong_bank_kind": "an entry the list puts in another kind of bank than the exchange's (e.g. benign material)",
}


@dataclass
class Page:
    entries: list[RemoteEntry]
    problems: list[Problem]
    checkpoint: dict[str, Any] | None
    snapshot: int | None = None
    """File lists: the pass (generation) these entries belong to."""
    snapshot_done: bool = False
    """File lists: the pass is complete, so entries of earlier passes not seen in it are deleted."""


@dataclass(frozen=True)
class FeedbackTarget:
    remote_id: str
    signal_type: SignalType
    tags: tuple[str, ...] = field(default_factory=tuple)


class ExchangeApi(Protocol):
    name: str
    description: str
    needs_credentials: bool
    supports_feedback: bool

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]: ...

    def check_credentials(self, text: str) -> None: ...

    def pages(self, exchange_name: str, config: dict[str, Any], credentials: str | None,
              checkpoint: dict[str, Any] | None) -> Iterator[Page]: ...

    def send_feedback(self, config: dict[str, Any], credentials: str | None, target: FeedbackTarget,
                      confirmed: bool, reason: str | None) -> None: ...


def checkpoint_time(checkpoint: dict[str, Any] | None) -> int | None:
    """The time (unix seconds) an exchange's checkpoint has reached, whichever exchange's it is: NCMEC's
    `get_entries_max_ts`, StopNCII's `update_time`, for ThreatExchange the least of its privacy groups'
    `update_time`; None for none (or a file list's, which has no time)."""
    if not checkpoint:
        return None
    if "get_entries_max_ts" in checkpoint:
        return int(checkpoint["get_entries_max_ts"])
    if "update_time" in checkpoint:
        return int(checkpoint["update_time"])
    groups = checkpoint.get("groups")
    if isinstance(groups, dict) and groups:
        return min(int(g.get("update_time") or 0) for g in groups.values())
    return None


ACCESS_TOKEN = re.compile(r"(access_token=)[^&\s'\"]+")


def hide_access_tokens(text: str) -> str:
    """`text` with the value of every `access_token=` (a Graph API URL's query, as ThreatExchange's client
    puts its app token) masked: what the fetch keeps of any exchange's errors is scrubbed with it."""
    return ACCESS_TOKEN.sub(r"\1********", text)


def checked_signal(kind: SignalType, value: str, remote_id: str, problems: list[Problem]) -> tuple[SignalType, str] | None:
    try:
        return kind, normalize_signal(kind, value)
    except SignalError as error:
        problems.append(Problem("bad_value", remote_id, str(error)))
        return None


# --- NCMEC ---------------------------------------------------------------------------------------------

NCMEC_TYPES = {("image", "md5"): SignalType.MD5, ("image", "sha1"): SignalType.SHA1,
               ("image", "pdq"): SignalType.PDQ, ("video", "md5"): SignalType.VIDEO_MD5,
               ("video", "sha1"): SignalType.SHA1}
"""NCMEC's fingerprint names, by entry type, to tipline's signal types (the rest are named as unsupported)."""
NCMEC_FEEDBACK_TYPES = {SignalType.MD5: "md5", SignalType.VIDEO_MD5: "md5", SignalType.SHA1: "sha1",
                        SignalType.PDQ: "pdq"}


# python-threatexchange's NCMEC client fetches up to five seconds before the present and asserts that a fetch
# resumed mid-page ends its page before that: a fetch retried in the same second as the one it resumes (a
# failed page retried at once) would trip that assertion, so it waits the moment out instead.
NCMEC_LAG_SECONDS = 5


def _wait_past_paging_end(checkpoint: Any) -> None:
    paging = getattr(checkpoint, "paging_info", None)
    if paging is None:
        return
    wait = paging.paging_end_ts + 1 - (time.time() - NCMEC_LAG_SECONDS)
    if wait > 0:
        time.sleep(min(wait, 2 * NCMEC_LAG_SECONDS))


class NcmecApi:
    name = "ncmec"
    description = "NCMEC hash sharing (python-threatexchange's NCMEC client)"
    needs_credentials = True
    supports_feedback = True

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        from threatexchange.exchanges.clients.ncmec.hash_api import NCMECEnvironment

        known = {e.name for e in NCMECEnvironment}
        unknown = set(config) - {"environment", "url", "only_esp_ids"}
        if unknown:
            raise ExchangeConfigError(f"ncmec takes environment, url and only_esp_ids, not {', '.join(sorted(unknown))}")
        environment = config.get("environment") or "Industry"
        if environment not in known:
            raise ExchangeConfigError(f"environment must be one of {', '.join(sorted(known))}, got {environment!r}")
        url = config.get("url")
        if url is not None:
            check_url(url)
        try:
            ids = sorted({int(i) for i in config.get("only_esp_ids") or []})
        except (TypeError, ValueError):
            raise ExchangeConfigError("only_esp_ids are NCMEC member (ESP) numbers") from None
        return {"environment": environment, "url": url.rstrip("/") if url else None, "only_esp_ids": ids}

    def check_credentials(self, text: str) -> None:
        user, _, password = text.strip().partition(":")
        if not user or not password:
            raise ExchangeConfigError("NCMEC credentials are USER:PASSWORD")

    def _api(self, exchange_name: str, config: dict[str, Any], credentials: str | None) -> Any:
        from threatexchange.exchanges.clients.ncmec import hash_api
        from threatexchange.exchanges.impl.ncmec_api import NCMECCollabConfig, NCMECSignalExchangeAPI

        if not credentials:
            raise ExchangeConfigError("this exchange has no credentials (tipline exchanges set-credentials)")
        user, _, password = credentials.partition(":")
        url = config.get("url")

        class Client(NCMECSignalExchangeAPI):
            def get_client(self, environment: Any) -> Any:
                client = super().get_client(environment)
                if url:
                    client._base_url = url  # the one change: where the API is
                return client

        collab = NCMECCollabConfig(name=exchange_name, environment=hash_api.NCMECEnvironment[config["environment"]],
                                   only_esp_ids=set(config.get("only_esp_ids") or []))
        return Client(collab, user, password)

    def pages(self, exchange_name: str, config: dict[str, Any], credentials: str | None,
              checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        from threatexchange.exchanges.impl.ncmec_api import NCMECCheckpoint
        from threatexchange.utils import dataclass_json

        api = self._api(exchange_name, config, credentials)
        start = dataclass_json.dataclass_load_dict(checkpoint, NCMECCheckpoint) if checkpoint else None
        _wait_past_paging_end(start)
        only = set(config.get("only_esp_ids") or [])
        for delta in api.fetch_iter([], start):
            entries: list[RemoteEntry] = []
            problems: list[Problem] = []
            for key, update in delta.updates.items():
                if update is None:
                    continue
                if only and update.member_id not in only:
                    continue
                remote_id = str(key)
                if update.deleted:
                    entries.append(RemoteEntry(remote_id, deleted=True))
                    continue
                signals = []
                for name, value in update.fingerprints.items():
                    kind = NCMEC_TYPES.get((update.entry_type.value, name.lower()))
                    if kind is None:
                        problems.append(Problem("unsupported_signal_type", remote_id,
                                                f"{update.entry_type.value} fingerprint {name!r} is not a signal "
                                                "tipline matches"))
                        continue
                    found = checked_signal(kind, value, remote_id, problems)
                    if found is not None:
                        signals.append(found)
                tags = tuple(sorted({update.classification} if update.classification else set()))
                entries.append(RemoteEntry(remote_id, tuple(signals), tags=tags,
                                           classification=update.classification))
            yield Page(entries, problems, dataclass_json.dataclass_dump_dict(delta.checkpoint))

    def send_feedback(self, config: dict[str, Any], credentials: str | None, target: FeedbackTarget,
                      confirmed: bool, reason: str | None) -> None:
        from threatexchange.exchanges.clients.ncmec.hash_api import FeedbackType, FingerprintType

        member, _, entry_id = target.remote_id.partition("-")
        fingerprint = NCMEC_FEEDBACK_TYPES.get(target.signal_type)
        if not entry_id or fingerprint is None:
            raise ExchangeConfigError(f"NCMEC takes no feedback on {target.signal_type.value} entry {target.remote_id}")
        api = self._api("feedback", config, credentials)
        client = api.get_client(api.collab.environment)
        kind = FingerprintType(fingerprint.upper())
        guid = None
        if not confirmed:
            # NCMEC takes a downvote with one of its reasons (by GUID): the one the analyst's reason names,
            # or the only one there is; otherwise the client refuses, naming the choices
            reasons = client.feedback_reasons(kind)
            wanted = (reason or "").strip().lower()
            guid = next((g for g, name in reasons.items() if wanted in (g.lower(), name.lower())), None)
        client.submit_feedback(int(member), entry_id, kind,
                               FeedbackType.upvote if confirmed else FeedbackType.downvote, guid)


# --- file or URL lists ----------------------------------------------------------------------------------


class FileListApi:
    name = "file"
    description = "a hash list at a path or an http(s) URL (VICS JSON, CSV, ThreatExchange signals, one hash a line)"
    needs_credentials = False
    supports_feedback = False

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        unknown = set(config) - {"path", "url", "format", "signal_type", "source"}
        if unknown:
            raise ExchangeConfigError(f"file takes path or url, format, signal_type and source, not {', '.join(sorted(unknown))}")
        path, url = config.get("path"), config.get("url")
        if bool(path) == bool(url):
            raise ExchangeConfigError("a file exchange reads a path or a url (one of them)")
        if url:
            check_url(url)
        fmt = config.get("format") or "auto"
        if fmt != "auto":
            try:
                HashListFormat(fmt)
            except ValueError:
                raise ExchangeConfigError(f"format must be auto, {', '.join(f.value for f in HashListFormat)}") from None
        signal_type = config.get("signal_type")
        if signal_type:
            try:
                SignalType(signal_type)
            except ValueError:
                raise ExchangeConfigError(f"no signal type {signal_type!r}") from None
        return {"path": str(Path(path).expanduser().absolute()) if path else None, "url": url, "format": fmt,
                "signal_type": signal_type or None, "source": config.get("source") or None}

    def check_credentials(self, text: str) -> None:
        raise ExchangeConfigError("a file exchange takes no credentials")

    def pages(self, exchange_name: str, config: dict[str, Any], credentials: str | None,
              checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        with _local_copy(config) as path:
            digest = _sha256(path)
            checkpoint = checkpoint or {}
            generation = int(checkpoint.get("generation", 0))
            if checkpoint.get("sha256") == digest and checkpoint.get("done"):
                return  # the list has not changed since the last complete pass
            if checkpoint.get("sha256") == digest:
                skip = int(checkpoint.get("records", 0))  # resume this pass where it stopped
            else:
                generation, skip = generation + 1, 0
            with path.open("rb") as stream:
                head = stream.read(64 * 1024)
            fmt = guess_format(path.name, head) if config["format"] == "auto" else HashListFormat(config["format"])
            default_type = SignalType(config["signal_type"]) if config.get("signal_type") else None
            entries: dict[str, RemoteEntry] = {}
            problems: list[Problem] = []
            position = 0
            for item in iter_hash_list(path, fmt, signal_type=default_type):
                position += 1
                if position <= skip:
                    continue
                if isinstance(item, SkippedLine):
                    problems.append(Problem("bad_record", str(item).partition(":")[0], item.reason))
                else:
                    entry = _file_entry(item)
                    known = entries.get(entry.remote_id)
                    entries[entry.remote_id] = entry if known is None else replace(
                        known, signals=known.signals + entry.signals)
                if position - skip >= FILE_PAGE and (position - skip) % FILE_PAGE == 0:
                    yield Page(list(entries.values()), problems,
                               {"sha256": digest, "generation": generation, "records": position}, snapshot=generation)
                    entries, problems = {}, []
            yield Page(list(entries.values()), problems, {"sha256": digest, "generation": generation,
                                                          "records": position, "done": True},
                       snapshot=generation, snapshot_done=True)

    def send_feedback(self, config: dict[str, Any], credentials: str | None, target: FeedbackTarget,
                      confirmed: bool, reason: str | None) -> None:
        raise ExchangeConfigError("a file list takes no feedback")


def _file_entry(record: HashRecord) -> RemoteEntry:
    remote_id = f"{record.source_id}" if record.source_id else f"{record.signal_type.value}:{record.value}"
    return RemoteEntry(remote_id[:200], ((record.signal_type, record.value),),
                       tags=(record.classification.value,) if record.classification else (),
                       classification=record.classification.value if record.classification else None,
                       series=record.series, bank_kind=record.bank_kind.value if record.bank_kind else None,
                       complete=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _local_copy:  # noqa: N801 - used as a context manager, named as one
    """The list as a local file: the path itself, or a URL's body downloaded (within MAX_LIST_BYTES)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.temporary: Any = None

    def __enter__(self) -> Path:
        if self.config.get("path"):
            path = Path(self.config["path"])
            if not path.is_file():
                raise ExchangeConfigError(f"{path} is not a file")
            return path
        import requests

        self.temporary = tempfile.NamedTemporaryFile(prefix="tipline-exchange-", suffix=_suffix(self.config["url"]))
        with requests.get(self.config["url"], stream=True, timeout=60) as answer:
            answer.raise_for_status()
            size = 0
            for block in answer.iter_content(1 << 20):
                size += len(block)
                if size > MAX_LIST_BYTES:
                    raise ExchangeConfigError(f"the list at {self.config['url']} is over {MAX_LIST_BYTES:,} bytes")
                self.temporary.write(block)
        self.temporary.flush()
        return Path(self.temporary.name)

    def __exit__(self, *exc: object) -> None:
        if self.temporary is not None:
            self.temporary.close()


def _suffix(url: str) -> str:
    return Path(urllib.parse.urlsplit(url).path).suffix[:10]


def check_url(url: Any) -> None:
    parts = urllib.parse.urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ExchangeConfigError(f"a url is http:// or https://, got {url!r}")
    if parts.username or parts.password:
        raise ExchangeConfigError("put credentials in `tipline exchanges set-credentials`, not in the url")
