"""CLI commands of the digest area (filled in by that area)."""

COMMANDS: list = []
