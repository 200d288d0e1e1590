"""First-start benchmark: a newcomer's `paperwire serve` on a fresh data dir (SQLite, demo data,
no setting), timed as they meet it:

- ``listen``: from starting the process to its first answered page (``/``);
- ``feed``: from that first page to the front page showing the demo feed (target <= 5 s);
- ``search``: the first search (``/search?q=seq``, hybrid by default, keyword-only while the
  model is prepared) answered, counted from the moment it is sent (target <= 2 s).

The model preparation runs meanwhile, as on a real first start (it competes for the cores);
``--hold-model`` holds it back instead (the test hook), to separate the two. Each run uses a
new data dir and ends the server with SIGTERM (timed as ``stop``, target: a few seconds).

    python bench/first_start.py [--runs 3] [--hold-model] [--json out.json]

Prints one line per run and the medians; writes bench/results/first_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_ON_FEED = "/papers/2103.04264"  # the first seed paper: on today's demo feed
HOLD_ENV = "PAPERWIRE_TEST_HOLD_MODEL_PREPARATION"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 60.0) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.read().decode("utf-8", "replace")
    except OSError:
        return None


def one_run(workdir: Path, *, hold: bool, timeout: float = 120.0) -> dict:
    data = workdir / "data"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env.update(PAPERWIRE_DATA_DIR=str(data), PAPERWIRE_PORT=str(port))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    hold_file = workdir / "hold"
    if hold:
        hold_file.touch()
        env[HOLD_ENV] = str(hold_file)
    log = open(workdir / "serve.log", "wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperwire", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        first = None
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}; see {log.name}")
            page = _get(url + "/", timeout=10)
            if page is not None:
                now = time.monotonic()
                first = first or now
                if FIRST_ON_FEED in page:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"no demo feed within {timeout} s")
        feed_at = time.monotonic()
        sent = time.monotonic()
        answer = _get(url + "/search?q=seq")
        search_s = time.monotonic() - sent
        if answer is None or "T-Miner" not in answer:
            raise RuntimeError("the first search did not answer with the demo papers")
        keyword_only = "keyword-only for now" in answer
        stop_sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        stop_s = time.monotonic() - stop_sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    return {
        "listen_s": round(first - started, 3),
        "feed_s": round(feed_at - first, 3),
        "search_s": round(search_s, 3),
        "stop_s": round(stop_s, 3),
        "search_keyword_only": keyword_only,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--hold-model",
        action="store_true",
        help="hold the model preparation back (no competition for the cores)",
    )
    parser.add_argument(
        "--json", type=Path, default=ROOT / "bench" / "results" / "first_start.json"
    )
    args = parser.parse_args(argv)
    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="pw-first-start-") as tmp:
            result = one_run(Path(tmp), hold=args.hold_model)
        runs.append(result)
        print(
            f"run {i + 1}: first page {result['listen_s']:.2f} s after start, demo feed "
            f"{result['feed_s']:.2f} s after it, first search {result['search_s']:.2f} s "
            f"({'keyword-only' if result['search_keyword_only'] else 'hybrid'}), SIGTERM "
            f"stop {result['stop_s']:.2f} s",
            flush=True,
        )
    summary = {
        key: statistics.median(r[key] for r in runs)
        for key in ("listen_s", "feed_s", "search_s", "stop_s")
    }
    print(
        f"median of {len(runs)}: first page {summary['listen_s']:.2f} s, demo feed "
        f"{summary['feed_s']:.2f} s after it (target <= 5), first search "
        f"{summary['search_s']:.2f} s (target <= 2), stop {summary['stop_s']:.2f} s"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"runs": runs, "median": summary, "hold_model": args.hold_model}, indent=2)
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
