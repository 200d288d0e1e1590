"""``paperwire recommend``: a member's recommendations with their reasons (for operators), and
``--all`` to precompute every member's (what the nightly ``recommend`` job does)."""

from __future__ import annotations

import click

from paperwire.cli.output import json_output
from paperwire.config import Settings
from paperwire.errors import NotFound


@click.command("recommend")
@click.argument("username", required=False)
@click.option(
    "--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Number of papers."
)
@click.option("--refresh", is_flag=True, help="Compute afresh instead of reading the stored ones.")
@click.option(
    "--all",
    "all_members",
    is_flag=True,
    help="Precompute every member with signals (the nightly job), with a progress bar.",
)
@click.option(
    "--list",
    "list_id",
    type=click.IntRange(1, 2**31 - 1),
    default=None,
    help="Recommend for this list of USERNAME's (its papers are the positives).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
@json_output()
def recommend_cmd(settings: Settings, username, limit, refresh, all_members, list_id, as_json):
    """Papers recommended to USERNAME (or, with --list, for one of their lists), each with
    the reason in words."""
    from paperwire.services import recommendations as service
    from paperwire.store.db import open_database
    from paperwire.store.users import get_user_by_username

    db = open_database(settings)
    if all_members:
        members, stored = service.precompute_all(settings, db, progress=True)
        if as_json:
            return {"members": members, "recommendations": stored}
        click.echo(f"recommendations for {members} members ({stored} papers)")
        return None
    if not username:
        raise click.UsageError("name a USERNAME, or use --all")
    with db.session() as s:
        user = get_user_by_username(s, username)
        if user is None:
            raise NotFound(f"no user named {username!r}")
        uid = user.id
    if list_id is not None:
        # Never stored, so --refresh has nothing to drop; this process's cache starts empty.
        recs = service.for_list(db, settings, uid, list_id, limit=limit)
    else:
        if refresh:
            from paperwire.store.recommendations import delete_member_recommendations

            with db.session() as s:
                delete_member_recommendations(s, uid)
        recs = service.recommendations_for(settings, db, uid, limit=limit)
    from paperwire.store.papers import get_papers

    with db.session() as s:
        papers = get_papers(s, [r.paper_id for r in recs])
        titles = {pid: p.title for pid, p in papers.items()}
    if as_json:
        doc = {"user": username}
        if list_id is not None:
            doc["list"] = list_id
        return {
            **doc,
            "recommendations": [
                {
                    "paper_id": r.paper_id,
                    "title": titles.get(r.paper_id, ""),
                    "score": round(r.score, 6),
                    "reason": r.reason,
                    "reason_kind": r.reason_kind,
                    "reason_label": r.reason_label,
                    "reason_paper_id": r.reason_paper_id,
                }
                for r in recs
            ],
        }
    if not recs:
        if list_id is not None:
            click.echo(
                f"no recommendations for list {list_id} of {username} (it is empty, "
                f"or nothing is close among the last {settings.recommend_days} days' "
                f"papers)"
            )
            return None
        click.echo(
            f"no recommendations for {username} yet (no signals, or nothing close "
            f"among the last {settings.recommend_days} days' papers)"
        )
        return None
    for n, r in enumerate(recs, 1):
        click.echo(f"{n:2d}. {r.paper_id}  {' '.join(titles.get(r.paper_id, '').split())}")
        click.echo(f"    {r.reason}")
    return None


COMMANDS = [recommend_cmd]
