"""Links to code and resources in the paper objects of pages, the API and feeds.

``attach(session, papers)`` adds to each paper dict (``services.api_objects.paper_json``) the public Daily
Papers API's ``githubRepo`` (the first visible code link on github.com) and ``projectPage``
(the first visible project page), and ``links``: every visible link as ``{id, kind, label,
url}``, code first, then model, dataset, demo, project page, video (the page groups them in
that order). One statement for all the papers of a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from paperwire.records.links import KIND_LABELS, KINDS
from paperwire.store.links import visible_links

# The badges of a feed card (kinds not listed show no badge).
BADGES = {"code": "Code", "project": "Project", "model": "Model", "dataset": "Dataset"}


def link_fields(rows: Iterable[Any]) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: (KINDS.index(r.kind) if r.kind in KINDS else 99, r.id))
    links = [
        {"id": r.id, "kind": r.kind, "label": KIND_LABELS.get(r.kind, r.kind), "url": r.url}
        for r in rows
    ]
    github = next(
        (
            x["url"]
            for x in links
            if x["kind"] == "code" and x["url"].startswith("https://github.com/")
        ),
        None,
    )
    project = next((x["url"] for x in links if x["kind"] == "project"), None)
    return {"githubRepo": github, "projectPage": project, "links": links}


def attach(session: Any, papers: list[dict[str, Any]]) -> None:
    """Add ``githubRepo``, ``projectPage`` and ``links`` to these paper dicts, in place
    (``session``: a store session or connection)."""
    if not papers:
        return
    found = visible_links(session, [p["id"] for p in papers])
    for paper in papers:
        paper.update(link_fields(found.get(paper["id"], [])))


def badges(paper: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, label, url of its first link) of the card badges: one per kind present, in the
    fixed order (Code, Project, Model, Dataset)."""
    first: dict[str, str] = {}
    for x in paper.get("links") or []:
        first.setdefault(x["kind"], x["url"])
    return [(k, label, first[k]) for k, label in BADGES.items() if k in first]


def grouped(paper: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The paper page's groups: (label, links) per kind present, in ``KINDS`` order."""
    out = []
    for kind in KINDS:
        group = [x for x in paper.get("links") or [] if x["kind"] == kind]
        if group:
            out.append(
                (KIND_LABELS[kind] + ("s" if len(group) > 1 and kind != "code" else ""), group)
            )
    return out
