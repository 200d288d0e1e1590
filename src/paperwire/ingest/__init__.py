"""Ingestion: fetch (network clients) -> parse (pure functions to PaperRecord) -> upsert (store)."""
