"""CLI commands of the web area: ``paperwire serve``.

(The accounts area appends its ``user`` group to COMMANDS.)
"""

from __future__ import annotations

import logging
import os
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
    embedder = None if no_embedder else start_embedder(settings, db)
    click.echo(f"Paperwire serving on http://{host}:{port}/ ({workers} worker"
               f"{'s' if workers != 1 else ''}, database {db.dialect})", err=True)
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
