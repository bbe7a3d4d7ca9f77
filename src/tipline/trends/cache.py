"""The detector's per-process cache of baselines and recorded alerts, kept by the running instance:
baselines read only earlier days, so they hold for the day; a rebuild of the counts clears them."""

from __future__ import annotations

import weakref
from typing import Any

_CACHES: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()


def cache_of(owner: object) -> dict[Any, Any]:
    """The cache kept for `owner` (the instance the detector runs in), emptied when it grows past 100,000."""
    cache = _CACHES.setdefault(owner, {})
    if len(cache) > 100_000:
        cache.clear()
    return cache
