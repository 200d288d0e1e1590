"""Polite HTTP GETs to arXiv: a pause between requests, 503 + Retry-After honoured (capped),
retries with backoff on network errors and 5xx. Shared by the OAI-PMH and API clients.

Invariants:
- At least ``settings.arxiv_delay_seconds`` pass between the start of two requests made
  through the same ``Pacer`` (arXiv's terms ask for 3 s).
- A 503 is retried after ``min(Retry-After, settings.arxiv_retry_after_max_seconds)``, at most
  ``settings.arxiv_max_retries`` times; then ``RemoteError`` says arXiv is unavailable.
- Other 4xx replies are returned to the caller, who knows what they mean.
- ``sleep`` and ``clock`` are injectable so tests check the waits without waiting.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable

import httpx

from paperwire import __version__
from paperwire.errors import PaperwireError

log = logging.getLogger(__name__)

USER_AGENT = f"Paperwire/{__version__} (self-hosted Daily Papers; +https://github.com/)"


class RemoteError(PaperwireError):
    """arXiv could not be reached or kept failing."""


# Connecting to arXiv takes well under a second when it is up; a person waiting for a
# submission is told after this long at most that it could not be reached.
INTERACTIVE_CONNECT_SECONDS = 3.0


class Pacer:
    """``interactive``: a person waits for the answer (a submission): a short timeout
    (``settings.arxiv_interactive_timeout_seconds``, connecting at most
    ``INTERACTIVE_CONNECT_SECONDS``) and no retries; batch work (fetch, harvest) keeps the
    long timeout and the retries with backoff."""

    def __init__(
        self,
        settings,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        interactive: bool = False,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.interactive = interactive
        self.waits: list[float] = []  # every pause taken, for progress messages and tests
        self._last: float | None = None
        self._own_client = client is None
        if interactive:
            total = settings.arxiv_interactive_timeout_seconds
            timeout = httpx.Timeout(total, connect=min(total, INTERACTIVE_CONNECT_SECONDS))
        else:
            timeout = httpx.Timeout(settings.http_timeout_seconds)
        self.client = client or httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> Pacer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waits.append(seconds)
            self.sleep(seconds)

    def _pace(self) -> None:
        delay = self.settings.arxiv_delay_seconds
        if self._last is not None and delay > 0:
            self._wait(delay - (self.clock() - self._last))
        self._last = self.clock()

    def get(
        self, url: str, params: dict | list | None = None, *, what: str = "arXiv"
    ) -> httpx.Response:
        retries = 0 if self.interactive else self.settings.arxiv_max_retries
        attempt = 0
        while True:
            self._pace()
            try:
                response = self.client.get(url, params=params)
            except httpx.HTTPError as exc:
                if attempt >= retries:
                    raise RemoteError(f"{what} unreachable at {url}: {exc}") from None
                attempt += 1
                backoff = min(2.0**attempt, self.settings.arxiv_retry_after_max_seconds)
                log.warning(
                    "%s request failed (%s); retry %d/%d in %.0fs",
                    what,
                    exc,
                    attempt,
                    retries,
                    backoff,
                )
                self._wait(backoff)
                continue
            if response.status_code == 503 or response.status_code >= 500:
                if attempt >= retries:
                    raise RemoteError(
                        f"{what} unavailable: HTTP {response.status_code} after "
                        f"{retries} retries ({url})"
                    )
                attempt += 1
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is None:
                    wait = 2.0**attempt
                wait = min(wait, self.settings.arxiv_retry_after_max_seconds)
                log.info(
                    "%s answered %d; waiting %.0fs (retry %d/%d)",
                    what,
                    response.status_code,
                    wait,
                    attempt,
                    retries,
                )
                self._wait(wait)
                # Retry-After already spaced this request out; do not add the polite delay.
                self._last = None
                continue
            return response


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())
