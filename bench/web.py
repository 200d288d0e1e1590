"""Web benchmark: `paperwire serve` in its production setting (one worker per core) over the
1M-paper database with 10k feed entries, loaded by wrk on loopback (sharing the 2 cores).

    flock /tmp/paperwire-bench.lock python bench/web.py [--db /tmp/pwbench/papers_1m.db]

Works on a copy of the database in --workdir (the source is never modified); builds the
lexical index once (`paperwire index --lexical-only`) and a semantic index over synthetic
vectors for every paper (``prepare_semantic``: embedding 1M abstracts takes hours on 2 cores),
so hybrid search really fuses both sides; queries are embedded by the real encoder. Measures,
in one run, requests/s, p50/p90/p99 latency and errors for:

- baseline: ``/healthz`` of the same server (routing + middleware, no database, no template),
- ``/`` (feed page), ``/papers/{id}`` (paper pages, a mix of feed papers and random papers
  of the 1M, so most paper requests miss the page cache), ``/api/daily_papers``,
  ``/api/papers/search`` (a query mix: common and rare words, prefixes, phrases, filters).

Writes bench/results/web.json, docs/img/web_bench.png and prints a Markdown table for the
"Web" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Printed by wrk's done() hook: one JSON object with the figures we report.
LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "err_connect": %d, "err_read": %d, ' ..
    '"err_write": %d, "err_status": %d, "err_timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

LUA_PATHS = r"""
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def prepare(source: Path, workdir: Path) -> Path:
    """Copy the database (unless an up-to-date copy is there), build the lexical index and
    the semantic index (synthetic vectors)."""
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    target = data / "paperwire.db"
    stamp = data / "copied-from.json"
    src_stat = source.stat()
    want = {"path": str(source), "size": src_stat.st_size, "mtime": src_stat.st_mtime}
    if not target.exists() or not stamp.exists() or json.loads(stamp.read_text()) != want:
        log(f"copying {source} ({src_stat.st_size / 1e9:.1f} GB) to {target}")
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        shutil.rmtree(data / "index", ignore_errors=True)
        (data / "key-sentences.json").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        stamp.write_text(json.dumps(want))
    prepare_semantic(target, data)
    prepare_key_sentences(target, data)
    env = server_env(data)
    log("building/catching up the lexical index (paperwire index --lexical-only)")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "paperwire", "index", "--lexical-only"],
        env=env,
        check=True,
        cwd=ROOT,
    )
    log(f"index ready in {time.monotonic() - started:.0f} s")
    # The embedding model a first start exports in the background (about a minute of both
    # cores): done here, so it never runs during a timed scenario.
    subprocess.run(
        [sys.executable, "-m", "paperwire.search.prepare"], env=env, check=True, cwd=ROOT
    )
    warm_page_cache(target)
    # The indexes too (tantivy segments, the usearch graph and the vector table): another
    # job's files may have evicted them since they were built.
    started, read = time.monotonic(), 0
    for path in sorted((data / "index").rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                while chunk := f.read(8 << 20):
                    read += len(chunk)
    log(f"read the indexes ({read / 1e9:.1f} GB) in {time.monotonic() - started:.0f} s")
    return data


def prepare_semantic(db_path: Path, data: Path) -> None:
    """A semantic index for every paper of the copy, so hybrid search is really hybrid.

    Embedding a million abstracts takes hours on 2 cores, so the copy gets the SYNTHETIC
    vectors of bench/semantic_memory.py (clustered by category, calibrated on real MiniLM
    cosines), stored in its ``embeddings`` table under the real model's id and content hashes,
    and the index is built from them by the real code path (``SemanticIndex.rebuild``). The
    server runs with ``--no-embedder``, so nothing re-embeds them; queries are embedded by the
    real encoder. Done once per copy (a stamp in the index folder)."""
    from bench.semantic_memory import DIM, synth_vectors, write_embeddings
    from paperwire.config import load_settings
    from paperwire.search.embed import model_id_for
    from paperwire.search.semantic import SemanticIndex, VectorSpace
    from paperwire.store.db import Database

    stamp = data / "index" / "semantic-synthetic.json"
    settings = load_settings(
        env={}, data_dir=data, database_url=f"sqlite:///{db_path}", load_demo_data=False
    )
    model_id = model_id_for(settings)
    con = sqlite3.connect(db_path)
    n = con.execute("SELECT count(*) FROM papers").fetchone()[0]
    con.close()
    want = {"model_id": model_id, "papers": n}
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        return
    started = time.monotonic()
    con = sqlite3.connect(db_path)
    rows = con.execute(
        "SELECT id, coalesce(primary_category, ''), content_hash FROM papers ORDER BY id"
    ).fetchall()
    con.close()
    vecs = synth_vectors([r[1] for r in rows])
    write_embeddings(db_path, model_id, [r[0] for r in rows], [r[2] for r in rows], vecs)
    del vecs
    log(f"wrote {len(rows):,} synthetic embeddings in {time.monotonic() - started:.0f} s")
    shutil.rmtree(data / "index" / "semantic", ignore_errors=True)
    db = Database(settings.database_url)
    index = SemanticIndex(settings, db, VectorSpace(model_id, DIM))
    try:
        built = index.rebuild(progress=True)
    finally:
        index.close()
        db.dispose()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(want))
    log(f"semantic index of {built:,} papers ready in {time.monotonic() - started:.0f} s")


