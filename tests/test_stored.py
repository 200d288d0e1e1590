"""Read-side guards (paperwire/stored.py): ``text`` keeps every character XML allows and
drops the others, whatever the string (the ASCII fast path and the regex agree)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire import stored

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def reference_text(value: object) -> str:
    return NOT_XML.sub("", value) if isinstance(value, str) else ""


@pytest.mark.parametrize(
    "value, expected",
    [
        ("plain abstract\nwith lines\tand tabs\r", "plain abstract\nwith lines\tand tabs\r"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("naïve \x0b vertical tab", "naïve  vertical tab"),
        ("lone \ud800 surrogate \ufffe", "lone  surrogate "),
        ("", ""),
        (None, ""),
        (42, ""),
        (["a"], ""),
    ],
)
def test_text_table(value, expected):
    assert stored.text(value) == expected


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=())
    )
)
def test_text_equals_the_reference(value):
    assert stored.text(value) == reference_text(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_equals_the_reference(value):
    assert stored.text(value) == reference_text(value)
