"""Fixtures for the public report form tests (helpers are in formsupport.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from public_form.formsupport import FormClient
from support import build_instance
from websupport import Site, build_site

from tipline.instance import Instance


@pytest.fixture
def make_site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Site]]:
    """A site on SQLite with TIPLINE_* settings of the test's choosing."""
    built: list[Instance] = []
    numbers = itertools.count()

    def make(**env: str) -> Site:
        instance = build_instance(tmp_path / f"site{next(numbers)}", "sqlite", request, **env)
        built.append(instance)
        return build_site(instance)

    yield make
    for instance in built:
        instance.close()


@pytest.fixture
def visitor(site: Site) -> FormClient:
    return FormClient(site)
