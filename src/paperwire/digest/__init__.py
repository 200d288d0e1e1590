"""Email digests: compose (pure) -> render (text + HTML) -> send (SMTP or .eml files),
with the exactly-once delivery ledger in ``store/deliveries.py``."""
