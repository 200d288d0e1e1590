"""Search: query parsing, lexical (BM25) and semantic (embeddings + ANN) retrieval, fusion."""
