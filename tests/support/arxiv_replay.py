"""A real local HTTP server that replays recorded arXiv responses (API and OAI-PMH).

Recordings live in tests/fixtures/arxiv/{api,oai}: ``NAME.xml`` is the body, ``NAME.meta.json``
the request URL/path and the status (and, for OAI, the response headers). A request is matched
by path and query parameters (order-independent, blanks kept). When several recordings share a
request (``NAME.0``, ``NAME.1``: arXiv's real ``503 Retry-After: 10`` and then the page) they
are served in order, the last one repeating. An unmatched request gets a 404 whose body names
it, so a test that asks for something unrecorded fails loudly.

Use it as a context manager::

    with arxiv_replay_server() as replay:
        settings = load_settings(env={}, **replay.settings_overrides())

``replay.requests`` lists what the client asked, in order.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "arxiv"
API_PATH = "/api/query"
OAI_PATH = "/oai2"


def _key(path: str, query: str) -> tuple[str, tuple]:
    return path, tuple(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass
class Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


class ReplayServer:
    def __init__(self, fixtures: Path = FIXTURES) -> None:
        self.replies: dict[tuple, list[Reply]] = {}
        self.served: dict[tuple, int] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._load(fixtures)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # --- recordings -----------------------------------------------------------------------
    def _load(self, fixtures: Path) -> None:
        for meta_path in sorted((fixtures / "api").glob("*.meta.json")):
            meta = json.loads(meta_path.read_text())
            body = meta_path.with_name(meta_path.name.replace(".meta.json", ".xml")).read_bytes()
            parts = urlsplit(meta["url"])
            self.add(
                parts.path,
                parts.query,
                meta["status_code"],
                body,
                [("Content-Type", "application/atom+xml; charset=utf-8")],
            )
        # NAME.0, NAME.1 ... are consecutive replies to the same request: sort by index.
        metas = sorted(
            (fixtures / "oai").glob("*.meta.json"),
            key=lambda p: (p.name.rsplit(".", 3)[0], int(p.name.rsplit(".", 3)[1])),
        )
        for meta_path in metas:
            meta = json.loads(meta_path.read_text())
            body = meta_path.with_name(meta_path.name.replace(".meta.json", ".xml")).read_bytes()
            raw = meta["headers"]
            headers = [
                (raw[i], raw[i + 1])
                for i in range(0, len(raw), 2)
                if raw[i].lower() in ("retry-after", "content-type")
            ]
            parts = urlsplit(meta["path"])
            self.add(parts.path, parts.query, meta["status"], body, headers)

    def add(
        self,
        path: str,
        query: str | dict,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]] | None = None,
        *,
        replace: bool = False,
    ) -> None:
        """Register a reply for a request (appended after earlier ones for the same request)."""
        if isinstance(query, dict):
            query = "&".join(f"{k}={v}" for k, v in query.items())
        key = _key(path, query)
        reply = Reply(status, body, headers or [("Content-Type", "text/xml")])
        with self._lock:
            if replace:
                self.replies[key] = []
                self.served.pop(key, None)
            self.replies.setdefault(key, []).append(reply)

    def reset_counts(self) -> None:
        with self._lock:
            self.served.clear()
            self.requests.clear()

    def _reply_for(self, path: str, query: str) -> Reply | None:
        key = _key(path, query)
        with self._lock:
            self.requests.append((path, dict(parse_qsl(query, keep_blank_values=True))))
            options = self.replies.get(key)
            if not options:
                return None
            index = self.served.get(key, 0)
            self.served[key] = index + 1
            return options[min(index, len(options) - 1)]

    # --- server -------------------------------------------------------------------------
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                reply = server._reply_for(parts.path, parts.query)
                if reply is None:
                    body = f"no recording for GET {self.path}".encode()
                    reply = Reply(404, body, [("Content-Type", "text/plain")])
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    @property
    def oai_url(self) -> str:
        return self.base_url + OAI_PATH

    def settings_overrides(self) -> dict:
        return {"arxiv_api_url": self.api_url, "arxiv_oai_url": self.oai_url}

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextlib.contextmanager
def arxiv_replay_server() -> Iterator[ReplayServer]:
    server = ReplayServer().start()
    try:
        yield server
    finally:
        server.stop()


# --- derived OAI pages --------------------------------------------------------------------
# The recorded ListRecords reply (2015-01-01..2015-01-03) fits on one page. To exercise
# resumption tokens with real records, `paged_listrecords` splits that real reply into pages of
# one record each, chained by tokens in arXiv's format (`<resumptionToken cursor=...
# completeListSize=...>ID|CURSOR</resumptionToken>`, empty on the last page).

RECORDED_LISTRECORDS = FIXTURES / "oai" / "listrecords---should-list-identifiers-from-arxiv.1.xml"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"


def paged_listrecords(per_page: int = 1, token_id: str = "6961231") -> list[tuple[str, bytes]]:
    """[(resumption token that fetches this page or '' for the first, body)] from the real reply."""
    root = etree.fromstring(RECORDED_LISTRECORDS.read_bytes())
    container = root.find(f"{{{OAI_NS}}}ListRecords")
    records = container.findall(f"{{{OAI_NS}}}record")
    pages = []
    for start in range(0, len(records), per_page):
        page_root = etree.fromstring(RECORDED_LISTRECORDS.read_bytes())
        page_container = page_root.find(f"{{{OAI_NS}}}ListRecords")
        for i, record in enumerate(page_container.findall(f"{{{OAI_NS}}}record")):
            if not start <= i < start + per_page:
                page_container.remove(record)
        token = etree.SubElement(page_container, f"{{{OAI_NS}}}resumptionToken")
        token.set("cursor", str(start))
        token.set("completeListSize", str(len(records)))
        nxt = start + per_page
        token.text = f"{token_id}|{nxt}" if nxt < len(records) else None
        asked_with = "" if start == 0 else f"{token_id}|{start}"
        pages.append(
            (asked_with, etree.tostring(page_root, xml_declaration=True, encoding="UTF-8"))
        )
    return pages


def oai_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{OAI_NS}">'
        f"<responseDate>2018-06-21T14:31:04Z</responseDate>"
        f'<request verb="ListRecords">http://export.arxiv.org/oai2</request>'
        f'<error code="{code}">{message}</error></OAI-PMH>'
    ).encode()
