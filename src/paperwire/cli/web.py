"""CLI commands of the web area: ``paperwire serve``.

(The accounts area appends its ``user`` group to COMMANDS.)
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paperwire.config import Settings

if TYPE_CHECKING:
    from paperwire.store.db import Database

log = logging.getLogger("paperwire.serve")


def prepare(settings: Settings, *, demo_in_background: bool = True):
    """Everything ``serve`` does before listening: migrate, then load the demo data into an
    empty database. Returns (Database, demo thread or None).

    The demo load runs in a background thread by default (about a second): the server answers
    at once and the feed fills in as soon as the seed papers commit. It never waits for the
    embedding model (search/notify.py); the background embedder embeds the papers once the
    model is prepared (``start_model_preparation``).
    """
    from paperwire.store.db import open_database

    db = open_database(settings, migrate=True)
    thread = None
    if settings.load_demo_data:
        try:
            from paperwire.ingest.demo import load_demo_if_empty
        except ImportError:
            log.warning("demo data loader not available; starting with the database as it is")
        else:

            def load():
                try:
                    from paperwire.search.notify import announcer

                    if load_demo_if_empty(settings, db, on_change=announcer(settings, db)):
                        log.info("demo data loaded")
                        _build_lexical_index(settings, db)
                except Exception:  # noqa: BLE001 - the site serves without demo data
                    log.exception("loading the demo data failed")

            if demo_in_background:
                thread = threading.Thread(target=load, name="demo-data", daemon=True)
                thread.start()
            else:
                load()
    return db, thread


def _build_lexical_index(settings: Settings, db: Database) -> None:
    """Build the lexical index of a fresh install while the web worker starts, so that the
    first search finds it ready instead of waiting for the build (seconds on a busy
    machine). A worker that gets there first builds it itself; either way it is correct."""
    from paperwire.search.lexical import LexicalIndex

    index = LexicalIndex(settings, db)
    try:
        index.ensure_open()
    finally:
        index.close()


def start_embedder(settings: Settings, db: Database):
    """Background embedding of papers without embeddings (one per `serve`, not per worker)."""
    try:
        from paperwire.search.embedding_jobs import start_background_embedder
    except ImportError:
        return None
    try:
        return start_background_embedder(settings, db)
    except Exception:  # noqa: BLE001 - semantic search degrades; the site still serves
        log.exception("background embedder failed to start; semantic search may lag")
        return None


def start_model_preparation(settings: Settings) -> subprocess.Popen | None:
    """Start the one background process that prepares the embedding model (export + int8
    quantization, search/prepare.py; it ends at once when the data dir has a finished export
    already), and tell this process and its web workers not to export it themselves.
    Returns the process.

    Why a separate process: the export imports torch and transformers (hundreds of MB, kept
    for the life of whoever imports them) and takes minutes; nothing the site shows waits for
    it — not even the check whether it is needed (hashing the weights takes a moment).
    Temporary folders of an export killed earlier are removed first."""
    from paperwire.search import embed

    os.environ[embed.PREPARED_ELSEWHERE_ENV] = "1"
    embed.clean_stale_exports(Path(settings.data_dir) / "models")
    backend = settings.embedding_backend or embed.DEFAULT_BACKEND
    if backend == "torch":
        return None
    from paperwire.search.prepare import PARENT_ENV

    return subprocess.Popen(
        [sys.executable, "-m", "paperwire.search.prepare"],
        env={**os.environ, PARENT_ENV: str(os.getpid())},
        stdin=subprocess.DEVNULL,
    )


def stop_process(proc: subprocess.Popen | None, timeout: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _say_where_mail_goes(settings: Settings) -> None:
    """Where mail goes and how to configure SMTP, said once on stderr (the console, and the
    log of a service manager): the root logger writes to stderr too, so logging the line as
    well printed it twice."""
    from paperwire.digest.transport import describe_mail

    click.echo(describe_mail(settings), err=True)


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: PAPERWIRE_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: PAPERWIRE_PORT).")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes (default: PAPERWIRE_WORKERS; production: the number of "
    "cores, 0 = number of cores).",
)
@click.option(
    "--no-embedder",
    is_flag=True,
    help="Do not embed new papers in this process (when `paperwire worker` does it).",
)
@click.pass_obj
def serve_cmd(settings: Settings, host, port, workers, no_embedder):
    """Serve the web app, the JSON API and the Atom feeds.

    Migrates the database, loads the demo papers into an empty one (PAPERWIRE_LOAD_DEMO_DATA),
    then listens at once; search indexes are built or refreshed in the background. For
    production run one worker per core: `paperwire serve --workers 0 --host 0.0.0.0`.
    """
    import uvicorn

    from paperwire.config import env_name

    host = host or settings.host
    port = port if port is not None else settings.port
    workers = settings.workers if workers is None else workers
    if workers <= 0:
        workers = os.cpu_count() or 1
    preparer = start_model_preparation(settings)
    db, _demo = prepare(settings)
    embedder = None if no_embedder else start_embedder(settings, db)
    click.echo(
        f"Paperwire serving on http://{host}:{port}/ ({workers} worker"
        f"{'s' if workers != 1 else ''}, database {db.dialect})",
        err=True,
    )
    _say_where_mail_goes(settings)
    # Workers are separate processes that rebuild settings from the environment; pass the
    # resolved values on so that --host/--port style overrides agree everywhere.
    os.environ[env_name("host")] = host
    os.environ[env_name("port")] = str(port)
    shared = None
    if workers > 1:
        # The workers of this run share the rankings they compute (search/shared_cache.py).
        from paperwire.search import shared_cache

        shared = shared_cache.new_run_file(Path(settings.data_dir) / "cache")
        os.environ[shared_cache.SHARED_RANKINGS_ENV] = str(shared)
    try:
        uvicorn.run(
            "paperwire.web.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers if workers > 1 else None,
            log_level=settings.log_level.lower(),
            access_log=False,
            proxy_headers=True,
            server_header=False,
            timeout_keep_alive=30,
        )
    finally:
        stop_process(preparer)
        if embedder is not None:
            embedder.stop(timeout=3)
        if shared is not None:
            shared_cache.remove_run_file(shared)


from paperwire.cli.users import user_group  # noqa: E402 - the accounts area's `user` group

COMMANDS: list = [serve_cmd, user_group]
