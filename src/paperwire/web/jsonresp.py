"""JSON responses serialized by orjson (fast; dates and dataclasses handled natively).

A subclass of Starlette's ``JSONResponse`` so FastAPI documents what routes return with it
as JSON (the declared model), not as an opaque string."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse


class JSONResponse(_StarletteJSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
