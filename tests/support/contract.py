"""What the API contract checks leave out when a test adds a valid token to a generated case.

schemathesis' negative cases may break a header, the ``Authorization`` header included.
The contract test and bench/fuzz.py send every case twice, anonymous and with a real token;
the token replaces whatever Authorization header the case carried, so a negative case whose
only flaw was its header becomes a valid request, and the server's 200 is right. The
anonymous send still applies every check to the case as generated.
"""

from __future__ import annotations

from typing import Any

from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection


def token_exclusions(case: Any, with_token: bool) -> list[Any]:
    """The checks to skip for ``case`` sent with a token: ``negative_data_rejection`` when
    the case's headers were generated negative; nothing otherwise (nor without a token)."""
    if not with_token:
        return []
    meta = getattr(case, "meta", None)
    components = getattr(meta, "components", None) or {}
    header = components.get(ParameterLocation.HEADER)
    if header is not None and header.mode is GenerationMode.NEGATIVE:
        return [negative_data_rejection]
    return []
