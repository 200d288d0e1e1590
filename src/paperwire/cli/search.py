"""`paperwire search | similar | index | eval`."""

from __future__ import annotations

import re
import sys

import click

from paperwire.cli.output import JsonAnswer, json_output
from paperwire.config import Settings
from paperwire.errors import require_extra

_MARK = re.compile(r"</?mark>")


def _plain(html_text: str, tty: bool) -> str:
    import html

    if tty:
        text = html_text.replace("<mark>", "\x1b[1m").replace("</mark>", "\x1b[0m")
    else:
        text = _MARK.sub("", html_text)
    return html.unescape(text)


def _hit_json(hit) -> dict:
    p = hit.paper
    return {
        "id": hit.paper_id,
        "title": p.title,
        "score": round(hit.score, 6),
        "published_at": p.published_at.isoformat() if p.published_at else None,
        "authors": [a.get("name") if isinstance(a, dict) else a for a in (p.authors or [])],
        "categories": list(p.categories or []),
        "upvotes": p.upvotes,
        "abs_url": p.abs_url,
        "highlights": hit.highlights,
        "matched_by": sorted(hit.matched_by),
        "similarity": None if hit.similarity is None else round(hit.similarity, 4),
        "snippet": _MARK.sub("", hit.snippet_html),
        "snippet_html": hit.snippet_html,
    }


def _print_hits(hits, offset: int = 0) -> None:
    tty = sys.stdout.isatty()
    for i, hit in enumerate(hits, start=offset + 1):
        p = hit.paper
        date = p.published_at.date().isoformat() if p.published_at else "????-??-??"
        by = "+".join(sorted(hit.matched_by)) or "-"
        click.echo(f"{i:3d}. {_plain(hit.title_html, tty)}")
        click.echo(
            f"     {hit.paper_id}  {date}  score {hit.score:.4f}  ({by})"
            f"  {p.upvotes} upvote{'' if p.upvotes == 1 else 's'}"
        )
        if hit.snippet_html:
            click.echo(f"     {_plain(hit.snippet_html, tty)}")


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "lexical", "semantic"]),
    default="hybrid",
    show_default=True,
)
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "upvotes"]),
    default="relevance",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0, 10_000), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
@json_output()
def search_cmd(settings: Settings, query, mode, sort, limit, offset, as_json) -> JsonAnswer:
    """Search papers. QUERY supports "phrases", -exclusions, author:, cat:, after:, before:."""
    from paperwire.search.service import SearchService
    from paperwire.store.db import open_database

    db = open_database(settings)
    svc = SearchService(settings, db, background=False)
    try:
        resp = svc.search(" ".join(query), mode=mode, sort=sort, limit=limit, offset=offset)
    finally:
        svc.close()
    if as_json:
        return {
            "query": resp.query.raw,
            "mode": resp.mode,
            "sort": resp.sort,
            "total": resp.total,
            "total_is_estimate": resp.total_is_estimate,
            "has_more": resp.has_more,
            "notices": resp.notices,
            "suggestions": resp.suggestions,
            "hits": [_hit_json(h) for h in resp.hits],
        }
    for notice in resp.notices:
        click.echo(f"note: {notice}", err=True)
    for suggestion in resp.suggestions:
        click.echo(f"did you mean: {suggestion}", err=True)
    about = "about " if resp.total_is_estimate else ""
    click.echo(f"{about}{resp.total} results ({resp.mode})", err=True)
    _print_hits(resp.hits, offset)
    if resp.has_more:
        click.echo(f"more: --offset {offset + len(resp.hits)}", err=True)


@click.command("similar")
@click.argument("paper_id")
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
@json_output()
def similar_cmd(settings: Settings, paper_id, limit, as_json) -> JsonAnswer:
    """Papers most similar in meaning to PAPER_ID."""
    from paperwire.search.service import SearchService
    from paperwire.store.db import open_database

    db = open_database(settings)
    svc = SearchService(settings, db, background=False)
    try:
        hits = svc.similar(paper_id, limit=limit)
    finally:
        svc.close()
    if as_json:
        return {"paper_id": paper_id, "hits": [_hit_json(h) for h in hits]}
    _print_hits(hits)


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch instead of catching up.")
@click.option("--lexical-only", is_flag=True, help="Skip embeddings and the semantic index.")
@click.pass_obj
def index_cmd(settings: Settings, rebuild, lexical_only) -> None:
    """Bring the search indexes in line with the database (they are derived data)."""
    from paperwire.search.indexing import run_index
    from paperwire.store.db import open_database

    db = open_database(settings)
    summary = run_index(settings, db, rebuild=rebuild, progress=True, semantic=not lexical_only)
    parts = [f"lexical: {summary.lexical_docs} papers"]
    if summary.lexical_changed:
        parts.append(f"{summary.lexical_changed} changed papers folded in")
    if not lexical_only:
        parts.append(f"embedded {summary.embedded}")
        parts.append(f"semantic index {summary.semantic}")
    secs = ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items())
    click.echo("; ".join(parts) + f" ({secs})")


@click.command("eval")
@click.option(
    "--corpus",
    type=click.Path(dir_okay=False),
    required=True,
    help="BEIR corpus.jsonl ({_id, title, text} per line).",
)
@click.option(
    "--queries",
    type=click.Path(dir_okay=False),
    required=True,
    help="BEIR queries.jsonl ({_id, text} per line).",
)
@click.option(
    "--qrels",
    type=click.Path(dir_okay=False),
    required=True,
    help="BEIR qrels TSV (query-id, corpus-id, score).",
)
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "lexical", "semantic", "all"]),
    default="all",
    show_default=True,
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print exactly one JSON object on stdout (progress goes to stderr).",
)
@click.pass_obj
@json_output()
def eval_cmd(settings: Settings, corpus, queries, qrels, mode, as_json) -> JsonAnswer:
    """nDCG@10 and Recall@100 of each search mode on a BEIR collection (built in a temporary
    directory; your database is not touched)."""
    from pathlib import Path

    from paperwire.ingest.importer import import_file
    from paperwire.search.evaluate import ALL_MODES, evaluate

    def load(settings, db, corpus: Path) -> int:
        return import_file(settings, db, corpus, "beir", progress=True).new

    require_extra("ranx", "eval", "paperwire eval")
    modes = list(ALL_MODES) if mode == "all" else [mode]
    results = evaluate(
        Path(corpus),
        Path(queries),
        Path(qrels),
        modes,
        load=load,
        base_settings=settings,
        progress=True,
    )
    if as_json:
        return results
    click.echo(f"{'mode':<10} {'nDCG@10':>8} {'Recall@100':>11}")
    for m, values in results.items():
        click.echo(f"{m:<10} {values['ndcg@10']:>8.4f} {values['recall@100']:>11.4f}")


COMMANDS = [search_cmd, similar_cmd, index_cmd, eval_cmd]
