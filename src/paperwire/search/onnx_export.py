"""Export a local sentence-transformers model to ONNX (pooling + normalization in the graph),
optionally with dynamic int8 quantization of its MatMul weights.

Runs once per model and backend (the result is cached by ``embed.exported_model_path``).
A plain BERT with safetensors weights (the packaged all-MiniLM-L6-v2) is built directly by
``bert_onnx`` with numpy and onnx, so serving needs neither torch nor transformers; any other
architecture is traced with torch, which then needs the ``torch`` extra. Invariant: the
exported graph's output equals sentence-transformers' normalized embedding for the same tokens
(up to float rounding; int8 quantization changes it slightly, measured in bench/embed.py).
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperwire.errors import PaperwireError, require_extra
from paperwire.search import bert_onnx

if TYPE_CHECKING:
    from paperwire.search.embed.model import ModelSpec

OPSET = bert_onnx.OPSET
log = logging.getLogger(__name__)


def export_onnx(spec: ModelSpec, target: Path, *, quantize: bool) -> None:
    """Write the model at ``spec.path`` to ``target`` (an .onnx file)."""
    fp32 = target.with_name("fp32.onnx") if quantize else target
    try:
        model = bert_onnx.build_from_dir(spec.path, spec.weights, spec.pooling)
    except bert_onnx.UnsupportedModel as why:
        log.info("%s is not a plain BERT (%s): tracing it with torch", spec.path, why)
        _export_with_torch(spec, fp32)
    else:
        import onnx

        onnx.save(model, str(fp32))
    if quantize:
        _quantize_dynamic(fp32, target)
        fp32.unlink()


def _quantize_dynamic(fp32: Path, target: Path) -> None:
    require_extra("onnxruntime", "onnx", "the onnx-int8 embedding backend")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel int8 weights on the MatMuls only: keeps cosine to fp32 ~0.995, where
    # per-tensor quantization of every op drops it to ~0.93 (bench/embed.py, docs).
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the quantizer logs one INFO line per tensor
    try:
        quantize_dynamic(
            str(fp32),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        root.setLevel(level)


def _export_with_torch(spec: ModelSpec, fp32: Path) -> None:
    """Trace a model bert_onnx cannot build with torch.onnx (needs the torch extra)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    torch = require_extra(
        "torch", "torch", f"exporting {spec.path} (not a plain BERT with safetensors weights)"
    )
    require_extra("transformers", "torch", f"exporting {spec.path}")
    from transformers import AutoModel

    try:
        model = AutoModel.from_pretrained(
            str(spec.path), local_files_only=True, attn_implementation="eager"
        )
    except Exception as exc:  # noqa: BLE001
        raise PaperwireError(f"cannot load {spec.path} with transformers: {exc}") from exc
    model.eval()
    takes_types = "token_type_ids" in inspect.signature(model.forward).parameters
    pooling = spec.pooling

    # torch comes from require_extra (Any), so its Module is an Any base class to mypy.
    module: Any = torch.nn.Module

    class Pooled(module):  # type: ignore[misc]
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            kwargs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            hidden = self.inner(**kwargs).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            if pooling == "cls":
                pooled = hidden[:, 0]
            elif pooling == "max":
                pooled = (hidden - (1.0 - mask) * 1e9).max(dim=1).values
            else:
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    wrapper = Pooled(model)
    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones(2, 16, dtype=torch.long)
    args = (ids, mask) + ((torch.zeros(2, 16, dtype=torch.long),) if takes_types else ())
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if takes_types else [])
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["embedding"] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            args,
            str(fp32),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
