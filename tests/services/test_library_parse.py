"""The list-import parsers: tables of real inputs, and hypothesis against a simple reference
(ids written in any accepted form, with separators, comments and blank lines, come back in
order; BibTeX written by the paper page's exporter parses back to the same ids)."""

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperwire.errors import BadInput
from paperwire.services.library_export import bibtex
from paperwire.services.library_parse import (
    parse_any,
    parse_bibtex,
    parse_json_export,
    parse_pasted,
)
from paperwire.store.models import Paper


@pytest.mark.parametrize(
    "text, ids",
    [
        ("2104.12255", ["2104.12255"]),
        ("2104.12255v3\nhttps://arxiv.org/abs/hep-th/9901001v2", ["2104.12255", "hep-th/9901001"]),
        ("arXiv:2104.12255, 2104.12256; 2104.12257", ["2104.12255", "2104.12256", "2104.12257"]),
        (
            "# my reading list\n\nhttps://arxiv.org/pdf/2104.12255v1.pdf  # the good one\n",
            ["2104.12255"],
        ),
        ("https://arxiv.org/abs/2104.12255#section", ["2104.12255"]),
        ("seed:attention-paper", ["seed:attention-paper"]),
    ],
)
def test_pasted_ids_and_urls(text, ids):
    assert [ln.paper_id for ln in parse_pasted(text)] == ids


@pytest.mark.parametrize(
    "text, line, why",
    [
        ("2104.12255\nnot-an-id", 2, "not an arXiv id or arxiv.org URL"),
        ("\n\n2113.00001", 3, "month 13 does not exist"),
        ("https://example.org/paper", 1, "not an arXiv URL (host example.org)"),
    ],
)
def test_pasted_bad_lines_say_which_line_and_why(text, line, why):
    bad = [ln for ln in parse_pasted(text) if ln.error]
    assert len(bad) == 1 and bad[0].line == line and why in bad[0].message
    assert bad[0].message.startswith(f"line {line} (")


BIB = r"""% exported by some reference manager
@comment{ignored}
@misc{vaswani2017attention,
  title = {Attention {Is} All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  year = {2017},
  eprint = {1706.03762},
  archivePrefix = {arXiv},
  primaryClass = {cs.CL}
}

@article{old,
  title = "A string theory paper",
  journal = {arXiv e-prints},
  note = {arXiv:hep-th/9901001v1}
}
@inproceedings(paren, title = {Parenthesised (entry)}, url = {https://arxiv.org/abs/2104.12255v2})
@book{knuth, title = {The Art of Computer Programming}}
@misc{broken, title = {never closed
"""


def test_bibtex_entries_give_ids_and_a_line_per_bad_entry():
    lines = parse_bibtex(BIB)
    assert [ln.paper_id for ln in lines] == [
        "1706.03762",
        "hep-th/9901001",
        "2104.12255",
        None,
        None,
    ]
    knuth, broken = lines[3], lines[4]
    assert knuth.line == 18 and "no arXiv id" in knuth.message and "@book{knuth}" in knuth.message
    assert broken.line == 19 and "not closed" in broken.message


def test_field_like_text_inside_a_value_is_not_a_field():
    bib = (
        '@misc{x, title = {On eprint = {9999.99999} and friends}, note = "a, b = c",\n'
        "  eprint = {2104.12255}, archivePrefix = {arXiv}}"
    )
    assert [ln.paper_id for ln in parse_bibtex(bib)] == ["2104.12255"]


def test_text_that_is_not_bibtex_or_json_is_read_as_pasted_ids():
    assert [ln.paper_id for ln in parse_any("2104.12255")] == ["2104.12255"]
    with pytest.raises(BadInput, match="not valid JSON"):
        parse_any("{nope")
    with pytest.raises(BadInput, match="not a Paperwire export"):
        parse_json_export(json.dumps({"items": []}))


# --- hypothesis ---------------------------------------------------------------------------

new_ids = st.builds(
    lambda yy, mm, n: f"{yy:02d}{mm:02d}.{n:05d}",
    st.integers(15, 26),
    st.integers(1, 12),
    st.integers(0, 99999),
)
old_ids = st.builds(
    lambda a, yy, mm, n: f"{a}/{yy:02d}{mm:02d}{n:03d}",
    st.sampled_from(["hep-th", "quant-ph", "math", "astro-ph", "cond-mat"]),
    st.sampled_from([91, 95, 99, 0, 5]),
    st.integers(1, 12),
    st.integers(1, 999),
)
ids = st.one_of(new_ids, old_ids)


def _written(pid: str, form: int, version: int) -> str:
    v = f"v{version}" if version else ""
    return [
        pid + v,
        f"arXiv:{pid}{v}",
        f"https://arxiv.org/abs/{pid}{v}",
        f"https://arxiv.org/pdf/{pid}{v}.pdf",
        f"http://export.arxiv.org/abs/{pid}",
    ][form]


@hsettings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            ids,
            st.integers(0, 4),
            st.integers(0, 9),
            st.sampled_from(["\n", ", ", " ", "\n\n", " # note\n", ";"]),
        ),
        max_size=30,
    )
)
def test_pasted_ids_in_any_form_come_back_in_order(items):
    text = "# header comment\n" + "".join(
        _written(pid, form, v) + sep for pid, form, v, sep in items
    )
    lines = parse_pasted(text)
    assert [ln.error for ln in lines if ln.error] == []
    assert [ln.paper_id for ln in lines] == [pid for pid, *_ in items]


titles = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60
)


@hsettings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(ids, titles, st.lists(titles, max_size=3)), max_size=15))
def test_bibtex_written_by_the_exporter_parses_back_to_the_same_ids(papers):
    entries = []
    for pid, title, authors in papers:
        paper = Paper(
            id=pid,
            source="arxiv",
            title=title,
            authors=[{"name": a, "affiliations": []} for a in authors],
            categories=["cs.LG"],
            published_at=dt.datetime(2021, 4, 1),
            abs_url=f"https://arxiv.org/abs/{pid}",
        )
        entries.append(bibtex(paper))
    lines = parse_bibtex("\n\n".join(entries))
    assert [(ln.paper_id, ln.error) for ln in lines] == [(pid, None) for pid, *_ in papers]
