"""Fixtures the recommendation tests of several areas share (services, web, CLI): import them
by name into a test module (``fresh_pools`` is autouse there)."""

from __future__ import annotations

import dataclasses

import pytest

from paperwire.services import recommendations as service
from tests.recommend.store_kit import load_sample


@pytest.fixture(autouse=True)
def fresh_pools():
    """Candidate pools are cached per process: no test sees another's."""
    service.clear_pools()
    yield
    service.clear_pools()


@pytest.fixture
def sample(db):
    return load_sample(db)


@pytest.fixture
def rsettings(settings):
    """Settings small enough for the 280-record fixture."""
    return dataclasses.replace(settings, recommend_negatives=120, recommend_limit=10)
