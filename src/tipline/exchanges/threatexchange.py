"""Meta's ThreatExchange through python-threatexchange's client (`FBThreatExchangeSignalExchangeAPI` and its
Graph API client `ThreatExchangeAPI`): the `threat_updates` of each configured privacy group, paged by the
Graph API's `paging.next` from the checkpoint's `start_time`, and feedback as reactions on the entry's
descriptors.

Each update is one ThreatIndicator seen through the privacy group: its remote id is
`<privacy group>/<indicator id>` (an indicator shared in two groups is two entries, so that its deletion
from one does not delete it from the other). `HASH_PDQ` is a PDQ, `HASH_VIDEO_MD5` a video's MD5,
`HASH_MD5` an MD5 (a video's when a descriptor tags it `media_type_video`, as the package's
`VideoMD5Signal` reads it); other types are named as unsupported. An update with `should_delete`, or
whose descriptors the package cannot read an opinion from (its `from_threatexchange_json` gives None),
deletes the entry, as the package's `fetch_iter` does. The descriptors' tags are the entry's tags.

The pages are read from the client here rather than through the package's `fetch_iter`, which reads a
whole page in one go (an update without its `type`, `indicator` or `last_updated` fails the page): here
such an update is named (`bad_record`) and the rest of the page applied. The checkpoint is the package's
`FBThreatExchangeCheckpoint` per privacy group (the latest `last_updated` applied, which the next fetch
asks for as `start_time`; updates at that second are read again, which changes nothing).

The client is the package's with one change (`_Client.get_json_from_url`): its GETs go through the
session that the package builds with urllib3 `Retry` (429 and 5xx, `Retry-After` honoured), as its own
comment intends, instead of a bare `requests.get` that never retries; and a Graph API rate-limit error
(codes 4, 17, 32, 613, answered as HTTP 400 or 403) stops the fetch as a refusal, resumed by the next.
The base URL is the client's `endpoint_override` (`url` in the settings: a test server, a proxy).

The app token is sent by the client in the URL's query (`access_token=`, also in the `next` URLs the
Graph API answers): urllib3 logs those URLs at DEBUG, so its loggers get a filter that masks the token
(`hide_access_tokens`), and the fetch scrubs it from every message it keeps.

Feedback: a confirmation reacts `HELPFUL` and a rejection `DISAGREE_WITH_TAGS` (the reaction the package
reads back as another member's negative opinion) on each descriptor of the indicator that is not this
app's own, listed with the client's `get_threat_descriptors_from_indicator`; reactions carry no text, so
an analyst's reason stays here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from tipline.exchanges.apis import (
    ExchangeConfigError,
    ExchangeRefused,
    FeedbackTarget,
    Page,
    Problem,
    RemoteEntry,
    check_url,
    checked_signal,
    hide_access_tokens,
)
from tipline.matching import SignalType

TE_TYPES = {"HASH_PDQ": SignalType.PDQ, "HASH_MD5": SignalType.MD5, "HASH_VIDEO_MD5": SignalType.VIDEO_MD5}
"""ThreatExchange's indicator types that tipline matches (the rest are named as unsupported)."""
VIDEO_TAG = "media_type_video"
"""The tag that makes a `HASH_MD5` a video's MD5 (python-threatexchange's `VideoMD5Signal.INDICATOR_TYPE`)."""
PAGE_SIZE = 100
"""Updates asked for per page (the package's `fetch_iter` asks for 100)."""
RATE_LIMIT_CODES = {4, 17, 32, 613}
"""Graph API error codes that mean "too many calls": the application's, the user's, the page's, a custom limit."""
CONFIRM_REACTION, REJECT_REACTION = "HELPFUL", "DISAGREE_WITH_TAGS"


class _HideAccessTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = hide_access_tokens(message), None
        return True


_TOKEN_FILTER = _HideAccessTokens()


def _hide_tokens_in_http_logs() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        logger = logging.getLogger(name)
        if _TOKEN_FILTER not in logger.filters:
            logger.addFilter(_TOKEN_FILTER)


def _client_class() -> Any:
    import requests
    from threatexchange.exchanges.clients.fb_threatexchange.api import ThreatExchangeAPI

    class _Client(ThreatExchangeAPI):
        def get_json_from_url(self, url: str, params: Any = None, *, json_obj_hook: Any = None) -> Any:
            with self._get_session() as session:  # type: ignore[no-untyped-call]  # the package's, untyped
                response = session.get(url, params=params or {})
            _raise_for(response, requests)
            return response.json(object_hook=json_obj_hook)

    return _Client


def _raise_for(response: Any, requests: Any) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = error.get("code") if isinstance(error, dict) else None
    if code in RATE_LIMIT_CODES:
        raise ExchangeRefused(f"rate limited (Graph API error {code}: {str(error.get('message'))[:200]})")
    response.raise_for_status()


