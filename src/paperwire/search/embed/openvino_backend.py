"""The ``openvino-int8`` backend (the default): OpenVINO over the statically quantized model."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from paperwire.search.embed.base import TOKEN_BUDGET, Done, Job, TokenEncoder
from paperwire.search.embed.model import EmbeddingModelError, ModelSpec

# Encoders make their first run one at a time (OpenVinoEncoder._first_run).
_FIRST_RUN = threading.Lock()


class OpenVinoEncoder(TokenEncoder):
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

    def __init__(
        self,
        spec: ModelSpec,
        model_path: Path,
        *,
        backend: str,
        max_length: int,
        batch_size: int,
        threads: int,
        tail_tokens: int = 0,
        token_budget: int = TOKEN_BUDGET,
    ) -> None:
        import openvino as ov

        super().__init__(
            spec,
            backend=backend,
            max_length=max_length,
            batch_size=batch_size,
            tail_tokens=tail_tokens,
            token_budget=token_budget,
        )
        self._ov = ov
        self._core = ov.Core()
        self._model_path = model_path
        self._threads = threads
        self._streams = max(1, min(threads, 2))
        self._single = self._compile("LATENCY")  # now: a bad file must fail here, not later
        self._inputs = [i.get_any_name() for i in self._single.inputs]
        self._queue: Any = None  # the bulk queue, made on the first bulk encode
        self._idle_requests: list[Any] = []  # synchronous requests for single-run encodes
        self._first_run()

    def _first_run(self) -> None:
        """One query-sized run, before any other thread can use this encoder.

        OpenVINO's Python ``Tensor.data`` initializes a C++ function-local static on its first
        call in a process by running Python code (a numpy version check). The interpreter may
        hand the GIL to another thread in the middle of that; if that thread then reaches
        ``Tensor.data`` too, it waits on the static's guard while holding the GIL, and the
        initializing thread waits for the GIL: both hang for good. A web worker's first
        concurrent queries did that now and then (uvicorn's supervisor then killed the silent
        worker, its open requests lost). After one completed call the guard is never taken
        again, so the first call is made here, in the thread that loads the encoder (one
        encoder at a time: two loading at once in two threads would race the same way)."""
        with _FIRST_RUN:
            self.encode(["first run"])

    def _compile(self, hint: str) -> Any:
        config = {
            "PERFORMANCE_HINT": hint,
            "INFERENCE_NUM_THREADS": self._threads,
            # int8 where quantized, f32 elsewhere: bf16 would shift vectors by CPU model.
            "INFERENCE_PRECISION_HINT": "f32",
            # Not pinned to cores: web workers and jobs share this host's cores.
            "ENABLE_CPU_PINNING": False,
        }
        if hint == "THROUGHPUT":
            config["NUM_STREAMS"] = self._streams
        try:
            return self._core.compile_model(str(self._model_path), "CPU", config)
        except Exception as exc:  # noqa: BLE001 - any load failure means a bad file
            raise EmbeddingModelError(
                f"cannot load OpenVINO model {self._model_path}: {exc}"
            ) from exc

    def _infer(self, jobs: Iterable[Job], out: np.ndarray, done: Done) -> None:
        runs = iter(jobs)
        first = next(runs, None)
        if first is None:
            return
        second = next(runs, None)
        if second is None:
            self._infer_one(first[0], first[1], out)
            if done is not None:
                done(len(first[0]))
            return

        def finished(request: Any, idx: list[int]) -> None:
            out[idx] = request.get_output_tensor(0).data
            if done is not None:
                done(len(idx))

        with self._lock:  # the queue's callback and requests serve one bulk encode at a time
            if self._queue is None:
                self._queue = self._ov.AsyncInferQueue(self._compile("THROUGHPUT"), self._streams)
            queue = self._queue
            queue.set_callback(finished)
            try:
                for idx, feed in itertools.chain((first, second), runs):
                    queue.start_async({k: feed[k] for k in self._inputs}, idx)
            finally:
                queue.wait_all()

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
