"""Digest tests match topics with the site's search service (hybrid: keyword and meaning), so
they share the session's encoder (one model export per session, not one per data dir) and
close the services they opened after each test."""

from __future__ import annotations

import pytest

from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _search_services(encoder):  # noqa: F811
    yield
    from paperwire.search.service import close_all

    close_all()
