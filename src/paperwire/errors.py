"""Exceptions that carry a message meant for the person at the keyboard."""


class PaperwireError(Exception):
    """An expected failure: the CLI prints ``error: <message>`` and exits non-zero;
    the web layer turns it into a JSON ``{error, detail}`` or an error page."""

    exit_code = 1


class NotFound(PaperwireError):
    """Something named by the user does not exist."""


class BadInput(PaperwireError):
    """Input that cannot be used as given; the message says what was wrong."""


class SemanticUnavailable(BadInput):
    """Semantic search cannot answer; ``preparing`` is True while its model is still being
    prepared (it will answer later), False when it failed (the message says why)."""

    def __init__(self, message: str, *, preparing: bool) -> None:
        super().__init__(message)
        self.preparing = preparing


class MissingExtra(PaperwireError):
    """A feature needs an optional dependency group that is not installed; the message names
    the ``pip install 'paperwire[extra]'`` that brings it."""


def require_extra(module: str, extra: str, purpose: str):
    """Import and return ``module``, or raise ``MissingExtra`` naming ``extra``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"{purpose} needs the optional '{extra}' dependencies ({module} is "
            f"not installed): pip install 'paperwire[{extra}]' (make test "
            "installs them)"
        ) from exc
