"""The embedding model: offline loading of the packaged weights, verification, the export
cache, and that the fast encoders agree with plain sentence-transformers."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from paperwire.config import load_settings
from paperwire.errors import PaperwireError
from paperwire.search import embed
from paperwire.search.embed import (
    DEFAULT_MODEL_SHA256,
    EmbeddingModelError,
    get_encoder,
    paper_text,
    resolve_model,
)
from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)


@pytest.mark.parametrize(
    "title, abstract, expected",
    [
        (
            "Attention is all you need",
            "We propose the Transformer.",
            "Attention is all you need. We propose the Transformer.",
        ),
        ("Why?", "Because.", "Why? Because."),
        ("  Spaced\n  title ", " abstract\twith\n tabs ", "Spaced title. abstract with tabs"),
        ("Only title", "", "Only title"),
        ("", "Only abstract", "Only abstract"),
        (None, None, ""),
    ],
)
def test_paper_text_joins_title_and_abstract(title, abstract, expected):
    assert paper_text(title, abstract) == expected


def test_default_model_is_the_verified_packaged_minilm():
    spec = resolve_model(load_settings(env={}))
    assert spec.weights_sha256 == DEFAULT_MODEL_SHA256
    assert spec.name == "all-MiniLM-L6-v2"
    assert spec.dim == 384 and spec.pooling == "mean" and spec.max_seq_length == 256


def test_encoder_returns_normalized_float32_rows_in_input_order(encoder):
    texts = ["short", "a much longer text about protein folding and structure " * 5, "galaxy"]
    vecs = encoder.encode(texts, batch_size=2)
    assert vecs.shape == (3, encoder.dim) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    # Length-sorted batching must not reorder rows: each row matches its text encoded alone
    # (static int8 scales do not depend on batch-mates; unrelated texts are far below 0.9).
    for text, row in zip(texts, vecs):
        assert float(row @ encoder.encode_query(text)) > 0.999
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_similar_meanings_are_closer_than_unrelated_ones(encoder):
    q = encoder.encode_query("how do proteins fold into 3D structures")
    near = encoder.encode_query("predicting protein tertiary structure from sequence")
    far = encoder.encode_query("stock market volatility during elections")
    assert float(q @ near) > float(q @ far) + 0.2


def test_model_id_names_model_weights_backend_and_truncation(encoder):
    assert encoder.model_id == "all-MiniLM-L6-v2@53aa51172d14/openvino-int8/L176t64"
    assert len(encoder.model_id) <= 128  # fits embeddings.model


def test_fast_encoder_agrees_with_sentence_transformers_fp32(encoder):
    settings = load_settings(env={})
    baseline = get_encoder(settings, backend="torch")
    assert baseline.model_id != encoder.model_id
    texts = [
        paper_text(
            "Graph neural networks for molecules",
            "We learn molecular properties with message passing networks.",
        ),
        paper_text("Dark energy constraints", "Supernova distances constrain w."),
    ]
    cos = np.sum(baseline.encode(texts) * encoder.encode(texts), axis=1)
    assert np.all(cos > 0.97), cos


def test_nothing_is_downloaded_offline_flags_are_set(encoder):
    import os

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert os.environ.get("TRANSFORMERS_OFFLINE") == "1"


def test_bogus_model_path_gives_a_clear_error(tmp_path):
    bogus = tmp_path / "no-such-model"
    settings = load_settings(env={"PAPERWIRE_EMBEDDING_MODEL": str(bogus)}, data_dir=tmp_path)
    with pytest.raises(EmbeddingModelError) as err:
        get_encoder(settings)
    assert "PAPERWIRE_EMBEDDING_MODEL" in str(err.value) and str(bogus) in str(err.value)
    assert isinstance(err.value, PaperwireError)


def test_directory_without_weights_is_refused(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    settings = load_settings(env={}, embedding_model=str(tmp_path / "model"))
    with pytest.raises(EmbeddingModelError, match="model.safetensors"):
        resolve_model(settings)


def test_tampered_default_weights_are_refused(tmp_path, monkeypatch):
    fake = tmp_path / "model"
    fake.mkdir()
    real = embed.default_model_dir()
    for name in ("config.json", "tokenizer.json", "sentence_bert_config.json", "modules.json"):
        shutil.copy(real / name, fake / name)
    (fake / "model.safetensors").write_bytes(b"not the official weights")
    monkeypatch.setattr(embed.model, "default_model_dir", lambda: fake)
    with pytest.raises(EmbeddingModelError, match=DEFAULT_MODEL_SHA256):
        resolve_model(load_settings(env={}))


def test_bad_backend_name_is_refused():
    with pytest.raises(EmbeddingModelError, match="openvino-int8, onnx-int8, onnx, torch"):
        get_encoder(load_settings(env={}, embedding_backend="gpu-magic"))


def test_other_local_model_directory_is_used_by_name(tmp_path, encoder):
    # A copy (by symlinks) of the packaged model under another name stands for "another
    # local model": it loads, and its model_id carries the directory name.
    other = tmp_path / "my-local-minilm"
    real = embed.default_model_dir()
    shutil.copytree(real, other, copy_function=lambda s, d: Path(d).symlink_to(s))
    settings = load_settings(env={}, data_dir=tmp_path / "data", embedding_model=str(other))
    # Same weights: the ONNX export of the session encoder is not reused across data dirs,
    # so keep this on the cheap torch backend.
    enc = get_encoder(settings, backend="torch")
    assert enc.model_id.startswith("my-local-minilm@53aa51172d14/torch/")
    vec = enc.encode_query("protein folding")
    assert float(vec @ encoder.encode_query("protein folding")) > 0.97


def _manifest(folder, entry, **digests):
    (folder / "manifest.json").write_text(json.dumps({"entry": entry, "files": digests}))


def test_export_cache_with_a_bad_checksum_is_not_trusted(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"onnx bytes")
    _manifest(folder, "model.onnx", **{"model.onnx": "0" * 64})
    assert embed.valid_export(folder) is None
    _manifest(folder, "model.onnx", **{"model.onnx": embed.sha256_file(folder / "model.onnx")})
    assert embed.valid_export(folder) == folder / "model.onnx"
    (folder / "model.onnx").write_bytes(b"onnx bytes, truncated")
    assert embed.valid_export(folder) is None


@pytest.mark.parametrize(
    "damage",
    ["delete weights", "change weights", "entry not listed", "old manifest", "manifest not json"],
)
def test_export_cache_is_trusted_only_when_every_listed_file_is_intact(tmp_path, damage):
    # An OpenVINO export is two files (graph .xml, weights .bin): both must match.
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "model.xml").write_bytes(b"<net/>")
    (folder / "model.bin").write_bytes(b"weights")
    digests = {n: embed.sha256_file(folder / n) for n in ("model.xml", "model.bin")}
    _manifest(folder, "model.xml", **digests)
    assert embed.valid_export(folder) == folder / "model.xml"
    if damage == "delete weights":
        (folder / "model.bin").unlink()
    elif damage == "change weights":
        (folder / "model.bin").write_bytes(b"weightz")
    elif damage == "entry not listed":
        _manifest(folder, "model.xml", **{"model.bin": digests["model.bin"]})
    elif damage == "old manifest":  # recipe v1 listed one sha256 for model.onnx
        (folder / "manifest.json").write_text(json.dumps({"sha256": digests["model.xml"]}))
    else:
        (folder / "manifest.json").write_text("{not json")
    assert embed.valid_export(folder) is None


@pytest.mark.slow
def test_corrupt_onnx_cache_is_rebuilt_with_a_logged_message(tmp_path, caplog, encoder):
    settings = load_settings(env={}, data_dir=tmp_path, embedding_backend="onnx")
    spec = resolve_model(settings)
    path = embed.exported_model_path(settings, spec, "onnx")
    good = embed.sha256_file(path)
    with open(path, "r+b") as fh:  # flip bytes in the middle of the file
        fh.seek(path.stat().st_size // 2)
        fh.write(b"\x00" * 64)
    with caplog.at_level(logging.WARNING, logger="paperwire.search.embed"):
        again = embed.exported_model_path(settings, spec, "onnx")
    assert "corrupt" in caplog.text
    assert embed.sha256_file(again) == good


def test_default_encoder_reads_176_tokens_head_and_tail(encoder):
    assert encoder.max_length == 176 and encoder.tail_tokens == 64
    assert encoder.model_id.endswith("/L176t64")


def test_full_length_setting_reads_the_models_256_tokens(model_data_dir):
    enc = get_encoder(
        load_settings(env={}, data_dir=model_data_dir, embed_max_tokens=0, embed_tail_tokens=0)
    )
    assert enc.max_length == 256 and enc.tail_tokens == 0
    assert enc.model_id.endswith("/openvino-int8/L256")


def test_long_text_keeps_its_beginning_and_end_and_drops_the_middle(model_data_dir):
    # Head + tail truncation: the first tokens and the last embed_tail_tokens survive, the
    # middle of an over-long abstract does not reach the model.
    encoder = get_encoder(
        load_settings(env={}, data_dir=model_data_dir, embed_max_tokens=192, embed_tail_tokens=64)
    )
    assert encoder.max_length == 192 and encoder.tail_tokens == 64
    assert "/L192t64" in encoder.model_id
    head = "Protein folding is predicted from sequence by a deep network. " * 16  # > 127
    # > 64 tokens: longer than the tail window, so no middle token is in it.
    tail = " We conclude that the predicted structures match experiments closely." * 8
    middle_a = "The training data come from the protein data bank. " * 10
    middle_b = "Galaxies formed early in cosmological simulations of dark matter. " * 10
    other_tail = " Stock markets were volatile during the elections studied here."
    a, b, c = (
        encoder.encode([head + middle_a + tail]),
        encoder.encode([head + middle_b + tail]),
        encoder.encode([head + middle_a + other_tail]),
    )
    assert np.allclose(a, b, atol=1e-6)
    assert float(a[0] @ c[0]) < 0.999
    ids = list(range(1000, 1300))
    kept = encoder._token_ids(ids)
    assert len(kept) == 192 and kept[:127] == ids[:127] and kept[127:] == ids[-65:]
    short = list(range(50))
    assert encoder._token_ids(short) == short


@pytest.mark.parametrize(
    "lengths, max_texts, budget, expected",
    [
        ([], 32, 1024, []),
        ([5], 32, 1024, [[0]]),
        # Runs come in ascending length order, whatever the input order.
        ([30, 10, 20], 32, 1024, [[1, 2, 0]]),
        # At most max_texts texts per run.
        ([10, 10, 10, 10, 10], 2, 1024, [[0, 1], [2, 3], [4]]),
        # Padded tokens (texts x longest) stay within the budget: 4 x 256 = 1024 fits, 5 does not.
        ([256] * 5, 32, 1024, [[0, 1, 2, 3], [4]]),
        # Short texts share a run; the long ones start new runs once the padding would exceed it.
        ([8, 8, 8, 300, 8], 32, 1024, [[0, 1, 2, 4], [3]]),
        ([100, 200, 300, 400], 32, 600, [[0, 1], [2], [3]]),
        # A text longer than the budget still runs (alone).
        ([2000, 3], 32, 1024, [[1], [0]]),
    ],
)
def test_batches_are_length_sorted_runs_within_text_and_token_limits(
    lengths, max_texts, budget, expected
):
    runs = embed.plan_batches(lengths, max_texts, budget)
    assert runs == expected
    assert sorted(i for run in runs for i in run) == list(range(len(lengths)))


def test_token_budget_changes_speed_not_meaning(model_data_dir):
    # The same texts embedded in many small runs or one big run agree (static int8 scales
    # do not depend on the run; float sums differ in order, so not bit-for-bit) and keep
    # their input order.
    from tests.search.embed_fixtures import TOPICS

    texts = [paper_text(t, a) for t, a in TOPICS.values()] + ["galaxy", "qubits " * 300]
    enc = get_encoder(load_settings(env={}, data_dir=model_data_dir))
    default = enc.encode(texts)
    budget = enc.token_budget
    try:
        enc.token_budget = 16  # below every text: one text per run
        small = enc.encode(texts)
        enc.token_budget = 10**6
        big = enc.encode(texts)
    finally:
        enc.token_budget = budget
    for other in (small, big):
        cos = np.sum(default * other, axis=1)
        assert np.all(cos > 0.999), cos


@pytest.mark.parametrize("backend", ["openvino-int8", "onnx-int8"])
def test_int8_embeddings_stay_close_to_fp32_on_topic_texts(backend, model_data_dir):
    # Calibrated static int8 (OpenVINO) and per-channel dynamic int8 (ONNX Runtime) keep each
    # fixture paper within cosine 0.98 of plain sentence-transformers fp32 (per-tensor
    # dynamic quantization fell to ~0.90 on some texts).
    from tests.search.embed_fixtures import TOPICS

    texts = [paper_text(t, a) for t, a in TOPICS.values()]
    settings = load_settings(env={}, data_dir=model_data_dir)
    baseline = get_encoder(settings, backend="torch")
    cos = np.sum(
        baseline.encode(texts) * get_encoder(settings, backend=backend).encode(texts), axis=1
    )
    assert np.all(cos >= 0.98), cos


@pytest.mark.parametrize("backend", ["openvino-int8", "onnx-int8"])
def test_query_is_answered_while_a_bulk_encode_runs_in_another_thread(backend, model_data_dir):
    # A web worker embeds papers in a background thread and encodes queries in its request
    # threads with the same encoder: a query waits at most for one run, never for the whole
    # bulk encode (the bulk thread must still be running when the query has its vector).
    import threading

    enc = get_encoder(load_settings(env={}, data_dir=model_data_dir), backend=backend)
    bulk_texts = ["Protein folding is predicted from sequence by deep networks. " * 40] * 1500
    started, bulk_runs = threading.Event(), []
    feed = enc._feed

    def watched_feed(encodings, idx):
        # Runs' inputs are built lazily as the bulk encode goes: by the third, it is running.
        if len(encodings) == len(bulk_texts):
            bulk_runs.append(idx)
            if len(bulk_runs) == 3:
                started.set()
        return feed(encodings, idx)

    enc._feed = watched_feed
    bulk = {}
    worker = threading.Thread(target=lambda: bulk.setdefault("vecs", enc.encode(bulk_texts)))
    try:
        worker.start()
        assert started.wait(60)
        query = enc.encode_query("galaxy formation in the early universe")
        still_running = worker.is_alive()
        worker.join(600)
    finally:
        del enc._feed
    assert still_running, "the query waited for the whole bulk encode"
    assert query.shape == (enc.dim,) and abs(float(np.linalg.norm(query)) - 1) < 1e-4
    assert bulk["vecs"].shape == (len(bulk_texts), enc.dim)


FIRST_QUERIES = """
import faulthandler, sys, threading
from paperwire.config import load_settings
from paperwire.search.embed import get_encoder

faulthandler.dump_traceback_later(60, exit=True)  # a hang prints every thread and fails
enc = get_encoder(load_settings(env={}, data_dir=sys.argv[1]), backend=sys.argv[2])
# Hand the interpreter lock over at every chance, so that threads interleave everywhere.
sys.setswitchinterval(1e-6)
barrier = threading.Barrier(12)

def query(i):
    barrier.wait()
    enc.encode_query(f"first queries of a new web worker, number {i}")

threads = [threading.Thread(target=query, args=(i,)) for i in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("answered")
"""


@pytest.mark.parametrize("backend", ["openvino-int8", "onnx-int8"])
def test_a_new_processes_first_queries_at_once_never_hang(backend, model_data_dir):
    # A web worker's first queries arrive together. OpenVINO's Tensor.data initializes a C++
    # static on its first call in a process by running Python code; a second thread reaching
    # it meanwhile waited on the static holding the GIL: a hang (uvicorn's supervisor killed
    # the worker). A fresh process, since the static lives once per process.
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", FIRST_QUERIES, str(model_data_dir), backend],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0 and "answered" in proc.stdout, proc.stderr[-3000:]