def _rule_key_sentences(rows: list[tuple[str, str, str]]) -> list[tuple[str | None, str, str]]:
    from paperwire.summary.keysentence import pick

    out = []
    for pid, abstract, chash in rows:
        chosen = pick(abstract)
        out.append((chosen.text if chosen else None, chash, pid))
    return out


def prepare_key_sentences(db_path: Path, data: Path) -> None:
    """Stored key sentences for every paper, as the embedder leaves them once it has caught up.

    A server whose papers all have vectors has their key sentences stored too (the embedder
    chooses them with the sentence vectors, ``search/embedding_jobs.py``), and search results
    and pages read the stored text. The copy's vectors are synthetic, so no embedder ran:
    without this step every paper shown for the first time runs the cue + position rule,
    a cost (~14% of a new hybrid search's profile) that a caught-up server does not have.
    The rule's choice stands in for the vector choice; reading it costs the same. Done once per
    copy (a stamp in the data folder)."""
    from multiprocessing import Pool

    from paperwire.summary.keysentence import SCORER_VERSION

    stamp = data / "key-sentences.json"
    con = sqlite3.connect(db_path)
    n = con.execute("SELECT count(*) FROM papers").fetchone()[0]
    want = {"scorer": SCORER_VERSION, "papers": n}
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        con.close()
        return
    started, done, last = time.monotonic(), 0, ""
    chunk = 20_000
    with Pool(os.cpu_count() or 1) as pool:
        while True:
            rows = con.execute(
                "SELECT id, coalesce(abstract, ''), content_hash FROM papers WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (last, chunk),
            ).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            parts = [rows[i : i + 1000] for i in range(0, len(rows), 1000)]
            updates = [u for part in pool.map(_rule_key_sentences, parts) for u in part]
            con.executemany(
                "UPDATE papers SET key_sentence = ?, key_sentence_hash = ?, "
                f"key_sentence_scorer = '{SCORER_VERSION}' WHERE id = ?",
                updates,
            )
            con.commit()
            done += len(rows)
            if done % 200_000 < chunk:
                log(f"key sentences: {done:,} / {n:,}")
    con.close()
    stamp.write_text(json.dumps(want))
    log(f"stored {done:,} key sentences in {time.monotonic() - started:.0f} s")


def warm_page_cache(path: Path) -> None:
    """Read the database file once, so the OS page cache holds it as it would for a server
    that has been up for a while: otherwise each of the 4,000 paper pages pays for disk reads
    of whatever other jobs on the machine evicted since the copy, and the figures measure the
    disk under their load rather than the web app."""
    started = time.monotonic()
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass
    log(
        f"read {path.stat().st_size / 1e9:.1f} GB into the page cache in "
        f"{time.monotonic() - started:.0f} s"
    )


