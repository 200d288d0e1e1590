"""Shared fixtures of the semantic-search tests: one real encoder per test session (the
packaged all-MiniLM-L6-v2, exported and quantized once into a session directory), and a few
papers on clearly different topics."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperwire.config import load_settings
from paperwire.search.embed import DEFAULT_BACKEND, exported_model_path, get_encoder, resolve_model
from tests.factories import make_record

TOPICS = {
    "topic-mt": (
        "Neural machine translation with attention",
        "We translate sentences from English to German with an encoder-decoder "
        "network that learns to align source and target words.",
    ),
    "topic-fold": (
        "Predicting protein structure from amino acid sequences",
        "A deep model predicts the three-dimensional folding of proteins from "
        "their residue sequence, reaching near-experimental accuracy.",
    ),
    "topic-galaxy": (
        "Galaxy formation in cosmological simulations",
        "Hydrodynamic simulations of dark matter halos show how the first "
        "galaxies assembled their stars in the early universe.",
    ),
    "topic-quantum": (
        "Error correction for superconducting qubits",
        "Surface codes protect logical qubits in a quantum computer from "
        "decoherence and gate errors.",
    ),
    "topic-climate": (
        "Regional climate projections of rainfall extremes",
        "Downscaled climate models project heavier precipitation and more "
        "frequent floods under warming scenarios.",
    ),
    "topic-cells": (
        "Single-cell RNA sequencing atlas of the human lung",
        "scRNA-seq of a hundred thousand cells maps the cell types of healthy "
        "and diseased lung tissue.",
    ),
}


_MODEL_DATA_DIR = []  # the data dir whose model export (DATA_DIR/models) the session shares


@pytest.fixture(scope="session")
def encoder(tmp_path_factory):
    """The default encoder (OpenVINO int8 backend); exported once per test session."""
    if not _MODEL_DATA_DIR:
        # PAPERWIRE_TEST_MODEL_DIR keeps the export between test runs (a developer's speed-up:
        # the export is checked against its manifest on every use, so a stale one is rebuilt).
        keep = os.environ.get("PAPERWIRE_TEST_MODEL_DIR")
        _MODEL_DATA_DIR.append(Path(keep) if keep else tmp_path_factory.mktemp("models"))
    return get_encoder(load_settings(env={}, data_dir=_MODEL_DATA_DIR[0]))


@pytest.fixture(scope="session")
def model_data_dir(encoder):
    """The data dir holding the session's model export, for encoders with other settings.

    Encoders are cached per process by model and settings, not by data dir, so ``encoder``
    may be one an earlier test created (and exported) elsewhere: make sure the export exists
    in this directory too (a no-op after the first time)."""
    settings = load_settings(env={}, data_dir=_MODEL_DATA_DIR[0])
    exported_model_path(settings, resolve_model(settings), DEFAULT_BACKEND)
    return _MODEL_DATA_DIR[0]


def topic_records(**overrides):
    return [
        make_record(id=pid, title=title, abstract=abstract, **overrides)
        for pid, (title, abstract) in TOPICS.items()
    ]
