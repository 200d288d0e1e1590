"""CLI commands of the web area: ``paperwire serve``.

(The accounts area appends its ``user`` group to COMMANDS.)
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

import click

log = logging.getLogger("paperwire.serve")


def prepare(settings, *, demo_in_background: bool = True):
    """Everything ``serve`` does before listening: migrate, then load the demo data into an
    empty database. Returns (Database, demo thread or None).

    The demo load runs in a background thread by default: on a first start it also embeds the
    seed papers, which may first export the embedding model (tens of seconds), and the server
    must answer within seconds. The feed fills in as soon as the import commits.
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
                    if load_demo_if_empty(settings, db):
                        log.info("demo data loaded")
                except Exception:  # noqa: BLE001 - the site serves without demo data
                    log.exception("loading the demo data failed")

            if demo_in_background:
                thread = threading.Thread(target=load, name="demo-data", daemon=True)
                thread.start()
            else:
                load()
    return db, thread


def start_embedder(settings, db):
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


# Run in a child process: exports the configured embedding model (a no-op when the data dir
# holds a valid export already).
_EXPORT_CODE = """
from paperwire.config import load_settings
from paperwire.search.embed import DEFAULT_BACKEND, exported_model_path, resolve_model
settings = load_settings()
exported_model_path(settings, resolve_model(settings), settings.embedding_backend or DEFAULT_BACKEND)
"""


def export_model_once(settings) -> threading.Thread | None:
    """Export the encoder once, in a short-lived child process started before the
    workers, when the data dir has no valid export yet. Returns the thread waiting for it.

    Why: every worker's search warm-up loads the query encoder (hybrid search needs it even
    with ``--no-embedder``, which only stops the background embedding of papers). With no
    export in the data dir, the first worker to get there imported transformers and torch to
    make it, and kept them (hundreds of MB) for its whole life while already serving. The
    child takes the export's file lock within a fraction of a second, long before a worker
    has started; workers then wait on that lock in their background warm-up and load the
    exported files with OpenVINO (or onnxruntime) only."""
    from paperwire.search import embed

    backend = getattr(settings, "embedding_backend", "") or embed.DEFAULT_BACKEND
    if backend == "torch":
        return None
    try:
        spec = embed.resolve_model(settings)
        if embed._valid_cache(embed._cache_dir(settings, spec, backend)) is not None:
            return None
    except Exception as exc:  # noqa: BLE001 - no usable model: search says so, serving goes on
        log.info("no embedding model to export (%s); semantic search stays off", exc)
        return None

    def run() -> None:
        click.echo("Exporting the embedding model (first start, done once)", err=True)
        done = subprocess.run([sys.executable, "-c", _EXPORT_CODE], env=dict(os.environ))
        if done.returncode != 0:
            log.warning("exporting the embedding model failed (exit %s); the workers will "
                        "try again", done.returncode)

    thread = threading.Thread(target=run, name="model-export", daemon=True)
    thread.start()
    return thread


def _say_where_mail_goes(settings) -> None:
    """On the console and in the log: where mail goes and how to configure SMTP."""
    from paperwire.digest.transport import describe_mail

    line = describe_mail(settings)
    click.echo(line, err=True)
    log.info("%s", line)


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: PAPERWIRE_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: PAPERWIRE_PORT).")
@click.option("--workers", type=int, default=None,
              help="Worker processes (default: PAPERWIRE_WORKERS; production: the number of "
                   "cores, 0 = number of cores).")
@click.option("--no-embedder", is_flag=True, help="Do not embed new papers in this process "
              "(when `paperwire worker` does it).")
@click.pass_obj
def serve_cmd(settings, host, port, workers, no_embedder):
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
    db, _demo = prepare(settings)
    export_model_once(settings)
    embedder = None if no_embedder else start_embedder(settings, db)
    click.echo(f"Paperwire serving on http://{host}:{port}/ ({workers} worker"
               f"{'s' if workers != 1 else ''}, database {db.dialect})", err=True)
    _say_where_mail_goes(settings)
    # Workers are separate processes that rebuild settings from the environment; pass the
    # resolved values on so that --host/--port style overrides agree everywhere.
    os.environ[env_name("host")] = host
    os.environ[env_name("port")] = str(port)
    try:
        uvicorn.run("paperwire.web.app:app_from_env", factory=True, host=host, port=port,
                    workers=workers if workers > 1 else None,
                    log_level=settings.log_level.lower(), access_log=False,
                    proxy_headers=True, server_header=False, timeout_keep_alive=30)
    finally:
        if embedder is not None:
            embedder.stop(timeout=10)


from paperwire.cli.users import user_group  # noqa: E402 - the accounts area's `user` group

COMMANDS: list = [serve_cmd, user_group]
