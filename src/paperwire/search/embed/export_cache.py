"""The exported-model cache: each fast backend's model files, made once per data dir.

Layout: ``DATA_DIR/models/<weights sha256[:16]>-<pooling>-<backend>-<recipe>/`` holding the
model files and a ``manifest.json`` with every file's sha256 (``export_dir`` names it).

Invariants:
- A folder appears by an atomic rename of a finished ``.<key>.tmp-<pid>`` folder, so a
  manifest means a finished export; a missing or corrupt one is made again (logged), never
  trusted (``valid_export`` checks every checksum).
- At most one export per folder at a time: a ``NamedLock.local`` on ``.<key>.lock`` (the
  export is of this host's data dir; processes elsewhere have their own); the others wait and
  use its result.
- Temporary folders of killed exports are removed once their process is gone
  (``clean_stale_exports``), never while it runs.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from paperwire.config import Settings
from paperwire.procs import pid_alive
from paperwire.search.embed.model import EXPORT_RECIPE, EmbeddingModelError, ModelSpec, sha256_file
from paperwire.search.storage import NamedLock, temp_path
from paperwire.search.storage.files import fsync_dir, fsync_file, temp_owner

log = logging.getLogger(__name__)

# Share of the openvino-int8 preparation spent before quantization (loading the weights and
# tracing the ONNX graph): a few seconds of ~1-3 minutes, measured on the 2-core machine.
EXPORT_SHARE = 0.05


def export_dir(settings: Settings, spec: ModelSpec, backend: str) -> Path:
    """The cache folder of this model's export for ``backend`` (it may not exist yet)."""
    key = f"{spec.weights_sha256[:16]}-{spec.pooling}-{backend}-{EXPORT_RECIPE}"
    return Path(settings.data_dir) / "models" / key


def export_lock(folder: Path) -> NamedLock:
    """The lock one exporter of ``folder`` holds (its file name is shared with older
    versions, so they exclude each other too)."""
    return NamedLock.local(folder.parent / f".{folder.name}.lock")


def export_finished(folder: Path) -> bool:
    """Whether an export folder is there and finished (its manifest exists; checksums are
    verified by ``valid_export`` when it is loaded)."""
    return (folder / "manifest.json").is_file()


def valid_export(folder: Path) -> Path | None:
    """The model file of an export folder whose manifest lists every file with its sha256,
    all present and intact; else None."""
    try:
        meta = json.loads((folder / "manifest.json").read_text())
        files, entry = meta.get("files"), meta.get("entry")
        if not isinstance(files, dict) or entry not in files:
            return None
        for name, digest in files.items():
            path = folder / name
            if not path.is_file() or sha256_file(path) != digest:
                return None
        return folder / str(entry)
    except (OSError, ValueError, TypeError):
        return None


def clean_stale_exports(models_dir: Path) -> int:
    """Remove temporary export folders (``.<key>.tmp-<pid>``) left by a killed export whose
    process is gone; returns how many. Safe while another process exports: a live pid's folder
    is kept."""
    removed = 0
    try:
        entries = list(models_dir.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        owner = temp_owner(entry.name)
        if owner is None or not entry.is_dir() or pid_alive(owner):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        log.info("removed %d unfinished model export folder(s) from %s", removed, models_dir)
    return removed


def exported_model_path(
    settings: Settings,
    spec: ModelSpec,
    backend: str,
    *,
    progress: Callable[[float], None] | None = None,
) -> Path:
    """The cached model file (ONNX, or OpenVINO IR) for this model and backend, exported
    (once) when missing or corrupt.

    Several processes may start at once: a file lock makes one export while the others wait
    and then use its result; the folder appears by an atomic rename, so a reader never sees a
    half-written model.
    """
    folder = export_dir(settings, spec, backend)
    found = valid_export(folder)
    if found is not None:
        return found
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = export_lock(folder)
    if not lock.acquire(wait=False):
        # Say why nothing happens (a CLI command during a server's first start waited
        # minutes in silence): another process is exporting; its result is ours.
        log.warning(
            "waiting for another process preparing the %s model for semantic "
            "search (done once; its progress: %s)",
            spec.name,
            folder.parent / "prepare.log",
        )
        lock.acquire(wait=True)
    try:
        found = valid_export(folder)
        if found is not None:
            return found
        return _export_locked(spec, folder, backend, progress)
    finally:
        lock.release()


def _export_locked(
    spec: ModelSpec, folder: Path, backend: str, progress: Callable[[float], None] | None
) -> Path:
    clean_stale_exports(folder.parent)
    if folder.exists():
        log.warning("embedding model cache %s is incomplete or corrupt; rebuilding it", folder)
        shutil.rmtree(folder, ignore_errors=True)
    else:
        log.info("exporting %s for %s under %s; done once", spec.name, backend, folder)
    tmp = temp_path(folder)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    started = time.monotonic()
    try:
        entry = _export(spec, tmp, backend, progress)
        files = {f.name: sha256_file(f) for f in sorted(tmp.iterdir()) if f.is_file()}
        meta = {
            "entry": entry,
            "files": files,
            "model": spec.name,
            "weights_sha256": spec.weights_sha256,
            "backend": backend,
            "recipe": EXPORT_RECIPE,
        }
        (tmp / "manifest.json").write_text(json.dumps(meta, indent=2))
        for f in tmp.iterdir():
            fsync_file(f)
        tmp.rename(folder)
        fsync_dir(folder.parent)
    except EmbeddingModelError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise EmbeddingModelError(f"cannot export {spec.path} for {backend}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("export of %s for %s done in %.1f s", spec.name, backend, time.monotonic() - started)
    return folder / entry


def _export(
    spec: ModelSpec, folder: Path, backend: str, progress: Callable[[float], None] | None = None
) -> str:
    """Write the backend's model files into ``folder``; returns the entry file's name.

    ``progress(fraction)`` (0..1), when given, is called as the work advances. Nothing is
    written to stdout (``paperwire eval --json`` prints its JSON there): third-party progress
    bars are switched off for the duration (search/quiet.py)."""
    from paperwire.search.onnx_export import export_onnx
    from paperwire.search.quiet import quiet_third_party

    report: Callable[[float], None] = progress or (lambda fraction: None)
    with quiet_third_party():
        if backend == "openvino-int8":
            from paperwire.search.ov_quantize import quantize_for_openvino

            export_onnx(spec, folder / "fp32.onnx", quantize=False)
            report(EXPORT_SHARE)
            quantize_for_openvino(
                folder / "fp32.onnx",
                folder / "model.xml",
                tokenizer_path=spec.path / "tokenizer.json",
                max_length=spec.max_seq_length,
                progress=lambda f: report(EXPORT_SHARE + (1 - EXPORT_SHARE) * f),
            )
            (folder / "fp32.onnx").unlink()
            return "model.xml"
        export_onnx(spec, folder / "model.onnx", quantize=(backend == "onnx-int8"))
        return "model.onnx"
