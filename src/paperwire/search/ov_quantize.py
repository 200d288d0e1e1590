"""Static int8 quantization of an exported fp32 ONNX encoder for OpenVINO (NNCF post-training
quantization), calibrated on the arXiv abstracts that ship with Paperwire's demo data.

Runs once per model (the result is cached by ``embed.exported_model_path``); needs openvino
and nncf only then. Why static rather than ONNX Runtime's dynamic int8: activation scales are
fixed by calibration, so no per-run min/max pass over every activation, the attention
matmuls run in int8 as well, and a text's vector no longer depends on which texts share its
run. On the 2-core benchmark machine it embeds ~1.3x faster than dynamic int8 at the same
tokens with a smaller quality loss (bench/embed.py, docs/benchmarks.md).

Invariant: the calibration input is fixed (the packaged sample, tokenized at the model's own
limit), so every export of the same weights with the same library versions gives the same
model.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import numpy as np

# Calibration runs are planned like the encoder's own: at most 32 texts and 1,024 padded
# tokens per run (NNCF averages per-run activation ranges, so the grouping matters a little).
CALIBRATION_TEXTS_PER_RUN = 32
CALIBRATION_TOKEN_BUDGET = 1024


def calibration_texts() -> list[str]:
    """Title + abstract of every record of the packaged arXiv sample (demo data)."""
    from paperwire.search.embed import paper_text

    source = resources.files("paperwire") / "demo" / "arxiv_sample.jsonl"
    texts = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            texts.append(paper_text(record.get("title"), record.get("abstract")))
    return texts


def calibration_feeds(
    tokenizer_path: Path, max_length: int, input_names: list[str]
) -> list[dict[str, np.ndarray]]:
    """Model inputs for the calibration texts: runs of similar length, padded per run."""
    from tokenizers import Tokenizer

    from paperwire.search.embed import plan_batches, run_inputs

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(max_length)
    tokenizer.no_padding()
    pad = tokenizer.token_to_id("[PAD]") or 0
    encodings = [e.ids for e in tokenizer.encode_batch(calibration_texts())]
    feeds = []
    for run in plan_batches(
        [len(e) for e in encodings], CALIBRATION_TEXTS_PER_RUN, CALIBRATION_TOKEN_BUDGET
    ):
        feed = run_inputs(encodings, run, pad)
        feeds.append({name: feed[name] for name in input_names})
    return feeds


# NNCF reads the calibration set twice with this recipe: once for Smooth Quant's statistics,
# once for the quantizers' ranges and Fast Bias correction. Those reads are nearly all the
# time of a quantization (the algorithms themselves take a few seconds), so progress is
# reported as calibration runs done out of CALIBRATION_PASSES x runs.
CALIBRATION_PASSES = 2


class _Counted:
    """The calibration feeds, calling ``progress(fraction)`` as NNCF consumes them."""

    def __init__(
        self, feeds: list[dict[str, np.ndarray]], progress: Callable[[float], object]
    ) -> None:
        self.feeds, self.progress = feeds, progress
        self.total = max(1, CALIBRATION_PASSES * len(feeds))
        self.used = 0

    def __len__(self) -> int:
        return len(self.feeds)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for feed in self.feeds:
            yield feed
            self.used += 1
            self.progress(min(0.99, self.used / self.total))


def quantize_for_openvino(
    fp32_onnx: Path,
    target_xml: Path,
    *,
    tokenizer_path: Path,
    max_length: int,
    progress: Callable[[float], object] | None = None,
) -> None:
    """Write an int8 OpenVINO model (``target_xml`` + its .bin) quantized from ``fp32_onnx``;
    ``progress(fraction)`` (0..1), when given, follows the work."""
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(fp32_onnx))
    feeds = calibration_feeds(tokenizer_path, max_length, [i.get_any_name() for i in model.inputs])
    source = _Counted(feeds, progress) if progress is not None else feeds
    nncf_log = logging.getLogger("nncf")
    level = nncf_log.level
    nncf_log.setLevel(logging.WARNING)  # NNCF logs a line per step and draws progress bars
    try:
        # TRANSFORMER keeps the patterns int8 hurts (layer norms, softmax inputs) in float;
        # MIXED: symmetric weights, asymmetric activations (GELU output is not centred).
        quantized = nncf.quantize(
            model,
            nncf.Dataset(source),
            model_type=nncf.ModelType.TRANSFORMER,
            preset=nncf.QuantizationPreset.MIXED,
            subset_size=len(feeds),
        )
    finally:
        nncf_log.setLevel(level)
    ov.save_model(quantized, str(target_xml))
    if progress is not None:
        progress(1.0)