def server_env(data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(data),
        "PAPERWIRE_LOAD_DEMO_DATA": "false",
        "PAPERWIRE_LOG_LEVEL": "WARNING",
        "PAPERWIRE_SECRET_KEY": "bench-secret",
        "PAPERWIRE_DATABASE_URL": "",
    }


def sample_paths(db_path: Path, rng: random.Random, n_papers: int) -> tuple[list[str], list[str]]:
    """Paper page paths (half feed papers, half random papers of the whole corpus) and a
    search query mix built from the corpus' own vocabulary."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    feed_ids = [r[0] for r in con.execute("SELECT paper_id FROM feed_entries")]
    max_rowid = con.execute("SELECT max(rowid) FROM papers").fetchone()[0]
    random_ids: list[str] = []
    while len(random_ids) < n_papers // 2:
        rowids = [rng.randint(1, max_rowid) for _ in range(200)]
        marks = ",".join("?" * len(rowids))
        random_ids += [
            r[0]
            for r in con.execute(
                f"SELECT id FROM papers WHERE rowid IN ({marks}) AND hidden = 0", rowids
            )
        ]
    ids = rng.sample(feed_ids, min(len(feed_ids), n_papers // 2)) + random_ids[: n_papers // 2]
    rng.shuffle(ids)
    titles = [r[0] for r in con.execute("SELECT title FROM papers WHERE rowid % 997 = 0 LIMIT 800")]
    top_cats = top_categories(con)
    con.close()
    ranked = title_words(titles)
    common, rare = ranked[:40], ranked[-200:]
    queries: list[str] = []
    for _ in range(200):
        kind = rng.choice(["common", "common2", "rare", "prefix", "phrase", "filter"])
        if kind == "common":
            q = rng.choice(common)
        elif kind == "common2":
            q = " ".join(rng.sample(common, 2))
        elif kind == "rare":
            q = rng.choice(rare)
        elif kind == "prefix":
            q = rng.choice(common)[:3]
        elif kind == "phrase":
            t = re.findall(r"[A-Za-z]{3,}", rng.choice(titles))
            q = f'"{" ".join(t[:2])}"' if len(t) >= 2 else rng.choice(common)
        else:
            q = f"{rng.choice(common)} cat:{rng.choice(top_cats)}"
        queries.append(q)
    return [f"/papers/{pid}" for pid in ids], queries


def top_categories(con: sqlite3.Connection, n: int = 10) -> list[str]:
    """The corpus' most frequent categories (from a sample of the papers)."""
    cats = Counter(
        c
        for (cs,) in con.execute("SELECT categories FROM papers WHERE rowid % 991 = 0 LIMIT 800")
        for c in json.loads(cs)
    )
    return [c for c, _ in cats.most_common(n)]


def title_words(titles: list[str]) -> list[str]:
    """Words of 4+ letters in these titles, most frequent first."""
    words = Counter(w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t))
    return [w for w, _ in words.most_common()]


