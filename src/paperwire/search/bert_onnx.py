"""Build a BERT sentence encoder as an ONNX graph straight from its safetensors weights, with
numpy and ``onnx.helper`` only (no torch, no transformers).

The graph is the one ``torch.onnx.export`` wrote for Hugging Face's eager ``BertModel`` plus
sentence-transformers' pooling and normalization, node for node where it matters to the
int8 quantizer (MatMul with a constant [in, out] weight then Add of the bias, Q·Kᵀ scaled by
a Mul, the additive attention mask, erf GELU, LayerNormalization), without the shape
arithmetic torch traces (``Reshape`` with 0 = "keep this dimension" does the same).

Inputs ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64, [batch, tokens]); output
``embedding`` (float32, [batch, hidden], L2-normalized). Invariant: for the same tokens the
output equals sentence-transformers' normalized embedding up to float rounding (checked
against torch in tests/search/test_bert_onnx.py, cosine >= 0.999).

Supported: ``model_type`` "bert" with absolute positions and GELU, pooling mean, cls or max;
anything else raises ``UnsupportedModel`` (``onnx_export`` then needs the torch extra).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

OPSET = 17
# What Hugging Face adds to the scores of masked positions (torch.finfo(float32).min).
MASKED = float(np.finfo(np.float32).min)


class UnsupportedModel(Exception):
    """The model is not a plain BERT this builder knows; the message says what differs."""


def check_supported(config: dict[str, Any], weights_path: Path) -> None:
    """Raise ``UnsupportedModel`` unless ``build`` can reproduce this model exactly."""
    if weights_path.suffix != ".safetensors":
        raise UnsupportedModel(f"{weights_path.name} is not a safetensors file")
    wanted = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}
    for key, value in wanted.items():
        if config.get(key, value) != value:
            raise UnsupportedModel(f"config {key}={config.get(key)!r}, expected {value!r}")


def load_weights(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file, names without a leading ``bert.``."""
    from safetensors.numpy import load_file

    return {k.removeprefix("bert."): v for k, v in load_file(str(path)).items()}


