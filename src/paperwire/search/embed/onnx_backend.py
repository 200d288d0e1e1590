"""The ``onnx`` and ``onnx-int8`` backends: ONNX Runtime over the exported model."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from paperwire.errors import require_extra
from paperwire.search.embed.base import TOKEN_BUDGET, Done, Job, TokenEncoder
from paperwire.search.embed.model import EmbeddingModelError, ModelSpec


class OnnxEncoder(TokenEncoder):
    """ONNX Runtime session over an exported model (fp32, or dynamic int8 MatMuls), with
    intra-op threads = cores."""

    def __init__(
        self,
        spec: ModelSpec,
        onnx_path: Path,
        *,
        backend: str,
        max_length: int,
        batch_size: int,
        threads: int,
        tail_tokens: int = 0,
        token_budget: int = TOKEN_BUDGET,
    ) -> None:
        ort = require_extra("onnxruntime", "onnx", f"the {backend} embedding backend")
        super().__init__(
            spec,
            backend=backend,
            max_length=max_length,
            batch_size=batch_size,
            tail_tokens=tail_tokens,
            token_budget=token_budget,
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # No busy-waiting between ops: on a shared host (web workers, other jobs) spinning
        # threads steal the cores the next op needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(onnx_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - any load failure means a bad file
            raise EmbeddingModelError(f"cannot load ONNX model {onnx_path}: {exc}") from exc
        self._inputs = [i.name for i in self._session.get_inputs()]

    def _infer(self, jobs: Iterable[Job], out: np.ndarray, done: Done) -> None:
        for idx, feed in jobs:
            with self._lock:  # one run at a time (each uses every core); others interleave
                out[idx] = self._session.run(None, {k: feed[k] for k in self._inputs})[0]
            if done is not None:
                done(len(idx))