def distinct_queries(db_path: Path, rng: random.Random, n: int) -> list[str]:
    """``n`` different queries of the same kinds as ``sample_paths``' mix, from a larger
    sample of the corpus' titles, so that no query repeats within a scenario: every request
    is ranked (and embedded) from scratch, whatever the server caches."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    titles = [r[0] for r in con.execute("SELECT title FROM papers WHERE rowid % 97 = 0 LIMIT 9000")]
    top_cats = top_categories(con)
    con.close()
    ranked = title_words(titles)
    common, rare = ranked[:400], ranked[-3000:]
    out: dict[str, None] = {}
    while len(out) < n:
        kind = rng.choice(["common", "common2", "rare", "prefix", "phrase", "filter"])
        if kind == "common":
            q = f"{rng.choice(common)} {rng.choice(rare)}"  # one common word alone repeats
        elif kind == "common2":
            q = " ".join(rng.sample(common, 2))
        elif kind == "rare":
            q = rng.choice(rare)
        elif kind == "prefix":
            q = f"{rng.choice(common)[:3]} {rng.choice(common)}"
        elif kind == "phrase":
            t = re.findall(r"[A-Za-z]{3,}", rng.choice(titles))
            i = rng.randrange(max(1, len(t) - 1))
            q = f'"{" ".join(t[i : i + 2])}"' if len(t) >= 2 else rng.choice(rare)
        else:
            q = f"{rng.choice(common)} cat:{rng.choice(top_cats)}"
        out[q] = None
    return list(out)


def run_wrk(
    url: str,
    *,
    duration: int,
    connections: int,
    threads: int,
    paths_file: Path | None,
    workdir: Path,
) -> dict:
    script = workdir / f"wrk_{abs(hash((url, str(paths_file))))}.lua"
    body = LUA_DONE if paths_file is None else (LUA_PATHS % paths_file) + LUA_DONE
    script.write_text(body)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    stats = json.loads(line[len("WRKJSON ") :])
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    stats["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["errors"] = (
        stats["non_2xx"]
        + stats["err_connect"]
        + stats["err_read"]
        + stats["err_write"]
        + stats["err_timeout"]
    )
    return stats


def child_pids(pid: int) -> set[int]:
    """The processes ``pid`` started (the server's workers), from /proc."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(c) for c in text.split()}


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 120) -> float:
    import httpx

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not come up")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    rps = [results[n]["rps"] for n in names]
    p50 = [results[n]["p50_us"] / 1000 for n in names]
    p99 = [results[n]["p99_us"] / 1000 for n in names]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.barh(names, rps, color="#3b5bdb")
    a1.set_xlabel("requests / s (higher is better)")
    a1.invert_yaxis()
    for y, v in enumerate(rps):
        a1.text(v, y, f" {v:,.0f}", va="center", fontsize=8)
    ys = range(len(names))
    a2.barh([y - 0.2 for y in ys], p50, height=0.4, label="p50", color="#74c0fc")
    a2.barh([y + 0.2 for y in ys], p99, height=0.4, label="p99", color="#e8590c")
    a2.set_yticks(list(ys), names)
    a2.invert_yaxis()
    a2.axvline(100, color="grey", ls="--", lw=1)
    a2.set_xlabel("latency, ms (p99 target: 100 ms)")
    a2.legend(loc="lower right")
    fig.suptitle("paperwire serve, 1M papers, 2 workers; wrk on the same 2 cores")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/pwbench/papers_1m.db"))
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/pwbench-web"))
    ap.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--workers", type=int, default=0, help="server workers (0: cores)")
    ap.add_argument("--port", type=int, default=8911)
    ap.add_argument("--papers", type=int, default=4000, help="distinct paper pages requested")
    ap.add_argument(
        "--write-docs",
        action="store_true",
        help="replace the Web section of docs/benchmarks.md with the results",
    )
    ap.add_argument("--note", default="", help="a remark printed with the results")
    ap.add_argument(
        "--only",
        default="",
        help="run only the scenarios whose name contains this text (exploration: the "
        "results are printed, bench/results/web.json is left alone)",
    )
    ap.add_argument(
        "--prepare-only",
        action="store_true",
        help="copy the database and build the index, then exit (run this under "
        "/work/tools/busy, then the timed part under /work/tools/quiet)",
    )
    ap.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite the docs section from bench/results/web.json and exit",
    )
    args = ap.parse_args(argv)

    if args.docs_only:
        saved = json.loads((ROOT / "bench" / "results" / "web.json").read_text())
        write_docs(saved["meta"], saved["results"])
        return
    rng = random.Random(7)
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = prepare(args.db, args.workdir)
    if args.prepare_only:
        return
    paper_paths, queries = sample_paths(data / "paperwire.db", rng, args.papers)
    papers_file = args.workdir / "paper_paths.txt"
    papers_file.write_text("\n".join(paper_paths) + "\n")
    from urllib.parse import urlencode

    search_file = args.workdir / "search_paths.txt"
    search_file.write_text(
        "\n".join("/api/papers/search?" + urlencode({"q": q, "limit": 20}) for q in queries) + "\n"
    )
    search_lex_file = args.workdir / "search_lexical_paths.txt"
    search_lex_file.write_text(
        "\n".join(
            "/api/papers/search?" + urlencode({"q": q, "limit": 20, "mode": "lexical"})
            for q in queries
        )
        + "\n"
    )

    # Every query new: what the engine costs when nothing can be reused (the ranking and
    # query-vector caches only serve repeats). More queries than a scenario can send.
    fresh = distinct_queries(data / "paperwire.db", random.Random(11), 12_000)
    fresh_files = {}
    # The warm-up searches are none of the timed ones: a warmed query would be a cache hit.
    timed = set(queries) | set(fresh)
    warm_queries = [
        q for q in distinct_queries(data / "paperwire.db", random.Random(13), 200) if q not in timed
    ][:20]
    for mode in ("hybrid", "lexical"):
        fresh_files[mode] = args.workdir / f"search_distinct_{mode}_paths.txt"
        fresh_files[mode].write_text(
            "\n".join(
                "/api/papers/search?"
                + urlencode({"q": q, "limit": 20, **({"mode": mode} if mode != "hybrid" else {})})
                for q in fresh
            )
            + "\n"
        )

    workers = args.workers or os.cpu_count() or 1
    url = f"http://127.0.0.1:{args.port}"
    server_log = args.workdir / "serve.log"
    cmd = [
        sys.executable,
        "-m",
        "paperwire",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--workers",
        str(workers),
        "--no-embedder",
    ]
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            # wait_up would take another server's /healthz for ours and time it instead.
            raise SystemExit(f"port {args.port} is in use: stop what listens there first")
    log(f"starting: {' '.join(cmd[1:])}")
    with open(server_log, "wb") as out:
        proc = subprocess.Popen(
            cmd, env=server_env(data), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
    try:
        startup_s = wait_up(url, proc)
        # Other jobs on the 2 cores skew every figure: record how busy the machine was.
        load_start = os.getloadavg()[0]
        log(f"answering after {startup_s:.1f} s; warming up")
        # Each worker opens its indexes on first use; warm both with a few requests. One
        # keep-alive connection would warm one worker only (the other met its first queries
        # under wrk's load): 8 at a time, a connection each, as wrk connects.
        from concurrent.futures import ThreadPoolExecutor

        import httpx

        def warm(path: str) -> None:
            with httpx.Client(base_url=url, timeout=120) as client:
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code, r.text[:200])

        warm_paths = ["/", "/api/daily_papers", paper_paths[0]] * 4 + [
            "/api/papers/search?q=" + q for q in warm_queries
        ] * 3
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(warm, warm_paths))
        # Let both workers finish what their first requests started (opening the indexes,
        # the refresher's first pass over them) before anything is timed.
        time.sleep(10)
        scenarios = [
            ("baseline /healthz", url + "/healthz", None),
            ("feed /", url + "/", None),
            ("paper /papers/{id}", url, papers_file),
            ("api /api/daily_papers", url + "/api/daily_papers", None),
            ("search /api/papers/search", url, search_file),
            ("search (mode=lexical)", url, search_lex_file),
            ("search, every query new", url, fresh_files["hybrid"]),
            ("search, every query new (mode=lexical)", url, fresh_files["lexical"]),
        ]
        scenarios = [s for s in scenarios if args.only in s[0]]
        results = {}
        for name, target, paths in scenarios:
            log(f"wrk {name}: {args.duration}s, {args.connections} connections")
            workers_before = child_pids(proc.pid)
            results[name] = run_wrk(
                target,
                duration=args.duration,
                connections=args.connections,
                threads=args.threads,
                paths_file=paths,
                workdir=args.workdir,
            )
            r = results[name]
            # uvicorn's supervisor kills and replaces a worker that misses its 5 s ping: a
            # restarted worker loses its caches and its connections (wrk's read errors).
            r["workers_replaced"] = len(workers_before - child_pids(proc.pid))
            log(
                f"  {r['rps']:.0f} req/s, p50 {r['p50_us'] / 1000:.1f} ms, "
                f"p99 {r['p99_us'] / 1000:.1f} ms, errors {r['errors']}, "
                f"workers replaced {r['workers_replaced']}"
            )
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "workers": workers,
        "cores": os.cpu_count(),
        "connections": args.connections,
        "threads": args.threads,
        "duration_s": args.duration,
        "distinct_papers": len(paper_paths),
        "distinct_queries": len(set(queries)),
        "fresh_queries": len(fresh),
        "startup_s": round(startup_s, 2),
        "page_cache_s": 5.0,
        "db": str(args.db),
        "note": args.note,
        "load_start": round(load_start, 1),
        "load_end": round(os.getloadavg()[0], 1),
    }
    if args.only:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return
    out_json = ROOT / "bench" / "results" / "web.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    plot(results, ROOT / "docs" / "img" / "web_bench.png")
    if args.write_docs:
        write_docs(meta, results)
    print(f"\n{meta}\n")
    print("| Scenario | req/s | p50 ms | p90 ms | p99 ms | errors | workers replaced |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p90_us'] / 1000:.1f} "
            f"| {r['p99_us'] / 1000:.1f} | {r['errors']} | {r.get('workers_replaced', '?')} |"
        )


