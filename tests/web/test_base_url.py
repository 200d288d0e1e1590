"""Without PAPERWIRE_BASE_URL, links in Atom feeds and emails follow the host and port
`paperwire serve` listens on (they pointed at :8000 whatever the port)."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from paperwire.config import listen_url, load_settings
from paperwire.digest.mailer import confirm_url
from paperwire.web.app import create_app
from tests.factories import make_feed_papers


@pytest.mark.parametrize(
    "host, port, expected",
    [
        ("127.0.0.1", 8101, "http://127.0.0.1:8101"),
        ("0.0.0.0", 8000, "http://127.0.0.1:8000"),
        ("papers.lan", 80, "http://papers.lan:80"),
        ("::1", 9000, "http://[::1]:9000"),
    ],
)
def test_listen_url(host, port, expected):
    assert listen_url(host, port) == expected


def test_links_follow_the_port_when_no_base_url_is_set(tmp_path, db_url, db):
    settings = load_settings(
        env={"PAPERWIRE_PORT": "8101"},
        data_dir=tmp_path / "data",
        database_url=db_url,
        load_demo_data=False,
        secret_key="k",
    )
    assert settings.base_url == "http://127.0.0.1:8101"
    (rec,) = make_feed_papers(db, 1, day=dt.date.today())
    with TestClient(create_app(settings, db)) as client:
        atom = client.get("/feeds/daily.atom").text
    assert f"http://127.0.0.1:8101/papers/{rec.id}" in atom
    assert ":8000" not in atom
    assert confirm_url(settings, 1, 1).startswith("http://127.0.0.1:8101/subscribe/confirm/")


def test_a_configured_base_url_wins(tmp_path):
    settings = load_settings(
        env={"PAPERWIRE_PORT": "8101", "PAPERWIRE_BASE_URL": "https://papers.example.org"},
        data_dir=tmp_path,
    )
    assert settings.base_url == "https://papers.example.org"
