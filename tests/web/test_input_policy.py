"""Property tests of the HTTP input policy (``paperwire.web.inputs``): its pure rules against
a simple reference, and the running app (SQLite and PostgreSQL) against arbitrary bytes in
every part of a request — never a 500, and a refusal is a 4xx naming what was wrong.

Seeded (derandomized) and bounded so the module runs in well under a minute."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperwire.errors import BadInput
from paperwire.web import inputs
from tests.factories import make_feed_papers
from tests.web.accountkit import (  # noqa: F401
    bearer,
    csrf,
    fast_hashing,
    make_user,
    signin,
    token_for,
    wapp,
    web,
)

PURE = settings(max_examples=300, derandomize=True, database=None)
HTTP = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _reference_bad(ch: str, *, strict: bool) -> bool:
    """Unicode's own definition: control characters (Cc) and surrogates (Cs); free text may
    keep TAB, LF and CR."""
    if not strict and ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cs")


# --- the pure rules ------------------------------------------------------------------------


@PURE
@given(st.text(alphabet=st.characters(codec=None)), st.booleans())
def test_text_is_refused_exactly_when_it_holds_a_control_or_a_surrogate(value, strict):
    expected = any(_reference_bad(ch, strict=strict) for ch in value)
    assert (inputs.text_problem(value, strict=strict) is not None) == expected


@PURE
@given(st.one_of(st.text(), st.text(alphabet="/\\:.?#@ abcx%\t\n").map(lambda s: "/" + s)))
def test_a_redirect_target_is_a_local_path_or_the_default(value):
    target = inputs.local_path(value, "/fallback")
    if target == "/fallback":
        return
    parts = urlsplit(target)
    assert target.startswith("/") and not target.startswith("//")
    assert "\\" not in target and not parts.scheme and not parts.netloc
    assert inputs.text_problem(target, strict=True) is None


@PURE
@given(st.one_of(st.text(), st.integers(-(2**70), 2**70).map(str)))
def test_a_form_id_is_blank_in_range_or_refused(value):
    try:
        parsed = inputs.parse_id(value, "parent_id")
    except BadInput as exc:
        assert "parent_id" in str(exc)
        return
    assert parsed is None and not value.strip() or 1 <= parsed <= inputs.MAX_ID


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@PURE
@given(_json_values)
def test_json_passes_iff_every_string_is_clean_and_every_integer_fits(value):
    def ok(v) -> bool:
        if isinstance(v, str):
            return not any(_reference_bad(ch, strict=False) for ch in v)
        if isinstance(v, bool) or v is None or isinstance(v, float):
            return True
        if isinstance(v, int):
            return -(2**63) <= v < 2**63
        if isinstance(v, list):
            return all(ok(c) for c in v)
        return all(ok(k) and ok(c) for k, c in v.items())

    try:
        inputs.check_json(value)
        assert ok(value)
    except inputs.InputRefused:
        assert not ok(value)


# --- the running app -----------------------------------------------------------------------


@pytest.fixture
def target(web, db):
    """A paper on the feed and a signed-in browser plus a token, for the write routes."""
    (paper,) = make_feed_papers(db, 1, day=dt.date(2026, 11, 20))
    user = make_user(db, "alice")
    signin(web, "alice")
    return paper.id, bearer(token_for(db, user))


def _no_500(response) -> None:
    assert response.status_code < 500, response.text[:300]
    if response.status_code == 400 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        assert set(response.json()) == {"error", "detail"}


_bytes = st.binary(max_size=40)


def test_any_bytes_in_a_path_segment_never_give_a_500(web, target):
    paper_id, token = target

    @HTTP
    @given(
        _bytes,
        st.sampled_from(
            [
                "/users/{}",
                "/api/papers/{}/comments",
                "/papers/{}",
                "/api/papers/{}",
                "/papers/week/{}",
                "/api/papers/{}/similar",
            ]
        ),
    )
    def check(raw, template):
        _no_500(web.get(template.format(quote_from_bytes(raw, safe=""))))

    check()


def test_any_bytes_in_a_query_value_never_give_a_500(web, target):
    @HTTP
    @given(
        _bytes,
        st.sampled_from(
            [
                "/api/daily_papers?date=",
                "/api/daily_papers?week=",
                "/api/daily_papers?month=",
                "/papers?sort=",
                "/search?mode=lexical&q=",
                "/search?q=x&to=",
                "/api/papers/search?mode=lexical&q=",
                "/trending?window=",
                "/signin?next=",
            ]
        ),
    )
    def check(raw, prefix):
        _no_500(web.get(prefix + quote_from_bytes(raw, safe="")))

    check()


def test_any_bytes_in_a_form_field_never_give_a_500(web, target):
    paper_id, _ = target
    token = csrf(web, "/")

    @HTTP
    @given(
        _bytes,
        st.sampled_from(
            [
                ("/papers/{}/comments", "body"),
                ("/papers/{}/comments", "parent_id"),
                ("/profile/tokens", "name"),
                ("/papers/{}/upvote", "vote"),
            ]
        ),
    )
    def check(raw, route):
        url, field = route
        body = f"{field}={quote_from_bytes(raw, safe='')}&body=x&csrf_token={token}"
        response = web.post(
            url.format(paper_id),
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        _no_500(response)

    check()


def test_any_json_body_never_gives_a_500(web, target):
    paper_id, token = target

    @HTTP
    @given(
        st.one_of(
            _json_values,
            st.fixed_dictionaries(
                {"body": st.text(min_size=1)}, optional={"parentId": st.integers(-(2**70), 2**70)}
            ),
        )
    )
    def check(document):
        try:
            raw = json.dumps(document)
        except ValueError:
            return
        response = web.post(
            f"/api/papers/{paper_id}/comments",
            content=raw,
            headers={**token, "content-type": "application/json"},
        )
        _no_500(response)

    check()


def test_any_header_value_never_gives_a_500(web, target):
    paper_id, token = target
    latin1 = st.text(
        alphabet=st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=40
    )

    @HTTP
    @given(
        latin1,
        st.sampled_from(
            ["authorization", "referer", "accept", "cookie", "x-csrf-token", "x-fragment"]
        ),
    )
    def check(value, name):
        try:
            response = web.post(f"/api/papers/{paper_id}/upvote", headers={name: value})
        except Exception as exc:  # noqa: BLE001 - the client itself refused the header
            if "header" in str(exc).lower():
                return
            raise
        _no_500(response)

    check()


def test_a_refusal_names_the_part_and_the_character(web, target):
    paper_id, token = target
    response = web.get("/api/daily_papers?week=2026%01W01")
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "query parameter 'week' contains a control character (U+0001)"
    )
    response = web.get("/papers/a%C2%85b", headers={"accept": "text/html"})
    assert response.status_code == 400 and "U+0085" in response.text
    assert "content-security-policy" in response.headers


def test_an_oversized_body_is_413(web, target):
    paper_id, token = target
    response = web.post(
        f"/api/papers/{paper_id}/comments",
        headers=token,
        json={"body": "x" * (inputs.MAX_BODY_BYTES + 1)},
    )
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_clean_text_with_newlines_and_any_script_is_accepted(web, target):
    paper_id, token = target
    body = "Line one\n\tLine two — ∑ café 数学 🙂\r\nend"
    response = web.post(f"/api/papers/{paper_id}/comments", headers=token, json={"body": body})
    assert response.status_code == 201, response.text
    assert response.json()["body"] == body.replace("\r\n", "\n")
