"""The exchange types tipline knows, by name: NCMEC hash sharing and file or URL lists (`apis`), StopNCII
(`stopncii`) and Meta ThreatExchange (`threatexchange`). Apart from `apis` so that an exchange's module can
build on the shapes there without a circle."""

from __future__ import annotations

from tipline.exchanges.apis import ExchangeApi, ExchangeConfigError, FileListApi, NcmecApi
from tipline.exchanges.stopncii import StopNciiApi
from tipline.exchanges.threatexchange import ThreatExchangeApi

APIS: dict[str, ExchangeApi] = {api.name: api for api in (NcmecApi(), FileListApi(), StopNciiApi(),
                                                           ThreatExchangeApi())}


def api_named(name: str) -> ExchangeApi:
    try:
        return APIS[name]
    except KeyError:
        raise ExchangeConfigError(f"no exchange type {name!r} (one of {', '.join(sorted(APIS))})") from None
