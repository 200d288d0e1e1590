"""The OpenAPI document is the contract: schemathesis generates requests for every operation
in ``/openapi.json`` (valid and invalid ones) and checks every answer against the document —
no 5xx, status codes, content types, headers and bodies as declared — anonymously and with a
Bearer token, on SQLite and PostgreSQL.

Bounded and reproducible: a fixed derandomized seed, ``EXAMPLES`` cases per operation, each
sent twice (without and with a token). The long run against a real server is bench/fuzz.py.
The app is the real one: real search (the test model export shared with the search tests),
arXiv replaced by the local replay server (submissions of unknown ids are refused, as a
missing arXiv record is).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from tests.factories import make_feed_papers
from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401
from tests.support.arxiv_replay import arxiv_replay_server
from tests.support.contract import token_exclusions
from tests.web.accountkit import bearer, fast_hashing, make_user, token_for  # noqa: F401

EXAMPLES = 25

# Schemathesis' checks as they come, with one documented exception: a request the schema
# allows may still be refused with 400 by a rule the schema cannot express (an arXiv id's
# syntax, a week running past 9999-12-31, the input policy's character rules); 400 is
# declared on every operation with its ErrorOut body, which response_schema_conformance checks.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
"""


@pytest.fixture
def contract(settings, db, model_data_dir):  # noqa: F811
    """The app with a few papers (one with links), comments and a hidden paper, and a token
    for ``alice``."""
    from paperwire.store import comments
    from paperwire.web.app import create_app

    with arxiv_replay_server() as replay:
        data_dir = settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "models").symlink_to(model_data_dir / "models", target_is_directory=True)
        app_settings = dataclasses.replace(
            settings,
            page_cache_seconds=0.0,
            rate_limit_per_minute=1_000_000,
            submit_max_age_days=100000,
            **replay.settings_overrides(),
        )
        papers = make_feed_papers(db, 4, day=dt.date(2026, 11, 20))
        # Links to code and resources (githubRepo, projectPage, links[] in every paper shape).
        make_feed_papers(
            db,
            1,
            day=dt.date(2026, 11, 20),
            abstract="Code: https://github.com/o/r. Project page: "
            "https://o.github.io/r and https://huggingface.co/o/m",
        )
        make_feed_papers(db, 1, day=dt.date(2026, 11, 20), hidden=True)
        alice = make_user(db, "alice")
        with db.session() as s:
            top = comments.add_comment(s, papers[0].id, alice.id, "top", "<p>top</p>")
            comments.add_comment(s, papers[0].id, alice.id, "re", "<p>re</p>", parent_id=top.id)
        app = create_app(app_settings, db)
        yield app, bearer(token_for(db, alice))
        try:
            from paperwire.search.service import close_all

            close_all()
        except ImportError:
            pass


def _operations() -> list[str]:
    """``METHOD /path`` of every operation in the document (read from an app on a throwaway
    settings object: the document needs no database), so each is its own test."""
    import tempfile
    from pathlib import Path

    from paperwire.config import load_settings
    from paperwire.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            env={},
            data_dir=Path(tmp),
            load_demo_data=False,
            database_url=f"sqlite:///{tmp}/unused.db",
            secret_key="x",
        )
        doc = create_app(settings).openapi()
    return [f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops]


@pytest.mark.parametrize("operation", _operations())
def test_operation_keeps_the_documented_contract(contract, operation):
    """Valid and invalid requests of ``operation``, sent without and with a token: every
    answer matches the document (schemathesis' default checks; 5xx is always a failure)."""
    app, token_headers = contract
    method, path = operation.split(" ", 1)
    config = SchemathesisConfig.from_str(CONFIG)
    api_operation = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)[path][
        method
    ]
    cases = api_operation.as_strategy(
        generation_mode=GenerationMode.POSITIVE
    ) | api_operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)

    @given(case=cases)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate()
        case.call_and_validate(
            headers=token_headers, excluded_checks=token_exclusions(case, with_token=True)
        )

    check()
