"""Loading encoders: ``get_encoder(settings)`` and the cache of loaded ones.

A loaded encoder holds a compiled model (tens to hundreds of MB, seconds to load), so a
process loads each (model, backend, token limits, threads) once and shares it between
threads: ``EncoderCache`` is that cache as an object. ``ENCODERS`` is the process's
instance, used by ``get_encoder`` unless another cache is passed (tests isolate themselves
with ``ENCODERS.isolated()``).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from paperwire.config import Settings
from paperwire.search.embed.base import Encoder
from paperwire.search.embed.export_cache import export_dir, export_finished, exported_model_path
from paperwire.search.embed.model import (
    BACKENDS,
    DEFAULT_BACKEND,
    EmbeddingModelError,
    ModelNotReady,
    ModelSpec,
    cores,
    effective_max_length,
    effective_tail_tokens,
    force_offline,
    prepared_elsewhere,
    resolve_model,
)

if TYPE_CHECKING:
    from paperwire.search.embed.onnx_backend import OnnxEncoder
    from paperwire.search.embed.openvino_backend import OpenVinoEncoder

log = logging.getLogger(__name__)

EncoderKey = tuple[str, str, int, int, int]


def encoder_key(settings: Settings, backend: str) -> EncoderKey:
    """What makes two loaded encoders different (settings that change the vectors or the
    threads a model is compiled for)."""
    threads = int(settings.embed_threads or 0) or cores()
    return (
        str(settings.embedding_model or ""),
        backend,
        int(settings.embed_max_tokens or 0),
        int(settings.embed_tail_tokens or 0),
        threads,
    )


class EncoderCache:
    """Loaded encoders by ``encoder_key``. Thread-safe; ``lock`` is held by ``get_encoder``
    while it loads one, so a model is loaded once (the cache's own operations never wait for
    a load: a load may wait minutes for another process's export)."""

    def __init__(self) -> None:
        self._encoders: dict[EncoderKey, Encoder] = {}
        self._mutex = threading.Lock()
        self.lock = threading.Lock()

    def get(self, key: EncoderKey) -> Encoder | None:
        with self._mutex:
            return self._encoders.get(key)

    def put(self, key: EncoderKey, encoder: Encoder) -> None:
        with self._mutex:
            self._encoders[key] = encoder

    def clear(self) -> None:
        with self._mutex:
            self._encoders.clear()

    @contextlib.contextmanager
    def isolated(self) -> Iterator[EncoderCache]:
        """Empty for the block (as in a fresh process), then as before."""
        with self._mutex:
            saved, self._encoders = self._encoders, {}
        try:
            yield self
        finally:
            with self._mutex:
                self._encoders = saved


ENCODERS = EncoderCache()


def _backend(settings: Settings, backend: str | None) -> str:
    return backend or settings.embedding_backend or DEFAULT_BACKEND


def model_ready(
    settings: Settings, backend: str | None = None, *, cache: EncoderCache = ENCODERS
) -> bool:
    """Whether ``get_encoder`` can load the model without exporting it: the torch backend, an
    encoder already loaded in this process, or a finished export folder. False when the model
    cannot be found at all."""
    backend = _backend(settings, backend)
    if backend == "torch" or cache.get(encoder_key(settings, backend)) is not None:
        return True
    try:
        spec = resolve_model(settings)
    except EmbeddingModelError:
        return False
    return export_finished(export_dir(settings, spec, backend))


def get_encoder(
    settings: Settings,
    *,
    backend: str | None = None,
    export: bool | None = None,
    cache: EncoderCache = ENCODERS,
) -> Encoder:
    """The encoder for the configured model and backend (loaded once per ``cache``).

    ``export``: whether this call may make a missing export itself (minutes of work). False
    raises ``ModelNotReady`` at once instead; the default is True except in the processes of
    ``paperwire serve``, whose preparation process makes it (``PREPARED_ELSEWHERE_ENV``)."""
    force_offline()
    backend = _backend(settings, backend)
    if backend not in BACKENDS:
        raise EmbeddingModelError(
            f"PAPERWIRE_EMBEDDING_BACKEND={backend!r}: expected one of " + ", ".join(BACKENDS)
        )
    key = encoder_key(settings, backend)
    if export is None:
        export = not prepared_elsewhere()
    if not export and not model_ready(settings, backend, cache=cache):
        resolve_model(settings)  # a model that cannot be found is an error, not "not ready"
        from paperwire.search.prepare import FAILED_FILE

        failed = Path(settings.data_dir) / "models" / FAILED_FILE
        if failed.is_file():
            raise EmbeddingModelError(
                "preparing the embedding model failed ("
                + failed.read_text().strip()
                + "); see the log"
            )
        raise ModelNotReady("the embedding model is still being prepared (first start)")
    with cache.lock:
        encoder = cache.get(key)
        if encoder is None:
            encoder = _load(settings, backend, key[-1], export=export)
            cache.put(key, encoder)
        return encoder


def _load(settings: Settings, backend: str, threads: int, *, export: bool) -> Encoder:
    spec = resolve_model(settings)
    max_length = effective_max_length(settings, spec)
    if backend == "torch":
        from paperwire.search.embed.torch_backend import TorchEncoder

        return TorchEncoder(
            spec, max_length=max_length, batch_size=settings.embed_batch_size, threads=threads
        )
    path = exported_model_path(settings, spec, backend)
    try:
        return _load_exported(settings, spec, backend, path, max_length, threads)
    except EmbeddingModelError:
        # The cached files passed their checksums yet do not load (e.g. written by an
        # incompatible runtime version): export again once.
        log.warning("cached model %s does not load; exporting it again", path)
        shutil.rmtree(path.parent, ignore_errors=True)
        if not export:
            raise ModelNotReady(
                "the cached embedding model did not load; it is prepared again"
            ) from None
        return _load_exported(
            settings,
            spec,
            backend,
            exported_model_path(settings, spec, backend),
            max_length,
            threads,
        )


def _load_exported(
    settings: Settings, spec: ModelSpec, backend: str, path: Path, max_length: int, threads: int
) -> Encoder:
    tail = effective_tail_tokens(settings, max_length)
    # Each backend module is imported only when chosen (openvino is heavy to load).
    cls: type[OnnxEncoder] | type[OpenVinoEncoder]
    if backend == "openvino-int8":
        from paperwire.search.embed.openvino_backend import OpenVinoEncoder as cls
    else:
        from paperwire.search.embed.onnx_backend import OnnxEncoder as cls
    return cls(
        spec,
        path,
        backend=backend,
        max_length=max_length,
        batch_size=settings.embed_batch_size,
        threads=threads,
        tail_tokens=tail,
    )


def clear_encoder_cache() -> None:
    """Forget loaded encoders (tests; a changed model setting in a long-lived process)."""
    ENCODERS.clear()