SECTION_START = "## Web"
# docs/benchmarks.md keeps hand-written notes (known limits) after this line inside the section;
# the writer replaces only the part before it (the whole section if the line is missing).
GENERATED_END = "<!-- end of the part bench/web.py writes -->"


def docs_section(meta: dict, results: dict) -> str:
    rows = "\n".join(
        f"| {name} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p90_us'] / 1000:.1f} "
        f"| {r['p99_us'] / 1000:.1f} | {r['errors']} | {r.get('workers_replaced', '?')} |"
        for name, r in results.items()
    )
    base = results.get("baseline /healthz", {}).get("rps")
    rel = "\n".join(
        f"- {name}: {r['rps'] / base:.0%} of the baseline's requests/s"
        for name, r in results.items()
        if base and not name.startswith("baseline")
    )

    def verdict(name: str, rps_goal: int) -> str:
        r = results.get(name)
        if not r:
            return f"- {name}: not measured"
        ok = r["rps"] >= rps_goal and r["p99_us"] <= 100_000 and r["errors"] == 0
        return (
            f"- {name}: {r['rps']:,.0f} req/s, p99 {r['p99_us'] / 1000:.0f} ms, "
            f"{r['errors']} errors — target ≥ {rps_goal} req/s at p99 ≤ 100 ms: "
            + ("met" if ok else "NOT met")
        )

    targets = (
        "\nAgainst the targets:\n\n"
        + "\n".join(
            [
                verdict("feed /", 500),
                verdict("paper /papers/{id}", 500),
                verdict("search /api/papers/search", 200),
                verdict("search, every query new", 200),
            ]
        )
        + "\n"
    )
    note = f"\n{meta['note']}\n" if meta.get("note") else ""
    return f"""{SECTION_START}

`bench/web.py` (run: `bench/web.py --prepare-only` to copy the database and build the index,
then the timed part alone on the machine: `python bench/web.py --write-docs`) starts
`paperwire serve --workers {meta["workers"]}` (one worker per core, the recommended production
setting) on a copy of the 1M-paper database with 10,000 feed entries, and loads it with `wrk`
({meta["threads"]} thread, {meta["connections"]} connections, {meta["duration_s"]} s per scenario) on
loopback; server and load generator share the machine's {meta["cores"]} cores. Paper pages are
requested for {meta["distinct_papers"]:,} distinct papers (half from the feed, half random papers of the 1M),
so nearly every paper request misses the page cache; search uses {meta["distinct_queries"]} distinct
queries (common and rare words, two-word queries, 3-letter prefixes, phrases, category
filters) built from the corpus, replayed in a loop (so after its first request, a query is
answered from the worker's ranking cache); "every query new" sends {meta.get("fresh_queries", 12000):,}
different queries of the same kinds, none twice, so every request is ranked and embedded from
scratch: the engine's own cost. The baseline is `/healthz` on the same server (routing and
middleware, no database, no template). The database file and the index files are read once
before the server starts, so the OS page cache holds them as it would for a server that has
been up a while. Before anything is timed, both workers answer a few pages and 60 searches
(20 queries none of the timed ones), 8 at a time on a connection each, then rest 10 s.
Measured {meta["date"]}, load average {meta.get("load_start", "?")} when the scenarios started
and {meta.get("load_end", "?")} at the end; the server answered {meta["startup_s"]} s after start.

| Scenario | req/s | p50 ms | p90 ms | p99 ms | errors | workers replaced |
|---|---:|---:|---:|---:|---:|---:|
{rows}

{rel}
{targets}
{note}
![web benchmark](img/web_bench.png)

What makes it fast: anonymous feed and paper pages are rendered once per worker per
`PAPERWIRE_PAGE_CACHE_SECONDS` (5 s) and served from memory with the request's own CSRF token
swapped in; votes, comments and submissions clear the cache of their worker at once (other
workers within the TTL), and signed-in users always get a fresh render. Cache hits are
answered on the event loop (the thread hand-off of a sync handler cost more than the hit);
misses go to the threadpool. When an entry expires, the one request that recomputes it pays
and the others get the previous page meanwhile (never after a write's invalidation): the
once-per-TTL stall of every reader had been the p99 of cached pages. Each worker compiles its
templates and runs the MathML, Markdown and paper SQL paths before it accepts connections.
Similar papers are loaded by the page's script from `/papers/{{id}}/similar` after the page
(a link to the same list without JavaScript), so the paper page never waits for the
nearest-neighbour search. A cold paper page is one prebuilt SQL statement (building the
joined select cost as much CPU as running it) and a template whose files are not re-stat'ed
per render. Every page is a constant number of SQL statements (tested); JSON is serialized
by orjson; LaTeX-to-MathML conversions are memoized; similar papers are cached per paper
for minutes. The 1M synthetic
papers carry synthetic embeddings (bench/semantic_memory.py's generator; embedding them takes
hours on 2 cores) in a real semantic index, so hybrid search fuses both sides and embeds each
query with the real encoder. Like a server whose embedder has caught up, every paper has its
key sentence stored (`prepare_key_sentences`: the cue + position rule's choice stands in for
the embedder's vector choice; reading either costs the same), so results do not run the rule.

Search repeats are served by a per-worker ranking cache (`PAPERWIRE_SEARCH_CACHE_SIZE`,
search/cache.py): the ranked ids of a search are reused while the lexical index's generation,
commits and delta and the semantic index's generation and applied changes are unchanged, so a
cached ranking is never older than an uncached search would be; paper rows are read fresh
for every response, and upvote order is never cached. The workers of one `paperwire serve`
share what they rank (search/shared_cache.py: a file made for the run, keyed on content
versions every process agrees on), so each of the 177 replayed queries is ranked once per run,
not once per worker. The replayed queries are therefore mostly cache hits, which is what the
"every query new" rows are there to show beside them. "Workers replaced" counts server
workers that uvicorn's supervisor killed and restarted during the scenario (a worker that
misses its 5 s health ping); their open requests are wrk's read errors.
"""


def write_docs(meta: dict, results: dict) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = docs_section(meta, results)
    start = text.find(SECTION_START + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(SECTION_START))
        end = text.find(GENERATED_END, start)
        if end >= 0 and (nxt < 0 or end < nxt):
            text = text[:start] + section + "\n" + text[end:]
        else:
            text = text[:start] + section + ("\n" + text[nxt + 1 :] if nxt >= 0 else "")
    path.write_text(text)


if __name__ == "__main__":
    main()
