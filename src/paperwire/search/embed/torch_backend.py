"""The ``torch`` backend: plain sentence-transformers, fp32 (the baseline; a fallback)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from paperwire.errors import require_extra
from paperwire.search.embed.base import Encoder
from paperwire.search.embed.model import (
    EmbeddingModelError,
    ModelSpec,
    force_offline,
    make_model_id,
)


class TorchEncoder(Encoder):
    """Plain sentence-transformers fp32 (the baseline, and a fallback backend)."""

    def __init__(self, spec: ModelSpec, *, max_length: int, batch_size: int, threads: int) -> None:
        force_offline()
        torch = require_extra("torch", "torch", "the torch embedding backend")
        require_extra("sentence_transformers", "torch", "the torch embedding backend")
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.spec = spec
        self.dim = spec.dim
        self.max_length = max_length
        self.batch_size = batch_size
        self.model_id = make_model_id(spec, "torch", max_length)
        try:
            self._model = SentenceTransformer(str(spec.path), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001
            raise EmbeddingModelError(f"cannot load model {spec.path}: {exc}") from exc
        self._model.max_seq_length = max_length
        self._lock = threading.Lock()

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(
                list(texts),
                batch_size=batch_size or self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)
