"""Atomic writes and file generations (search/storage/files.py), with real kill -9s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from paperwire.search.storage import Generation, atomic_write, temp_path

_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from paperwire.search.storage.files import Generation, install
    folder = Path(sys.argv[1])
    gen = Generation(folder, "manifest.json", ("data-",))
    staged = gen.staging("data-2.bin")
    with open(staged, "wb") as fh:
        fh.write(b"new" * 100_000)
        fh.flush()
        print("staged", flush=True)
        time.sleep(60)  # killed here: before the rename and before the pointer moves
    install(staged, folder / "data-2.bin")
    gen.publish("data-2.bin", keep={"data-2.bin"})
""")


def _publish_one(folder: Path) -> Generation:
    gen = Generation(folder, "manifest.json", ("data-",))
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "data-1.bin", b"old")
    gen.publish("data-1.bin", keep={"data-1.bin"})
    return gen


def test_atomic_write_replaces_the_whole_content_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    atomic_write(path, "first")
    atomic_write(path, b"second")
    assert path.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_generation_publish_is_atomic_when_killed(tmp_path):
    folder = tmp_path / "gen"
    gen = _publish_one(folder)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(folder)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "staged"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert gen.read() == "data-1.bin" and (folder / "data-1.bin").read_bytes() == b"old"
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert leftovers == [f".data-2.bin.tmp-{proc.pid}"]
    # The next writer's cleanup removes the dead writer's temporary, not the live generation.
    assert gen.cleanup(keep={"data-1.bin"}) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["data-1.bin", "manifest.json"]


def test_generation_publish_switches_the_pointer_and_removes_older_generations(tmp_path):
    folder = tmp_path / "gen"
    gen = _publish_one(folder)
    before = gen.stamp()
    time.sleep(0.01)
    (folder / "data-2").mkdir()
    (folder / "data-2" / "segment").write_bytes(b"x")
    (folder / "unrelated.txt").write_text("kept: not a generation entry")
    gen.publish("data-2", keep={"data-2"})
    assert gen.read() == "data-2" and gen.stamp() != before
    assert sorted(p.name for p in folder.iterdir()) == ["data-2", "manifest.json", "unrelated.txt"]


def test_generation_cleanup_keeps_a_live_writers_temporary(tmp_path):
    folder = tmp_path / "gen"
    gen = _publish_one(folder)
    mine = temp_path(folder / "data-3.bin")  # this process is alive: a writer mid-write
    mine.write_bytes(b"half")
    assert gen.cleanup(keep={"data-1.bin"}) == 0
    assert mine.exists()


def test_generation_read_is_none_before_the_first_publish(tmp_path):
    gen = Generation(tmp_path / "nothing", "CURRENT", ("gen-",))
    assert gen.read() is None and gen.stamp() is None and gen.cleanup(keep=()) == 0
