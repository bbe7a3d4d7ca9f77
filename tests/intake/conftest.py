"""Fixtures for the Reporting API tests: a real uvicorn server on localhost and an ESP client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from support import build_instance
from websupport import LiveServer, Site, build_site

from tipline.instance import Instance

sys.path.insert(0, str(Path(__file__).parent))  # intake_documents, intake_xsdwalk


@dataclass
class Api:
    """A service provider's view of a live server: base URL, credentials, a requests session."""

    site: Site
    server: LiveServer

    @property
    def base(self) -> str:
        return f"{self.server.url}/ispws"

    def session(self, name: str = "chirp") -> requests.Session:
        session = requests.Session()
        session.auth = (name, self.site.esp_secret[name])
        return session

    @property
    def instance(self) -> Instance:
        return self.site.instance


def _serve(instance: Instance) -> Iterator[Api]:
    site = build_site(instance)
    with LiveServer(site.app) as server:
        yield Api(site, server)


@pytest.fixture
def api(instance: Instance) -> Iterator[Api]:
    """The API over real HTTP, on SQLite and on PostgreSQL."""
    yield from _serve(instance)


@pytest.fixture
def sqlite_api(sqlite_instance: Instance) -> Iterator[Api]:
    """The API over real HTTP on SQLite only (for tests that are not about storage)."""
    yield from _serve(sqlite_instance)


@pytest.fixture
def small_upload_api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Api]:
    """An instance that accepts files of at most 4 KiB."""
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_MAX_UPLOAD_BYTES="4096")
    try:
        yield from _serve(instance)
    finally:
        instance.close()


@pytest.fixture
def small_body_api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Api]:
    """An instance that accepts request bodies of at most 4 KiB."""
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_MAX_BODY_BYTES="4096")
    try:
        yield from _serve(instance)
    finally:
        instance.close()
