"""CLI commands of the search area (filled in by that area)."""

COMMANDS: list = []
