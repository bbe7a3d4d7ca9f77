"""Fixtures for the victim-identification tests: the referral tests' directory of agencies and users."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "referral"))  # referralsupport
sys.path.insert(0, str(Path(__file__).parent))  # vidsupport

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from tipline.instance import Instance  # noqa: E402


@pytest.fixture
def portal(instance: Instance, tmp_path: Path) -> Iterator[object]:
    """A web site on each backend with agencies; `agency` belongs to us-il-tf, `agency2` to gb-ncsu."""
    from referralsupport import Portal

    yield Portal.build(instance, tmp_path)


@pytest.fixture
def sqlite_portal(sqlite_instance: Instance, tmp_path: Path) -> Iterator[object]:
    from referralsupport import Portal

    yield Portal.build(sqlite_instance, tmp_path)
