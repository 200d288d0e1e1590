"""Preparing the embedding model on a first start, without anyone waiting for it: search is
keyword-only (and says so) until the export exists, imports never export inline, the console
gets one progress line, stdout stays clean, killed exports leave nothing behind."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time

import pytest

from paperwire.search import embed
from paperwire.search.prepare import FAILED_FILE, ProgressLine
from tests.factories import make_papers
from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)


@pytest.fixture
def fresh_model_dir(settings, monkeypatch):
    """No export in the data dir and no encoder loaded in this process (as on a first
    start); the loaded encoders of other tests are put back afterwards."""
    with embed.ENCODERS.isolated():
        yield settings


def test_get_encoder_that_may_not_export_says_not_ready_at_once(fresh_model_dir):
    settings = fresh_model_dir
    started = time.monotonic()
    with pytest.raises(embed.ModelNotReady):
        embed.get_encoder(settings, export=False)
    assert time.monotonic() - started < 2
    assert not embed.model_ready(settings)
    assert not (settings.data_dir / "models").exists()


def test_a_failed_preparation_is_said_instead_of_not_ready(fresh_model_dir):
    settings = fresh_model_dir
    (settings.data_dir / "models").mkdir(parents=True)
    (settings.data_dir / "models" / FAILED_FILE).write_text("disk full\n")
    with pytest.raises(embed.EmbeddingModelError, match="disk full") as info:
        embed.get_encoder(settings, export=False)
    assert not isinstance(info.value, embed.ModelNotReady)


def test_search_is_keyword_only_and_says_so_while_the_model_is_prepared_elsewhere(
    fresh_model_dir, db, monkeypatch
):
    from paperwire.search.service import PREPARING_NOTICE, SearchService

    settings = fresh_model_dir
    monkeypatch.setenv(embed.PREPARED_ELSEWHERE_ENV, "1")
    make_papers(db, 3, title="Selective state spaces for sequences")
    svc = SearchService(settings, db, background=False)
    try:
        started = time.monotonic()
        resp = svc.search("state spaces", mode="hybrid")
        assert time.monotonic() - started < 5
        assert len(resp.hits) == 3 and resp.mode == "lexical"
        assert PREPARING_NOTICE in resp.notices
        # Not an error that sticks: the next query asks again.
        assert svc._semantic_error is None
    finally:
        svc.close()


def test_changed_papers_are_not_embedded_inline_before_the_model_exists(
    fresh_model_dir, db, caplog
):
    from paperwire.search.notify import papers_changed

    settings = fresh_model_dir
    records = make_papers(db, 2)
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        papers_changed(settings, db, [r.id for r in records])
    assert time.monotonic() - started < 2
    assert "not prepared yet" in caplog.text
    assert not (settings.data_dir / "models").exists()


def test_fresh_lexical_index_build_is_info_not_a_warning(settings, db, caplog):
    from paperwire.search.lexical import LexicalIndex

    make_papers(db, 4)
    index = LexicalIndex(settings, db)
    try:
        with caplog.at_level(logging.INFO, logger="paperwire.search.lexical"):
            index.ensure_open()
    finally:
        index.close()
    records = [r for r in caplog.records if r.name == "paperwire.search.lexical"]
    assert records and all(r.levelno == logging.INFO for r in records)
    assert "lexical index built: 4 papers" in caplog.text


def test_progress_line_says_what_how_far_and_how_long():
    now = [0.0]
    out = io.StringIO()
    line = ProgressLine(out, tty=False, clock=lambda: now[0])
    line.update(0.0)
    now[0] = 10.0
    line.update(0.05)  # calibration starts: the pace is measured from here
    now[0] = 55.0
    line.update(0.5)  # 0.45 in 45 s: 0.5 left is about 50 s
    line.update(0.52)  # same tenth: no new line when not on a terminal
    line.finish("Semantic search is ready.")
    lines = out.getvalue().splitlines()
    assert lines == [
        "Preparing semantic search (first start, done once): 0% - estimating the time left",
        "Preparing semantic search (first start, done once): 50% - about 50 s left",
        "Semantic search is ready.",
    ]


def test_progress_line_on_a_terminal_rewrites_one_line():
    now = [0.0]
    out = io.StringIO()
    line = ProgressLine(out, tty=True, clock=lambda: now[0])
    for i in range(1, 101):
        now[0] = i * 0.5
        line.update(i / 100)
        if now[0] < 8:  # serve's own start-up lines come first
            assert out.getvalue() == ""
    text = out.getvalue()
    assert "\n" not in text and text.count("\r\033[K") <= 51
    assert text.endswith("100% - about 5 s left")


def test_third_party_progress_bars_are_silenced(capfd):
    """transformers' tqdm bar ("Loading weights") and NNCF's rich bars ("Statistics
    collection") print nothing inside ``quiet_third_party``; nothing reaches stdout."""
    code = (
        "from paperwire.search.quiet import quiet_third_party\n"
        "from transformers.utils.logging import tqdm\n"
        "from nncf.common.logging.track_progress import track\n"
        "with quiet_third_party():\n"
        "    for _ in tqdm(range(50), desc='Loading weights'): pass\n"
        "    for _ in track(range(50), description='Statistics collection'): pass\n"
        "    print('stray print')\n"
        "for _ in track(range(3), description='After'): pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "TERM": "xterm", "FORCE_COLOR": "1"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Loading weights" not in done.stdout + done.stderr
    assert "Statistics collection" not in done.stdout + done.stderr
    assert "stray print" not in done.stdout and "stray print" in done.stderr
    assert "After" in done.stdout  # the libraries' own settings are back afterwards


def test_stale_export_folders_of_dead_processes_are_removed(tmp_path):
    models = tmp_path / "models"
    dead = models / ".key-openvino-int8-v1.tmp-999999999"
    live = models / f".key-openvino-int8-v1.tmp-{os.getppid()}"
    finished = models / "key-openvino-int8-v1"
    for folder in (dead, live, finished):
        folder.mkdir(parents=True)
        (folder / "model.bin").write_bytes(b"x")
    assert embed.clean_stale_exports(models) == 1
    assert not dead.exists() and live.exists() and finished.exists()


def test_waiting_for_another_process_export_says_so_then_uses_its_result(fresh_model_dir, caplog):
    """``paperwire similar`` during a server's first start used to wait minutes in silence
    on the export lock; now it says whom it waits for, and takes the other's export."""
    import fcntl
    import hashlib
    import json
    import threading

    settings = fresh_model_dir
    spec = embed.resolve_model(settings)
    folder = embed.export_dir(settings, spec, "onnx")
    folder.parent.mkdir(parents=True)
    result: list = []
    with (
        open(folder.parent / f".{folder.name}.lock", "w") as held,
        caplog.at_level(logging.WARNING, logger="paperwire.search.embed"),
    ):
        fcntl.flock(held, fcntl.LOCK_EX)  # "the server's preparation process"
        waiter = threading.Thread(
            target=lambda: result.append(embed.exported_model_path(settings, spec, "onnx"))
        )
        waiter.start()
        for _ in range(200):
            if "waiting for another process" in caplog.text:
                break
            time.sleep(0.05)
        assert "waiting for another process" in caplog.text
        assert "prepare.log" in caplog.text
        assert waiter.is_alive() and result == []
        # The other process publishes its export, then lets go.
        folder.mkdir()
        (folder / "model.onnx").write_bytes(b"exported")
        (folder / "manifest.json").write_text(
            json.dumps(
                {
                    "entry": "model.onnx",
                    "files": {"model.onnx": hashlib.sha256(b"exported").hexdigest()},
                }
            )
        )
        fcntl.flock(held, fcntl.LOCK_UN)
        waiter.join(30)
    assert result == [folder / "model.onnx"]


def test_searches_do_not_queue_behind_another_threads_model_export(
    fresh_model_dir, db, model_data_dir
):  # noqa: F811
    """A web worker's warm-up thread exports the model (a data dir outside ``serve``): the
    page's searches answer keyword-only meanwhile, instead of waiting minutes on the lock
    (browser tests timed out on /search that way), and the semantic side joins after."""
    import fcntl
    import shutil
    import threading

    from paperwire.search.service import PREPARING_NOTICE, SearchService

    settings = fresh_model_dir
    make_papers(db, 3, title="Selective state spaces for sequences")
    svc = SearchService(settings, db, background=False)
    spec = embed.resolve_model(settings)
    folder = embed.export_dir(settings, spec, embed.DEFAULT_BACKEND)
    folder.parent.mkdir(parents=True)
    try:
        with open(folder.parent / f".{folder.name}.lock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # the export "in progress"
            warm = threading.Thread(target=svc.semantic)  # the warm-up: waits on the export
            warm.start()
            for _ in range(200):
                if svc._loading:
                    break
                time.sleep(0.05)
            answers: list = []
            searcher = threading.Thread(
                target=lambda: answers.append(svc.search("state spaces", mode="hybrid"))
            )
            searcher.start()
            searcher.join(60)
            assert answers, "the search waited for the export"
            assert answers[0].mode == "lexical" and len(answers[0].hits) == 3
            assert PREPARING_NOTICE in answers[0].notices
            # The export lands (the session's real one) and the warm-up finishes loading.
            shutil.copytree(model_data_dir / "models" / folder.name, folder)
            fcntl.flock(held, fcntl.LOCK_UN)
            warm.join(120)
        assert svc.semantic() is not None
        assert svc.search("state spaces", mode="hybrid").mode == "hybrid"
    finally:
        svc.close()


def test_a_preparation_whose_serve_died_before_it_started_ends_too(tmp_path):
    """kill -9 of ``serve`` in the moment after it started the preparation process, before
    that process asked the kernel to end with its parent (interpreter start-up, seconds on a
    loaded machine): the preparation ran its whole export as an orphan. Here its parent
    (standing in for serve, the way serve starts it) exits at once; the preparation, held by
    the test hook, must end by itself instead of waiting for the hold, then exporting."""
    hold = tmp_path / "hold"
    hold.touch()
    pid_file = tmp_path / "child.pid"
    parent = (
        "import os, sys\n"
        "from paperwire.cli.web import start_model_preparation\n"
        "from paperwire.config import load_settings\n"
        "proc = start_model_preparation(load_settings())\n"
        f"open({str(pid_file)!r}, 'w').write(str(proc.pid))\n"
        "os._exit(0)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env.update(
        {
            "PAPERWIRE_DATA_DIR": str(tmp_path / "data"),
            "PAPERWIRE_LOAD_DEMO_DATA": "0",
            "PAPERWIRE_TEST_HOLD_MODEL_PREPARATION": str(hold),
        }
    )
    subprocess.run(
        [sys.executable, "-c", parent], env=env, check=True, timeout=120, stderr=subprocess.DEVNULL
    )
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                break
            if state == "Z":
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the orphaned preparation process is still running")
    finally:
        try:
            os.kill(pid, 15)  # a survivor would export the model for minutes
        except ProcessLookupError:
            pass
