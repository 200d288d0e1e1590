"""The FastAPI application: ``create_app(settings)``.

Extension points for other areas (keep them stable):
- Routers: every module named in ``ROUTE_MODULES`` is imported (a missing one is an error,
  not an optional part); its ``router``
  (an ``APIRouter``) is included and, when present, its ``install(app)`` is called first (for
  middleware, template globals, startup hooks). Modules of other areas come first, so their
  specific routes (``POST /papers/{id}/upvote``) are matched before this area's catch-all
  ``GET /papers/{paper_id:path}``.
- Shared state is one typed ``AppContext`` (``paperwire.web.appcontext``), read with
  ``app_context(request)`` (or ``app_context(app)`` in ``install``): settings, db, templates
  (``paperwire.web.pages.page_response`` renders), the page cache (``invalidate_pages(request)``
  after a write that changes what lists show, e.g. a vote or a comment), the similar-papers
  cache, and ``startup_hooks`` / ``shutdown_hooks``: lists of ``callable(app)`` run by the
  lifespan (Starlette 1.x has no ``on_event``); ``install(app)`` may append to them.
- ``request.state.user`` / ``request.state.csrf_token``: set by the accounts middleware; pages
  read them through ``paperwire.web.pages``; both default to None / "" here.
- Input: every request passes ``paperwire.web.inputs.InputPolicyMiddleware`` first (no
  control characters or NUL anywhere, bounded bodies and integers, 404/405 for writes no route
  takes); declare id parameters as ``inputs.IdPath`` / ``inputs.IdField``.
- OpenAPI: only routes under ``/api/`` and ``/feeds/`` are in the document (the contract);
  declare every status an operation can answer (``paperwire.web.errors.error_responses``).
- Errors: raise ``paperwire.errors.NotFound``/``BadInput`` or ``paperwire.web.errors``
  ``Unauthorized``/``Forbidden``/``Conflict``/``RateLimited``; they leave as
  ``{"error", "detail"}`` JSON or an HTML error page with the right status.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading

from fastapi import FastAPI

from paperwire.config import Settings
from paperwire.store.db import Database
from paperwire.web.appcontext import AppContext, app_context
from paperwire.web.cache import PageCache
from paperwire.web.errors import install_error_handlers
from paperwire.web.inputs import InputPolicyMiddleware
from paperwire.web.jsonresp import JSONResponse
from paperwire.web.pages import make_templates
from paperwire.web.static import mount_static

log = logging.getLogger(__name__)

# Include order matters: specific routes of other areas first, catch-alls (papers) last.
ROUTE_MODULES = [
    "paperwire.web.routes.accounts",  # accounts helper: sign in/up/out, profile, tokens
    "paperwire.web.routes.votes",  # upvote forms and API
    "paperwire.web.routes.comments",  # comment forms (post, edit, delete, history), API
    "paperwire.web.routes.submit",  # /submit and POST /api/papers/submit
    "paperwire.web.routes.moderation",  # hide / unhide papers (admins), /api/me
    "paperwire.web.routes.subscriptions",  # digest helper: /subscribe, confirm, unsubscribe
    "paperwire.web.routes.library",  # library helper: save, feedback, /library, /signals
    "paperwire.web.routes.lists",  # library helper: /lists/..., list feeds and API
    "paperwire.web.routes.outbox",  # mail: /admin/outbox (the local outbox, admins)
    "paperwire.web.routes.notifications",  # /notifications, mail preference, its links, API
    "paperwire.web.routes.links",  # links helper: add a link, /admin/links
    "paperwire.web.routes.api_read",  # JSON read API (/api/...)
    "paperwire.web.routes.feeds_atom",  # Atom feeds (/feeds/...)
    "paperwire.web.routes.api_docs",  # install helper: /api/docs, Swagger UI offline
    "paperwire.web.routes.recommend",  # /for-you, /api/me/recommendations, /r/feedback
    "paperwire.web.routes.search",  # /search
    "paperwire.web.routes.authors",  # /authors/{name}, follows, claims, /api/authors
    "paperwire.web.routes.feed",  # /, /papers?date=, week, month, /trending
    "paperwire.web.routes.papers",  # /papers/{paper_id:path} (catch-all: last)
]


def create_app(
    settings: Settings, db: Database | None = None, *, warm_search: bool = False
) -> FastAPI:
    """Build the app for ``settings``; ``db`` defaults to the configured database (not migrated
    here: ``paperwire serve`` migrates once before starting workers)."""
    from paperwire.store.db import open_database

    if db is None:
        db = open_database(settings, migrate=False)
    app = FastAPI(
        title=settings.site_name,
        version=_version(),
        lifespan=_lifespan,
        description="Paperwire: a community's Daily Papers. Read API, search, "
        "Atom feeds; writes need a personal API token.",
        default_response_class=JSONResponse,
        # /api/docs is routes.api_docs (Swagger UI from installed files, no CDN).
        docs_url=None,
        redoc_url=None,
    )
    context = AppContext(
        settings=settings,
        db=db,
        templates=make_templates(settings),
        cache=PageCache(ttl_seconds=settings.page_cache_seconds),
        # Similar papers change only when papers are embedded: minutes, not seconds.
        similar_cache=PageCache(ttl_seconds=60 * settings.page_cache_seconds, max_entries=20000),
    )
    app.state.context = context
    install_error_handlers(app)
    mount_static(app)
    modules = [importlib.import_module(name) for name in ROUTE_MODULES]
    for module in modules:
        install = getattr(module, "install", None)
        if install is not None:
            install(app)
    for module in modules:
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
    _schema_covers_api_only(app)
    # Outermost (added last): the input policy runs before anything reads the request.
    app.add_middleware(InputPolicyMiddleware)

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        """Liveness for load balancers (no database access); also the benchmark baseline."""
        return {"status": "ok"}

    if warm_search:
        context.startup_hooks.append(_warm_pages)
        context.startup_hooks.append(_warm_search)
    return app


SCHEMA_PREFIXES = ("/api/", "/feeds/")


def _schema_covers_api_only(app: FastAPI) -> None:
    """The OpenAPI document is the contract of the JSON API and the feeds: HTML pages and
    form posts never appear in it, whichever module declared them (and the schemas only they
    used go with them)."""
    generate = app.openapi

    def openapi() -> dict:
        doc = generate()
        paths = doc.get("paths", {})
        for path in [p for p in paths if not p.startswith(SCHEMA_PREFIXES)]:
            del paths[path]
        _drop_unused_schemas(doc)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _drop_unused_schemas(doc: dict) -> None:
    schemas = doc.get("components", {}).get("schemas", {})
    prefix = "#/components/schemas/"
    used: set[str] = set()
    todo: list = [doc.get("paths", {})]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref[len(prefix) :]
                if name not in used and name in schemas:
                    used.add(name)
                    todo.append(schemas[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    for name in [n for n in schemas if n not in used]:
        del schemas[name]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    context = app_context(app)
    for hook in list(context.startup_hooks):
        hook(app)
    try:
        yield
    finally:
        for hook in list(context.shutdown_hooks):
            try:
                hook(app)
            except Exception:  # noqa: BLE001 - one failing hook must not skip the others
                log.exception("shutdown hook %r failed", hook)


def _warm_pages(app: FastAPI) -> None:
    """Before the worker accepts connections, do the one-time work its first page views would
    otherwise pay for while clients wait (measured: tens of ms each): compile every template,
    import and run the LaTeX-to-MathML path, the Markdown renderer, and the paper page's SQL.
    Failures are logged, never fatal (an empty database has no paper to read)."""
    import time

    started = time.monotonic()
    try:
        env = app_context(app).templates.env
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)
        from paperwire.markup.mathrender import render_marked_math, render_math

        render_math("warm-up $x^2 + \\alpha$")
        render_marked_math("<mark>warm</mark>-up $x_1$")
        from paperwire.markup.markdown import render_comment

        render_comment("*warm-up*")
        from paperwire.store import listing

        with app_context(app).db.session() as session:
            listing.paper_with_entry(session, "0000.00000")
    except Exception:  # noqa: BLE001 - a cold first request is better than no server
        log.exception("page warm-up failed; the first requests will be slower")
    log.info("pages warmed up in %.0f ms", (time.monotonic() - started) * 1000)


MODEL_POLL_SECONDS = 2.0


def _warm_search(app: FastAPI) -> None:
    """Open (and build or refresh) the search indexes and load the embedding model in the
    background: the server answers at once."""
    context = app_context(app)

    def run():
        try:
            import time

            from paperwire.search.embed import prepared_elsewhere

            service = context.search()
            # On a first start `serve` prepares the model in another process; until it is
            # there, searches are keyword-only (and say so). Ask again every few seconds.
            while (
                service.semantic() is None
                and prepared_elsewhere()
                and service.semantic_error is None
            ):
                time.sleep(MODEL_POLL_SECONDS)
            if service.semantic() is not None:
                context.similar_ready.set()
        except Exception:  # noqa: BLE001 - search trouble must not stop the site
            log.exception("search service failed to start; search pages will say so")

    threading.Thread(target=run, name="search-warmup", daemon=True).start()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("paperwire")
    except Exception:  # noqa: BLE001
        return "0"


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory paperwire.web.app:app_from_env`` (each worker process
    builds its app from the PAPERWIRE_* environment)."""
    from paperwire.config import load_settings

    settings = load_settings()
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from paperwire.procs import watch_stalls

    watch_stalls(settings.stall_report_seconds)
    return create_app(settings, warm_search=True)
