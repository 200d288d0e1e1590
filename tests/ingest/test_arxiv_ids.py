import pytest

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import normalize_arxiv_id


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2104.12255", ("2104.12255", None)),
        ("2104.12255v1", ("2104.12255", 1)),
        ("2104.12255v12", ("2104.12255", 12)),
        ("0704.0001", ("0704.0001", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("quant-ph/0201082v1", ("quant-ph/0201082", 1)),
        ("astro-ph/0601001", ("astro-ph/0601001", None)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("arXiv:2104.12255", ("2104.12255", None)),
        ("arxiv:2104.12255v3", ("2104.12255", 3)),
        ("  2104.12255 \n", ("2104.12255", None)),
        ("https://arxiv.org/abs/2104.12255", ("2104.12255", None)),
        ("https://arxiv.org/abs/2104.12255v2", ("2104.12255", 2)),
        ("http://arxiv.org/abs/hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("https://arxiv.org/pdf/2104.12255", ("2104.12255", None)),
        ("https://arxiv.org/pdf/2104.12255v1.pdf", ("2104.12255", 1)),
        ("https://arxiv.org/pdf/2104.12255.pdf", ("2104.12255", None)),
        ("https://export.arxiv.org/abs/quant-ph/0201082v1", ("quant-ph/0201082", 1)),
        ("arxiv.org/abs/2104.12255", ("2104.12255", None)),
        ("www.arxiv.org/abs/2104.12255/", ("2104.12255", None)),
        ("https://arxiv.org/abs/2104.12255?context=cs#section", ("2104.12255", None)),
        ("https://arxiv.org/html/2104.12255v1", ("2104.12255", 1)),
    ],
)
def test_normalize_accepts_ids_and_urls(raw, expected):
    assert normalize_arxiv_id(raw) == expected


@pytest.mark.parametrize(
    "raw, says",
    [
        ("abc", "not an arXiv id: 'abc'"),
        ("", "empty arXiv id"),
        ("   ", "empty arXiv id"),
        ("0000.0000", "month 00 does not exist"),
        ("2113.00001", "month 13 does not exist"),
        ("2104.123", "not an arXiv id"),
        ("2104.1234567", "not an arXiv id"),
        ("2104.12255v0", "versions start at v1"),
        ("hep-th/990100", "not an arXiv id"),
        ("https://example.org/abs/2104.12255", "not an arXiv URL"),
        ("https://arxiv.org/list/cs.CL/recent", "without a paper id"),
        ("https://arxiv.org/", "without a paper id"),
        ("2104.12255 2104.12256", "not an arXiv id"),
    ],
)
def test_normalize_rejects_with_a_clear_message(raw, says):
    with pytest.raises(BadInput) as info:
        normalize_arxiv_id(raw)
    assert says in str(info.value)
    assert "expected" in str(info.value) or "versions" in str(info.value)
