"""Fixtures for the HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websupport import Site, build_site

from tipline.instance import Instance


@pytest.fixture
def site(sqlite_instance: Instance) -> Iterator[Site]:
    yield build_site(sqlite_instance)


@pytest.fixture
def site_on_each_backend(instance: Instance) -> Iterator[Site]:
    yield build_site(instance)
