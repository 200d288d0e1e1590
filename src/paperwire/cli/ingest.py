"""CLI commands of the ingest area (filled in by that area)."""

COMMANDS: list = []