class ThreatExchangeApi:
    name = "threatexchange"
    description = "Meta ThreatExchange (python-threatexchange's ThreatExchange client)"
    needs_credentials = True
    supports_feedback = True

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        unknown = set(config) - {"privacy_groups", "url"}
        if unknown:
            raise ExchangeConfigError(f"threatexchange takes privacy_groups and url, not {', '.join(sorted(unknown))}")
        try:
            groups = [int(g) for g in config.get("privacy_groups") or []]
        except (TypeError, ValueError):
            raise ExchangeConfigError("privacy groups are ThreatExchange's numeric ThreatPrivacyGroup ids") from None
        if not groups or any(g <= 0 for g in groups):
            raise ExchangeConfigError("threatexchange needs the id of at least one privacy group (--privacy-group)")
        url = config.get("url")
        if url is not None:
            check_url(url)
        return {"privacy_groups": list(dict.fromkeys(groups)), "url": url.rstrip("/") if url else None}

    def check_credentials(self, text: str) -> None:
        from threatexchange.exchanges.clients.fb_threatexchange.api import is_valid_app_token

        if not is_valid_app_token(text.strip()):
            raise ExchangeConfigError("ThreatExchange credentials are an app access token, APP_ID|SECRET")

    def _exchange(self, config: dict[str, Any], credentials: str | None, group: int) -> Any:
        from threatexchange.exchanges.impl.fb_threatexchange_api import (
            FBThreatExchangeCollabConfig,
            FBThreatExchangeSignalExchangeAPI,
        )

        if not credentials:
            raise ExchangeConfigError("this exchange has no credentials (tipline exchanges set-credentials)")
        _hide_tokens_in_http_logs()
        client = _client_class()(credentials.strip(), endpoint_override=config.get("url"))
        return FBThreatExchangeSignalExchangeAPI(client, FBThreatExchangeCollabConfig(
            name=f"privacy group {group}", privacy_group=group))

    def pages(self, exchange_name: str, config: dict[str, Any], credentials: str | None,
              checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        from threatexchange.exchanges.clients.fb_threatexchange.threat_updates import ThreatUpdateJSON
        from threatexchange.exchanges.impl.fb_threatexchange_api import FBThreatExchangeCheckpoint
        from threatexchange.utils import dataclass_json

        reached = dict((checkpoint or {}).get("groups") or {})
        for group in config["privacy_groups"]:
            exchange = self._exchange(config, credentials, group)
            start = (dataclass_json.dataclass_load_dict(reached[str(group)], FBThreatExchangeCheckpoint)
                     if str(group) in reached else None)
            highest = start.update_time if start else 0
            cursor = exchange.client.get_threat_updates(
                group, start_time=highest or None, page_size=PAGE_SIZE,
                fields=ThreatUpdateJSON.te_threat_updates_fields(), decode_fn=ThreatUpdateJSON)
            for batch in cursor:
                entries: list[RemoteEntry] = []
                problems: list[Problem] = []
                for update in batch:
                    entry, when = _entry(update, group, exchange.client.app_id, problems)
                    highest = max(highest, when)
                    if entry is not None:
                        entries.append(entry)
                reached[str(group)] = dataclass_json.dataclass_dump_dict(FBThreatExchangeCheckpoint(highest))
                yield Page(entries, problems, {"groups": dict(reached)})

    def send_feedback(self, config: dict[str, Any], credentials: str | None, target: FeedbackTarget,
                      confirmed: bool, reason: str | None) -> None:
        group, _, indicator = target.remote_id.partition("/")
        if not group.isdigit() or not indicator.isdigit():
            raise ExchangeConfigError(f"{target.remote_id} is not a ThreatExchange entry (PRIVACY_GROUP/INDICATOR_ID)")
        client = self._exchange(config, credentials, int(group)).client
        descriptors = client.get_threat_descriptors_from_indicator(int(indicator))
        others = [str(d["id"]) for d in descriptors
                  if str((d.get("owner") or {}).get("id", "")) != str(client.app_id)]
        if not others:
            raise ExchangeConfigError(f"ThreatExchange shows no other member's descriptor of indicator {indicator} "
                                      "to react to")
        for descriptor_id in others:
            if confirmed:
                _, _, answer = client.react_upvote_threat_descriptor(descriptor_id)
            else:
                _, _, answer = client.react_to_threat_descriptor(descriptor_id, REJECT_REACTION)
            if not (isinstance(answer, dict) and answer.get("success") is True):
                error = answer.get("error") if isinstance(answer, dict) else None
                message = error.get("message") if isinstance(error, dict) else str(answer)[:200]
                raise ExchangeRefused(f"ThreatExchange did not take the reaction on descriptor {descriptor_id}: "
                                      f"{message}")


def _entry(update: Any, group: int, app_id: int, problems: list[Problem]) -> tuple[RemoteEntry | None, int]:
    """One update as an entry (and its time), or None with the problem named."""
    from threatexchange.exchanges.impl.fb_threatexchange_api import FBThreatExchangeIndicatorRecord

    raw = update.raw_json
    try:
        remote_id = f"{group}/{int(raw['id'])}"
    except (KeyError, TypeError, ValueError):
        shown = raw.get("indicator") if isinstance(raw, dict) else None
        problems.append(Problem("bad_record", None,
                                f"an update without a ThreatIndicator id ({str(shown or raw)[:120]})"))
        return None, 0
    try:
        kind, value, when = update.threat_type, update.indicator, update.time
        if not isinstance(kind, str) or not isinstance(value, str):
            raise TypeError("type and indicator are not strings")
        record = None if update.should_delete else FBThreatExchangeIndicatorRecord.from_threatexchange_json(app_id,
                                                                                                           update)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        problems.append(Problem("bad_record", remote_id, f"a malformed update ({type(error).__name__}: {error})"[:300]))
        return None, 0
    if record is None:
        return RemoteEntry(remote_id, deleted=True), when
    tags = tuple(sorted({str(tag) for opinion in record.opinions for tag in opinion.tags}))
    signal_type = TE_TYPES.get(kind)
    if signal_type is SignalType.MD5 and VIDEO_TAG in tags:
        signal_type = SignalType.VIDEO_MD5
    if signal_type is None:
        problems.append(Problem("unsupported_signal_type", remote_id,
                                f"ThreatExchange {kind} is not a signal tipline matches"))
        return None, when
    found = checked_signal(signal_type, value, remote_id, problems)
    if found is None:
        return None, when
    return RemoteEntry(remote_id, (found,), tags=tags), when
