"""A real HTTP server for tests that need one (browser tests, multi-process search tests).

Two ways:
- ``running_app(app)``: uvicorn serving an ASGI app in a thread of this process, on a free
  loopback port; yields the base URL. Use it with ``create_app(settings, db)``.
- ``serve_process(env, ...)``: the real ``paperwire serve`` in a subprocess with the given
  PAPERWIRE_* environment; yields (base_url, Popen). Waits until the port answers.

Fixture ``live_server`` (import it into a conftest or test module with
``from tests.support.live_server import live_server``): the app for the ``settings`` fixture,
on a free port; yields an object with ``.url``, ``.app``, ``.settings``, ``.db``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            httpx.get(url + "/static/favicon.svg", timeout=2.0)
            return
        except httpx.HTTPError as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer within {timeout}s: {last}")


@contextlib.contextmanager
def running_app(app: Any, *, port: int | None = None) -> Iterator[str]:
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"live-server-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def serve_process(
    env: dict[str, str],
    *,
    port: int | None = None,
    workers: int = 1,
    extra_args: list[str] | None = None,
    timeout: float = 60.0,
    log_path: str | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``paperwire serve`` in a subprocess; env is merged over os.environ."""
    port = port or free_port()
    full_env = {**os.environ, **env}
    args = [
        sys.executable,
        "-m",
        "paperwire",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        *(extra_args or []),
    ]
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(args, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, timeout=timeout, proc=proc)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_path:
            out.close()


@dataclass
class LiveServer:
    url: str
    app: Any
    settings: Any
    db: Any


@pytest.fixture
def live_server(settings, db):
    from paperwire.web.app import create_app

    app = create_app(settings, db)
    with running_app(app) as url:
        yield LiveServer(url=url, app=app, settings=settings, db=db)
