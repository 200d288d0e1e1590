"""Static assets under /static with long-lived cache headers.

URLs carry a content-hash version (``pages.static_url``), so a changed file gets a new URL and
the year-long ``immutable`` caching is safe.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from paperwire.web.pages import STATIC_DIR

CACHE_CONTROL = "public, max-age=31536000, immutable"


class CachedStatic(StaticFiles):
    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response


def mount_static(app: FastAPI) -> None:
    app.mount("/static", CachedStatic(directory=str(STATIC_DIR)), name="static")
