"""What every encoder backend shares: the ``Encoder`` contract, tokenization and runs.

Contract: ``Encoder.encode(texts) -> float32 (n, dim)`` rows are L2-normalized (cosine = dot
product); ``encode_query(text) -> (dim,)``; ``model_id`` as in model.py. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from paperwire.search.embed.model import ModelSpec, make_model_id

# Padded tokens per ONNX Runtime run (at most embed_batch_size texts as well). Small runs keep
# a layer's activations (~tokens x 1536 floats in the feed-forward block) in the CPU caches:
# at 256 tokens per abstract, 4 abstracts per run embed ~10 % faster than 8 and ~15 % faster
# than 32 on the 2-core benchmark machine (bench/embed.py, docs/benchmarks.md), while short
# texts still share a run with many others.
TOKEN_BUDGET = 1024

# A run for ``_infer``: (row indices, model inputs); ``Done(n)`` reports n rows finished.
Job = tuple[list[int], dict[str, np.ndarray]]
Done = Callable[[int], None] | None


class Encoder:
    """Turns texts into L2-normalized float32 vectors. Thread-safe."""

    model_id: str
    dim: int
    max_length: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        raise NotImplementedError

    def encode_query(self, text: str) -> np.ndarray:
        vec: np.ndarray = self.encode([text])[0]
        return vec


class TokenEncoder(Encoder):
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

    def __init__(
        self,
        spec: ModelSpec,
        *,
        backend: str,
        max_length: int,
        batch_size: int,
        tail_tokens: int = 0,
        token_budget: int = TOKEN_BUDGET,
    ) -> None:
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

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        texts = [t if t else " " for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        batch_size = max(1, batch_size or self.batch_size)
        encodings = [self._token_ids(e.ids) for e in self._tokenizer.encode_batch(texts)]
        runs = plan_batches([len(e) for e in encodings], batch_size, self.token_budget)
        bar: Any = None
        done: Done = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="paper", leave=False)

            def done(n: int) -> None:
                bar.update(n)

        try:
            self._infer(((idx, self._feed(encodings, idx)) for idx in runs), out, done)
        finally:
            if bar is not None:
                bar.close()
        return normalize(out)

    # Run widths are rounded up to a multiple of this (padding is masked: same vectors).
    pad_multiple = 1

    def _feed(self, encodings: list[list[int]], idx: list[int]) -> dict[str, np.ndarray]:
        return run_inputs(encodings, idx, self._pad_id, self.pad_multiple)

    def _infer(self, jobs: Iterable[Job], out: np.ndarray, done: Done) -> None:
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
        return ids[:head] + ids[len(ids) - self.tail_tokens - 1 :]


def run_inputs(
    encodings: Sequence[Sequence[int]], idx: Sequence[int], pad_id: int, pad_multiple: int = 1
) -> dict[str, np.ndarray]:
    """Model inputs for one run: the texts ``idx`` of ``encodings`` padded with ``pad_id`` to
    the run's longest (rounded up to a multiple of ``pad_multiple``), with the attention mask
    marking real tokens and all-zero token types."""
    width = max(len(encodings[i]) for i in idx)
    width = -(-width // pad_multiple) * pad_multiple
    ids = np.full((len(idx), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(idx), width), dtype=np.int64)
    for row, i in enumerate(idx):
        seq = encodings[i]
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
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


def normalize(vecs: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: np.ndarray = (vecs / norms).astype(np.float32, copy=False)
    return out
