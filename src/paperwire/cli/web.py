"""CLI commands of the web area (filled in by that area)."""

COMMANDS: list = []
