"""``GET /api/docs``: the interactive API documentation (Swagger UI), served offline.

Swagger UI's files come from the ``fastapi-swagger`` package installed with Paperwire (its
``resources`` folder holds Swagger UI's dist bundle and stylesheet): nothing is fetched from a
CDN, so the page works without internet and under the site's CSP (``script-src 'self'``,
``style-src 'self'``). The page itself has no inline script: ``static/api-docs.js`` starts
Swagger UI on the OpenAPI document named by the page.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from paperwire.web.pages import page_response
from paperwire.web.static import CachedStatic

router = APIRouter(include_in_schema=False)

ASSETS_URL = "/static/swagger-ui"
ASSETS_PACKAGE = "fastapi_swagger"


@lru_cache(maxsize=1)
def assets_dir() -> Path:
    """Swagger UI's dist files (swagger-ui-bundle.js, swagger-ui.css) as installed."""
    return Path(str(resources.files(ASSETS_PACKAGE) / "resources"))


def asset_url(name: str) -> str:
    # The package version names the files' content: safe under the year-long static caching.
    return f"{ASSETS_URL}/{name}?v={metadata.version('fastapi-swagger')}"


def install(app: FastAPI) -> None:
    """Serve the assets under /static/swagger-ui/ (before the site's own /static mount, which
    would otherwise answer 404 for them)."""
    app.mount(ASSETS_URL, CachedStatic(directory=str(assets_dir())), name="swagger-ui")
    routes = app.router.routes
    routes.insert(0, routes.pop())


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    return page_response(
        request,
        "api_docs.html",
        {
            "page_title": "API",
            "openapi_url": request.app.openapi_url,
            "swagger_js": asset_url("swagger-ui-bundle.js"),
            "swagger_css": asset_url("swagger-ui.css"),
        },
    )
