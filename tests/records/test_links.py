"""Links in abstracts and arXiv comments (records/links.py): a table of real arXiv texts
(from the 2025-2026 arXiv sample and the demo seed's ``code_url``s), edge cases, and the
invariants with hypothesis (never a non-https URL; normalising and extracting are idempotent)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperwire.records.links import KINDS, Link, extract_links, member_link, normalize_url

# (arXiv id, abstract snippet, comment, expected [(kind, url)]) - real texts, cut around the links.
REAL = [
    (
        "2410.10291",
        "Our benchmark and code are available at https://github.com/zhuxiangru/SemVarBench .",
        "Accepted by ICLR 2025",
        [("code", "https://github.com/zhuxiangru/SemVarBench")],
    ),
    (
        "2502.08636",
        "The code and data are released in https://github.com/XingruiWang/Spatial457.",
        "Published in CVPR 2025 as Highlight. Data and code are released at "
        "https://github.com/XingruiWang/Spatial457",
        [("code", "https://github.com/XingruiWang/Spatial457")],
    ),
    (
        "2503.11787",
        "Our code is open-source and available at https://www.github.com/sremedios/eclare.",
        "",
        [("code", "https://github.com/sremedios/eclare")],
    ),
    (
        "2503.11892",
        "Our project page is at https://taco-group.github.io/DecAlign and the code is "
        "available at https://github.com/taco-group/DecAlign.",
        "Project website: https://taco-group.github.io/DecAlign/",
        [
            ("project", "https://taco-group.github.io/DecAlign"),
            ("code", "https://github.com/taco-group/DecAlign"),
        ],
    ),
    (
        "2503.11930",
        "",
        "for associated iris database, see https://huggingface.co/datasets/fatdove/Iris_Database",
        [("dataset", "https://huggingface.co/datasets/fatdove/Iris_Database")],
    ),
    (
        "2503.12061",
        "UCF-CC-50, and UCF-QNRF. Our code is in https://anonymous.4open.science/r/EHNet.",
        "",
        [("code", "https://anonymous.4open.science/r/EHNet")],
    ),
    (
        "2503.12464",
        "",
        "Article accepted and to appear in the Proceedings on Privacy Enhancing "
        "Technologies, 2025 (3): https://petsymposium.org/popets/2025/. To be presented at the "
        "Privacy Enhancing Technologies Symposium 2025. Artifact (source code) under review: "
        "https://github.com/graphnex/privacy-from-visual-entities",
        [("code", "https://github.com/graphnex/privacy-from-visual-entities")],
    ),
    (
        "2505.16400",
        "",
        "We release the model at: https://huggingface.co/nvidia/AceReason-Nemotron-14B",
        [("model", "https://huggingface.co/nvidia/AceReason-Nemotron-14B")],
    ),
    (
        "2505.20718",
        "unstructured environments. Project website: "
        "https://sites.google.com/view/evt-recovery-assistant.",
        "",
        [("project", "https://sites.google.com/view/evt-recovery-assistant")],
    ),
    (
        "2508.01401",
        "Code is available at https://github.com/ahmadrezarm/MedSynth/tree/main and the "
        "dataset is available at https://huggingface.co/datasets/Ahmad0067/MedSynth.",
        "7 pages excluding references and appendices",
        [
            ("code", "https://github.com/ahmadrezarm/MedSynth/tree/main"),
            ("dataset", "https://huggingface.co/datasets/Ahmad0067/MedSynth"),
        ],
    ),
    (
        "2512.11133",
        "",
        "Particle Data Group Review of Machine Learning, 2025 update, also "
        "available at https://pdg.lbl.gov/2025/reviews/rpp2025-rev-machine-learning.pdf",
        [],
    ),
    (
        "2512.16297",
        "We release the replication package at https://figshare.com/s/d5931192a8824de26aff.",
        "",
        [("dataset", "https://figshare.com/s/d5931192a8824de26aff")],
    ),
    (
        "2603.06674",
        "we release the video at https://youtu.be/10IH8SyJjAQ, full codebase at "
        "https://github.com/ResearAI/AutoFigure-Edit and provide a website for easy access and "
        "interactive use at https://deepscientist.cc/.",
        "",
        [
            ("video", "https://youtu.be/10IH8SyJjAQ"),
            ("code", "https://github.com/ResearAI/AutoFigure-Edit"),
            ("project", "https://deepscientist.cc"),
        ],
    ),
    # The demo seed's code_url values (src/paperwire/demo/seed_papers.jsonl).
    (
        "2411.06785",
        "",
        "https://github.com/lingximamo/White-Box-Diffusion-Transformer",
        [("code", "https://github.com/lingximamo/White-Box-Diffusion-Transformer")],
    ),
    ("2502.02975", "", "https://tgb-seq.github.io/", [("project", "https://tgb-seq.github.io")]),
    (
        "2506.13277",
        "",
        "https://github.com/ghrua/seqpe",
        [("code", "https://github.com/ghrua/seqpe")],
    ),
]


@pytest.mark.parametrize(
    "arxiv_id, abstract, comments, expected", REAL, ids=[row[0] for row in REAL]
)
def test_real_abstracts_give_their_links(arxiv_id, abstract, comments, expected):
    got = [(link.kind, link.url) for link in extract_links(abstract, comments)]
    assert got == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("code: github.com/owner/repo.git.", [("code", "https://github.com/owner/repo")]),
        ("see (https://gitlab.com/a/b)", [("code", "https://gitlab.com/a/b")]),
        ("https://bitbucket.org/a/b/, and", [("code", "https://bitbucket.org/a/b")]),
        (
            "demo at https://huggingface.co/spaces/org/app#top",
            [("demo", "https://huggingface.co/spaces/org/app")],
        ),
        ("HTTP://GitHub.COM:443/Owner/Repo/", [("code", "https://github.com/Owner/Repo")]),
        (
            "page https://en.wikipedia.org/wiki/Foo_(bar).",
            [("project", "https://en.wikipedia.org/wiki/Foo_(bar)")],
        ),
        ("https://arxiv.org/abs/2101.00001 and https://doi.org/10.1/x", []),
        ("javascript:alert(1) data:text/html,<b> ftp://github.com/a/b", []),
        ("code https://127.0.0.1/x https://localhost/a https://user@github.com/a/b", []),
        (
            "video https://www.youtube.com/watch?v=abc",
            [("video", "https://youtube.com/watch?v=abc")],
        ),
        ("twice https://github.com/a/b and github.com/a/b/", [("code", "https://github.com/a/b")]),
        ("an email me@github.com/a/b is not a link", []),
    ],
)
def test_edge_cases(text, expected):
    assert [(link.kind, link.url) for link in extract_links(text)] == expected


def test_abstract_links_come_before_comment_links():
    links = extract_links("code https://github.com/a/b", "page https://a.github.io/p")
    assert [link.url for link in links] == ["https://github.com/a/b", "https://a.github.io/p"]


@pytest.mark.parametrize(
    "raw, kind, error",
    [
        ("", None, "give the link"),
        ("javascript:alert(1)", "code", "not a web address"),
        ("data:text/html;base64,AAAA", None, "not a web address"),
        ("https://localhost:8000/x", None, "not a web address"),
        ("https://arxiv.org/abs/2101.00001", None, "not a code or resource link"),
        ("https://github.com/a/b", "weights", "kind must be one of"),
        ("https://github.com/" + "a" * 600, None, "too long"),
    ],
)
def test_member_link_refusals_say_why(raw, kind, error):
    with pytest.raises(ValueError, match=error):
        member_link(raw, kind)


def test_member_link_takes_the_kind_given_or_guesses_it():
    assert member_link(" github.com/a/b ") == Link("https://github.com/a/b", "code")
    assert member_link("https://example.org/p", "video") == Link("https://example.org/p", "video")
    assert member_link("https://example.org/p") == Link("https://example.org/p", "project")


# -- invariants -------------------------------------------------------------------------------
_host = st.from_regex(r"(www\.)?[a-zA-Z0-9-]{1,12}\.(com|org|io|github\.io|co)", fullmatch=True)
_path = st.lists(
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="/?#"),
        max_size=8,
    ),
    max_size=4,
).map("/".join)
_url = st.builds(
    lambda scheme, host, path, tail: f"{scheme}{host}/{path}{tail}",
    st.sampled_from(
        [
            "http://",
            "https://",
            "HTTPS://",
            "",
            "javascript:",
            "data:",
            "ftp://",
            "https://user:pw@",
        ]
    ),
    _host,
    _path,
    st.sampled_from(["", ".", ").", "/", ".git", "#x", "?a=1", "',"]),
)
_text = st.lists(st.one_of(_url, st.text(max_size=20)), max_size=6).map(" ".join)

_NORMAL = re.compile(r"^https://[a-z0-9.-]+(/[^\s#]*)?(\?[^\s#]*)?$")


@hsettings(max_examples=300, deadline=None)
@given(text=_text)
def test_extraction_gives_only_normal_https_urls_and_is_idempotent(text):
    links = extract_links(text)
    for link in links:
        assert _NORMAL.match(link.url), link.url
        parts = urlsplit(link.url)
        assert not parts.fragment and not parts.netloc.startswith("www.")
        assert not link.url.endswith(("/", ".git", ".", ",")) and link.kind in KINDS
        assert normalize_url(link.url) == link.url
    assert len({link.url for link in links}) == len(links)
    again = extract_links(" ".join(f"code: {link.url}" for link in links))
    assert {link.url for link in again} == {link.url for link in links}


@hsettings(max_examples=300, deadline=None)
@given(raw=st.one_of(_url, st.text(max_size=60)))
def test_normalizing_is_idempotent_and_never_leaves_http_s(raw):
    url = normalize_url(raw)
    if url is not None:
        assert url.startswith("https://") and normalize_url(url) == url
