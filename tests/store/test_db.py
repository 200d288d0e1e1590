"""store/db.py: JSON columns read through orjson, with the standard library for what orjson
refuses, so no stored value that ``json`` accepts breaks a page."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from paperwire.store.db import json_loads
from paperwire.store.models import Paper
from tests.factories import make_papers

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_json_loads_equals_the_standard_library(value):
    raw = json.dumps(value)
    assert json_loads(raw) == json.loads(raw)
    assert json_loads(raw.encode()) == json.loads(raw)


@pytest.mark.parametrize("raw", ["[NaN]", '{"x": Infinity}', "[-Infinity]"])
def test_json_loads_reads_what_only_the_standard_library_accepts(raw):
    got, want = json_loads(raw), json.loads(raw)
    [g], [w] = (list(v.values()) if isinstance(v, dict) else v for v in (got, want))
    assert g == w or (math.isnan(g) and math.isnan(w))


def test_json_loads_still_fails_on_what_is_not_json():
    with pytest.raises(ValueError):
        json_loads("[1,")


def test_a_json_column_written_by_another_tool_reads(db):
    [paper] = make_papers(db, 1)
    with db.session() as s:
        s.execute(
            text("UPDATE papers SET categories = :v WHERE id = :id"),
            {"v": '["cs.CL", 1e400, "math.\\u00c9T"]', "id": paper.id},
        )
    with db.session() as s:
        got = s.scalar(select(Paper.categories).where(Paper.id == paper.id))
    assert got == json.loads('["cs.CL", 1e400, "math.\\u00c9T"]')
