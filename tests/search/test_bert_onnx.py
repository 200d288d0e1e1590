"""The ONNX graph built from the safetensors weights with numpy + onnx (search/bert_onnx.py)
gives sentence-transformers' embeddings, and exporting the default model needs no torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from paperwire.config import load_settings
from paperwire.search import bert_onnx
from paperwire.search.embed import resolve_model

REPO = Path(__file__).resolve().parents[2]
# Varied on purpose: empty, one word, unicode, math, code, a long abstract (truncated at the
# model's 256 tokens), so one batch mixes heavy padding with none.
TEXTS = [
    "",
    "transformers",
    "Neural machine translation with attention. We translate sentences from English to "
    "German with an encoder-decoder network that learns to align words.",
    "Über die Quantenmechanik — αβγ δ, ε → ∞; 量子计算 and naïve café.",
    "We prove that $\\sum_{n=1}^\\infty 1/n^2 = \\pi^2/6$ using Fourier series on [0, 2π].",
    "def f(x): return x ** 2  # SELECT * FROM papers WHERE id = 42;",
    "Surface codes protect logical qubits from decoherence and gate errors. " * 40,
    "A B C",
]


def _torch_or_skip():
    try:
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("PAPERWIRE_TEST_REQUIRE_TORCH") == "1":
            pytest.fail(
                "PAPERWIRE_TEST_REQUIRE_TORCH=1 but torch / sentence-transformers are "
                "not installed (pip install -e '.[dev]')"
            )
        pytest.skip("torch is not installed (the dev extra has it): nothing to compare with")


def _model_copy(tmp_path: Path, pooling: str) -> Path:
    """The packaged model directory with its pooling set to ``pooling``."""
    spec = resolve_model(load_settings(env={}))
    target = tmp_path / f"minilm-{pooling}"
    shutil.copytree(spec.path, target)
    modes = {f"pooling_mode_{m}": False for m in ("cls_token", "mean_tokens", "max_tokens")}
    modes[
        {
            "mean": "pooling_mode_mean_tokens",
            "cls": "pooling_mode_cls_token",
            "max": "pooling_mode_max_tokens",
        }[pooling]
    ] = True
    config = json.loads((target / "1_Pooling" / "config.json").read_text())
    (target / "1_Pooling" / "config.json").write_text(json.dumps({**config, **modes}))
    return target


def _run_graph(onnx_path: Path, spec, texts) -> np.ndarray:
    import openvino as ov
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(spec.path / "tokenizer.json"))
    tokenizer.enable_truncation(spec.max_seq_length)
    tokenizer.enable_padding()
    encodings = tokenizer.encode_batch([t or " " for t in texts])
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    model = ov.Core().compile_model(str(onnx_path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return model({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[
        0
    ]


@pytest.mark.slow
@pytest.mark.parametrize("pooling", ["mean", "cls", "max"])
def test_built_graph_gives_sentence_transformers_embeddings(pooling, tmp_path):
    _torch_or_skip()
    from sentence_transformers import SentenceTransformer

    path = _model_copy(tmp_path, pooling)
    spec = resolve_model(load_settings(env={}, embedding_model=str(path)))
    assert spec.pooling == pooling
    onnx_path = tmp_path / "model.onnx"
    import onnx

    onnx.save(bert_onnx.build_from_dir(spec.path, spec.weights, spec.pooling), str(onnx_path))
    ours = _run_graph(onnx_path, spec, TEXTS)
    st = SentenceTransformer(str(spec.path), device="cpu", local_files_only=True)
    st.max_seq_length = spec.max_seq_length
    theirs = st.encode([t or " " for t in TEXTS], normalize_embeddings=True)
    cosine = np.sum(ours * theirs, axis=1)
    assert cosine.min() >= 0.999, cosine
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def _without_torch(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where torch, transformers and
    sentence_transformers cannot be imported (as in a default install)."""
    prelude = (
        "import sys\n"
        "for name in ('torch', 'transformers', 'sentence_transformers'):\n"
        "    sys.modules[name] = None\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_default_model_exports_to_onnx_without_torch(tmp_path):
    done = _without_torch(
        f"""
        from pathlib import Path
        import openvino as ov
        from paperwire.config import load_settings
        from paperwire.search.embed import resolve_model
        from paperwire.search.onnx_export import export_onnx

        target = Path({str(tmp_path / "model.onnx")!r})
        export_onnx(resolve_model(load_settings(env={{}})), target, quantize=False)
        outputs = ov.Core().read_model(str(target)).outputs
        print(outputs[0].get_any_name(), outputs[0].get_partial_shape()[1])
    """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["embedding", "384"]


def test_other_architectures_ask_for_the_torch_extra(tmp_path):
    spec = resolve_model(load_settings(env={}))
    model = tmp_path / "roberta-like"
    shutil.copytree(spec.path, model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    done = _without_torch(
        f"""
        from pathlib import Path
        from paperwire.config import load_settings
        from paperwire.errors import PaperwireError
        from paperwire.search.embed import resolve_model
        from paperwire.search.onnx_export import export_onnx

        spec = resolve_model(load_settings(env={{}}, embedding_model={str(model)!r}))
        try:
            export_onnx(spec, Path("model.onnx"), quantize=False)
        except PaperwireError as exc:
            print(exc)
    """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'paperwire[torch]'" in done.stdout


def test_unsupported_configs_are_named():
    with pytest.raises(bert_onnx.UnsupportedModel, match="hidden_act='relu'"):
        bert_onnx.check_supported(
            {"model_type": "bert", "hidden_act": "relu"}, Path("model.safetensors")
        )
    with pytest.raises(bert_onnx.UnsupportedModel, match="pytorch_model.bin"):
        bert_onnx.check_supported({"model_type": "bert"}, Path("pytorch_model.bin"))
