"""Sentence embeddings of papers: the model, its offline loading and the fast encoders.

Contract used by the rest of search:

- ``get_encoder(settings) -> Encoder`` returns one process-wide encoder per model/backend.
- ``Encoder.model_id`` names the model *and* how it is run (weights hash, backend,
  quantization, truncation); it changes whenever stored vectors would change, so the
  embeddings table and the ANN index can tell stale vectors apart.
- ``Encoder.encode(texts) -> float32 (n, dim)`` rows are L2-normalized (cosine = dot product);
  ``encode_query(text) -> (dim,)``.
- ``paper_text(title, abstract)`` is exactly what gets embedded for a paper.

Modules: ``model`` (finding and verifying the model; model ids; what is embedded), ``base``
(the encoder contract, tokenization, batch planning), one module per backend
(``openvino_backend`` - the default, ``onnx_backend``, ``torch_backend``), ``export_cache``
(the exported models under ``DATA_DIR/models/``) and ``encoders`` (``get_encoder`` and the
cache of loaded encoders). Backends are imported when first used, so a process that never
embeds loads no inference runtime.
"""

from paperwire.search.embed.base import (
    TOKEN_BUDGET,
    Encoder,
    TokenEncoder,
    plan_batches,
    run_inputs,
)
from paperwire.search.embed.encoders import (
    ENCODERS,
    EncoderCache,
    clear_encoder_cache,
    encoder_key,
    get_encoder,
    model_ready,
)
from paperwire.search.embed.export_cache import (
    EXPORT_SHARE,
    clean_stale_exports,
    export_dir,
    export_finished,
    export_lock,
    exported_model_path,
    valid_export,
)
from paperwire.search.embed.model import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_MODEL_NAME,
    DEFAULT_MODEL_SHA256,
    EXPORT_RECIPE,
    PREPARED_ELSEWHERE_ENV,
    EmbeddingModelError,
    ModelNotReady,
    ModelSpec,
    default_model_dir,
    effective_max_length,
    effective_tail_tokens,
    make_model_id,
    model_id_for,
    paper_text,
    prepared_elsewhere,
    resolve_model,
    sha256_file,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_MODEL_NAME",
    "DEFAULT_MODEL_SHA256",
    "ENCODERS",
    "EXPORT_RECIPE",
    "EXPORT_SHARE",
    "PREPARED_ELSEWHERE_ENV",
    "TOKEN_BUDGET",
    "EmbeddingModelError",
    "Encoder",
    "EncoderCache",
    "ModelNotReady",
    "ModelSpec",
    "TokenEncoder",
    "clean_stale_exports",
    "clear_encoder_cache",
    "default_model_dir",
    "effective_max_length",
    "effective_tail_tokens",
    "encoder_key",
    "export_dir",
    "export_finished",
    "export_lock",
    "exported_model_path",
    "get_encoder",
    "make_model_id",
    "model_id_for",
    "model_ready",
    "paper_text",
    "plan_batches",
    "prepared_elsewhere",
    "resolve_model",
    "run_inputs",
    "sha256_file",
    "valid_export",
]


def __getattr__(name: str) -> object:
    # The backend classes load their runtimes' Python modules only when asked for.
    if name == "OnnxEncoder":
        from paperwire.search.embed.onnx_backend import OnnxEncoder

        return OnnxEncoder
    if name == "OpenVinoEncoder":
        from paperwire.search.embed.openvino_backend import OpenVinoEncoder

        return OpenVinoEncoder
    if name == "TorchEncoder":
        from paperwire.search.embed.torch_backend import TorchEncoder

        return TorchEncoder
    raise AttributeError(name)
