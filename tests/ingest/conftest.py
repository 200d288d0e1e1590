"""Fixtures for ingestion tests: the arXiv replay server and settings that point at it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.arxiv_replay import arxiv_replay_server


@pytest.fixture
def arxiv_replay():
    with arxiv_replay_server() as server:
        yield server


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def arxiv_settings(settings, arxiv_replay):
    """Settings whose arXiv URLs are the replay server's (polite delay off, 3 retries)."""
    return dataclasses.replace(settings, arxiv_max_retries=3, **arxiv_replay.settings_overrides())