class _Graph:
    """Collects nodes and initializers; every tensor name is unique (a running counter)."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def const(self, name: str, value: object) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, name: str, **attrs: Any) -> str:
        from onnx import helper

        self._n += 1
        out = f"{name}/{op_type}_{self._n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


def build(
    config: dict[str, Any], weights: dict[str, np.ndarray], pooling: str = "mean"
) -> onnx.ModelProto:
    """The ONNX ``ModelProto`` of the BERT in ``config``/``weights`` with ``pooling``."""
    from onnx import TensorProto, helper

    if pooling not in ("mean", "cls", "max"):
        raise UnsupportedModel(f"pooling {pooling!r}")
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    head_dim = hidden // heads
    g = _Graph()
    w = weights

    def tensor(key: str) -> str:
        if key not in w:
            raise UnsupportedModel(f"weights have no tensor {key!r}")
        return g.const(key, w[key].astype(np.float32))

    def linear(x: str, prefix: str) -> str:
        # nn.Linear as torch exports it: x @ Wᵀ (a constant [in, out]) then bias + that.
        if f"{prefix}.weight" not in w:
            raise UnsupportedModel(f"weights have no tensor {prefix + '.weight'!r}")
        weight = g.const(
            f"{prefix}.weight_t", np.ascontiguousarray(w[f"{prefix}.weight"].astype(np.float32).T)
        )
        return g.op(
            "Add", tensor(f"{prefix}.bias"), g.op("MatMul", x, weight, name=prefix), name=prefix
        )

    def layer_norm(x: str, prefix: str) -> str:
        return g.op(
            "LayerNormalization",
            x,
            tensor(f"{prefix}.weight"),
            tensor(f"{prefix}.bias"),
            name=prefix,
            axis=-1,
            epsilon=eps,
        )

    def ints(name: str, values: list[int]) -> str:
        return g.const(name, np.array(values, dtype=np.int64))

    def scalar(name: str, value: float) -> str:
        return g.const(name, np.array(value, dtype=np.float32))

    split_heads = ints("shape.split_heads", [0, 0, heads, head_dim])
    merge_heads = ints("shape.merge_heads", [0, 0, hidden])
    zero, one, minus_one = ints("axes.0", [0]), ints("axes.1", [1]), ints("axes.-1", [-1])
    one_f = scalar("one", 1.0)

    # Embeddings: words + token types + positions 0..tokens-1, then LayerNorm.
    x = g.op(
        "Add",
        g.op(
            "Gather",
            tensor("embeddings.word_embeddings.weight"),
            "input_ids",
            name="embeddings.word",
        ),
        g.op(
            "Gather",
            tensor("embeddings.token_type_embeddings.weight"),
            "token_type_ids",
            name="embeddings.type",
        ),
        name="embeddings",
    )
    tokens = g.op("Gather", g.op("Shape", "input_ids", name="embeddings"), one, name="embeddings")
    positions = g.op(
        "Slice",
        tensor("embeddings.position_embeddings.weight"),
        zero,
        tokens,
        zero,
        name="embeddings.position",
    )
    x = layer_norm(g.op("Add", x, positions, name="embeddings"), "embeddings.LayerNorm")

    # Additive mask [batch, 1, 1, tokens]: 0 where attended, MASKED where padded.
    mask = g.op("Cast", "attention_mask", name="mask", to=TensorProto.FLOAT)
    bias = g.op("Mul", g.op("Sub", one_f, mask, name="mask"), scalar("masked", MASKED), name="mask")
    bias = g.op("Unsqueeze", bias, ints("axes.1,2", [1, 2]), name="mask")

    scale = scalar("attention.scale", 1.0 / math.sqrt(head_dim))
    sqrt2 = scalar("gelu.sqrt2", math.sqrt(2.0))
    half = scalar("gelu.half", 0.5)
    for i in range(layers):
        p = f"encoder.layer.{i}"
        q = g.op(
            "Transpose",
            g.op("Reshape", linear(x, f"{p}.attention.self.query"), split_heads, name=p),
            name=p,
            perm=[0, 2, 1, 3],
        )
        k = g.op(
            "Transpose",
            g.op("Reshape", linear(x, f"{p}.attention.self.key"), split_heads, name=p),
            name=p,
            perm=[0, 2, 3, 1],
        )
        v = g.op(
            "Transpose",
            g.op("Reshape", linear(x, f"{p}.attention.self.value"), split_heads, name=p),
            name=p,
            perm=[0, 2, 1, 3],
        )
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k, name=p), scale, name=p), bias, name=p)
        context = g.op("MatMul", g.op("Softmax", scores, name=p, axis=-1), v, name=p)
        context = g.op(
            "Reshape", g.op("Transpose", context, name=p, perm=[0, 2, 1, 3]), merge_heads, name=p
        )
        x = layer_norm(
            g.op("Add", linear(context, f"{p}.attention.output.dense"), x, name=p),
            f"{p}.attention.output.LayerNorm",
        )
        h = linear(x, f"{p}.intermediate.dense")
        gelu = g.op("Add", g.op("Erf", g.op("Div", h, sqrt2, name=p), name=p), one_f, name=p)
        h = g.op("Mul", g.op("Mul", h, gelu, name=p), half, name=p)
        x = layer_norm(
            g.op("Add", linear(h, f"{p}.output.dense"), x, name=p), f"{p}.output.LayerNorm"
        )

    # Pooling as sentence-transformers does it, then L2 normalization (F.normalize).
    if pooling == "cls":
        pooled = g.op("Squeeze", g.op("Slice", x, zero, one, one, name="pool"), one, name="pool")
    else:
        m = g.op(
            "Cast",
            g.op("Unsqueeze", "attention_mask", minus_one, name="pool"),
            name="pool",
            to=TensorProto.FLOAT,
        )
        if pooling == "max":
            masked = g.op(
                "Sub",
                x,
                g.op(
                    "Mul", g.op("Sub", one_f, m, name="pool"), scalar("pool.big", 1e9), name="pool"
                ),
                name="pool",
            )
            pooled = g.op("ReduceMax", masked, name="pool", axes=[1], keepdims=0)
        else:
            total = g.op("ReduceSum", g.op("Mul", x, m, name="pool"), one, name="pool", keepdims=0)
            count = g.op(
                "Clip",
                g.op("ReduceSum", m, one, name="pool", keepdims=0),
                scalar("pool.min_count", 1e-9),
                name="pool",
            )
            pooled = g.op("Div", total, count, name="pool")
    norm = g.op(
        "Clip",
        g.op("ReduceL2", pooled, name="normalize", axes=[1], keepdims=1),
        scalar("normalize.eps", 1e-12),
        name="normalize",
    )
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"], name="embedding"))

    def int_input(name: str) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])

    graph = helper.make_graph(
        g.nodes,
        "sentence_encoder",
        [int_input("input_ids"), int_input("attention_mask"), int_input("token_type_ids")],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="paperwire"
    )
    model.ir_version = 8  # opset 17's IR; readable by every runtime we support
    return model


def build_from_dir(model_dir: Path, weights_path: Path, pooling: str) -> onnx.ModelProto:
    """``build`` for a sentence-transformers model directory (config.json + safetensors)."""
    config = json.loads((model_dir / "config.json").read_text())
    check_supported(config, weights_path)
    return build(config, load_weights(weights_path), pooling)
