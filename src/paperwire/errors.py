"""Exceptions that carry a message meant for the person at the keyboard."""


class PaperwireError(Exception):
    """An expected failure: the CLI prints ``error: <message>`` and exits non-zero;
    the web layer turns it into a JSON ``{error, detail}`` or an error page."""

    exit_code = 1


class NotFound(PaperwireError):
    """Something named by the user does not exist."""


class BadInput(PaperwireError):
    """Input that cannot be used as given; the message says what was wrong."""
