"""The native libraries of search load in any order (a crash once hid behind import order:
usearch 2.26 loaded before onnxruntime segfaulted the process, so semantic.py imported
onnxruntime first and bench/search_latency.py, importing usearch first, died with SIGSEGV).
usearch is pinned to a release that coexists with every onnxruntime tried (pyproject.toml),
and onnxruntime is no longer needed at run time (the `onnx` extra)."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys

import pytest

NATIVE = ["usearch.index", "onnxruntime", "openvino", "tantivy", "tokenizers", "onnx"]


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name.split(".")[0]) is not None


PAIRS = [
    pair
    for pair in itertools.permutations(NATIVE, 2)
    if "usearch.index" in pair and all(_installed(n) for n in pair)
]


@pytest.mark.parametrize("first,second", PAIRS, ids=["-then-".join(p) for p in PAIRS])
def test_native_modules_load_in_either_order(first, second):
    done = subprocess.run(
        [sys.executable, "-c", f"import {first}; import {second}; print('ok')"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", (
        f"import {first}; import {second} -> exit {done.returncode}: {done.stderr[-2000:]}"
    )


def test_the_semantic_index_does_not_load_onnxruntime():
    code = (
        "import sys; import paperwire.search.semantic, paperwire.search.service; "
        "print('onnxruntime' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
