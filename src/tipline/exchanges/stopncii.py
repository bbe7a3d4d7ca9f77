"""StopNCII.org's hash exchange through python-threatexchange's client (`StopNCIIAPI`, built by
`StopNCIISignalExchangeAPI.for_collab` from its `StopNCIICredentials`): `FetchHashes` pages from a
timestamp, followed by `nextPageToken` while `hasMoreRecords`, and feedback (`SubmitFeedback`: Blocked
when an analyst confirms, NotBlocked when one rejects).

Each record is one hash (an image's PDQ or a video's MD5), its remote id `SignalType:hash`. A record
whose case status is Withdrawn or Deleted deletes the entry (the package's own `fetch_iter` compares the
hash, not the status, with those, so it never deletes: the pages are read from the client here). The
checkpoint is the package's `StopNCIICheckpoint`: the `nextSetTimestamp` after the last page applied.

Credentials are `FETCH_KEY,SUBSCRIPTION_KEY` or `FETCH_KEY,SUBSCRIPTION_KEY,FEEDBACK_KEY` (the function
key of SubmitFeedback, without which no feedback is sent); a `url` in the settings replaces the API's
base URL (a test server, a proxy), which the client takes as `base_url_override`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tipline.exchanges.apis import (
    ExchangeConfigError,
    FeedbackTarget,
    Page,
    Problem,
    RemoteEntry,
    check_url,
    checked_signal,
)
from tipline.matching import SignalType

STOPNCII_TYPES = {"ImagePDQ": SignalType.PDQ, "VideoMD5": SignalType.VIDEO_MD5}
"""StopNCII's signal types that tipline matches (TMK, text and URLs are named as unsupported)."""
GONE = {"Withdrawn", "Deleted"}
PAGE_SIZE = 800


class StopNciiApi:
    name = "stopncii"
    description = "StopNCII.org hash exchange (python-threatexchange's StopNCII client)"
    needs_credentials = True
    supports_feedback = True

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        unknown = set(config) - {"url"}
        if unknown:
            raise ExchangeConfigError(f"stopncii takes url only, not {', '.join(sorted(unknown))}")
        url = config.get("url")
        if url is not None:
            check_url(url)
        return {"url": url.rstrip("/") if url else None}

    def check_credentials(self, text: str) -> None:
        parts = [p.strip() for p in text.strip().split(",")]
        if len(parts) not in (2, 3) or not all(parts):
            raise ExchangeConfigError("StopNCII credentials are FETCH_KEY,SUBSCRIPTION_KEY[,FEEDBACK_KEY]")

    def _client(self, config: dict[str, Any], credentials: str | None) -> Any:
        from threatexchange.exchanges.clients.stopncii.api import StopNCIIEndpoint
        from threatexchange.exchanges.collab_config import CollaborationConfigBase
        from threatexchange.exchanges.impl.stop_ncii_api import StopNCIICredentials, StopNCIISignalExchangeAPI

        if not credentials:
            raise ExchangeConfigError("this exchange has no credentials (tipline exchanges set-credentials)")
        fetch_key, subscription_key, *feedback_key = [p.strip() for p in credentials.split(",")]
        keys = StopNCIICredentials(fetch_function_key=fetch_key, subscription_key=subscription_key,
                                   base_url_override=config.get("url"))
        exchange = StopNCIISignalExchangeAPI.for_collab(
            CollaborationConfigBase(name="StopNCII", api=StopNCIISignalExchangeAPI.get_name(), enabled=True), keys)
        client = exchange.api
        if feedback_key:
            client._function_keys[StopNCIIEndpoint.SubmitFeedback] = feedback_key[0]  # the client's own key map
        return client

    def pages(self, exchange_name: str, config: dict[str, Any], credentials: str | None,
              checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI
        from threatexchange.exchanges.impl.stop_ncii_api import StopNCIICheckpoint
        from threatexchange.utils import dataclass_json

        client = self._client(config, credentials)
        start = (dataclass_json.dataclass_load_dict(checkpoint, StopNCIICheckpoint).update_time if checkpoint
                 else StopNCIIAPI.DEFAULT_START_TIME)
        next_page, more = "", True
        while more:
            answer = client.fetch_hashes(page_size=PAGE_SIZE, start_timestamp=start, next_page=next_page)
            entries: list[RemoteEntry] = []
            problems: list[Problem] = []
            for record in answer.hashRecords:
                kind = record.signalType.value
                remote_id = f"{kind}:{record.hashValue}"[:200]
                if record.hashStatus.value in GONE:
                    entries.append(RemoteEntry(remote_id, deleted=True))
                    continue
                signal_type = STOPNCII_TYPES.get(kind)
                if signal_type is None:
                    problems.append(Problem("unsupported_signal_type", remote_id,
                                            f"StopNCII {kind} is not a signal tipline matches"))
                    continue
                found = checked_signal(signal_type, record.hashValue, remote_id, problems)
                if found is None:
                    continue
                tags = tuple(sorted({tag for feedback in record.CSPFeedbacks for tag in feedback.tags}))
                entries.append(RemoteEntry(remote_id, (found,), tags=tags))
            more, next_page = answer.hasMoreRecords, answer.nextPageToken or ""
            yield Page(entries, problems, dataclass_json.dataclass_dump_dict(
                StopNCIICheckpoint.from_stopncii_fetch(answer)))

    def send_feedback(self, config: dict[str, Any], credentials: str | None, target: FeedbackTarget,
                      confirmed: bool, reason: str | None) -> None:
        from threatexchange.exchanges.clients.stopncii.api import (
            StopNCIICSPFeedbackValue,
            StopNCIIEndpoint,
            StopNCIISignalType,
        )

        kind, _, value = target.remote_id.partition(":")
        client = self._client(config, credentials)
        if StopNCIIEndpoint.SubmitFeedback not in client._function_keys:
            raise ExchangeConfigError("no feedback key: set the credentials as FETCH_KEY,SUBSCRIPTION_KEY,FEEDBACK_KEY")
        tags = {reason.strip()[:100]} if reason and reason.strip() else set()
        client.submit_feedback(StopNCIISignalType(kind), value,
                               StopNCIICSPFeedbackValue.Blocked if confirmed else StopNCIICSPFeedbackValue.NotBlocked,
                               tags)
