"""The Investigate page: known-bad accounts in, the accounts most linked to them out (graph/detect/seeded.py)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app import params
from app.auth import require_role
from app.pages import is_json_twin, render_page, show_cypher
from graph import audit
from graph.errors import LinkwatchError

bp = Blueprint("investigate", __name__)

MAX_SEEDS = 5_000
MAX_TOP = 500  # leads returned at most


def _seeds_from(text: str) -> list[str]:
    return list(dict.fromkeys(s.strip() for s in text.replace(",", "\n").splitlines() if s.strip()))


@bp.route("/investigate", methods=["GET", "POST"])
@bp.route("/api/investigate", methods=["POST"], endpoint="investigate_json")
@require_role("analyst")
def seeded():
    """Known-bad accounts in, the accounts most linked to them out, each with its evidence path."""
    from graph.detect import seeded as seeded_search

    as_json = is_json_twin()
    if as_json:
        body = params.json_object()
        seeds = params.to_text_list(body.get("seeds", []), "seeds", MAX_SEEDS)
    else:
        body = request.form
        seeds = _seeds_from(params.to_text(body.get("seeds", ""), "seeds", max_len=MAX_SEEDS * 200))
    top = params.to_int(body.get("top") or 50, "top", 1, MAX_TOP)
    leads, error = [], None
    if request.method == "POST":
        if not seeds:
            error = "paste at least one account id"
        elif len(seeds) > MAX_SEEDS:
            error = f"at most {MAX_SEEDS:,} seed accounts at a time"
        else:
            try:
                leads = [{"account": lead.account_id, "score": lead.score, "path": lead.path}
                         for lead in seeded_search.rank(seeds, top=top)]
            except LinkwatchError as exc:
                error = str(exc)
            else:
                # the statements rank() ran (its PageRank step is a GDS call, not a saved query)
                show_cypher("detect/account_nodes", account_ids=seeds)
                if leads:
                    show_cypher("detect/evidence_paths", targets=[lead["account"] for lead in leads], seeds=seeds)
        audit.record("investigate.seeded", current_user.name, seeds=len(seeds), top=top, error=error)
    if as_json and error:
        return jsonify(error=error), 400
    if as_json:
        return render_page("investigate.html", seeds=seeds, top=top, leads=leads)
    return render_page("investigate.html", seeds="\n".join(seeds), top=top, leads=leads, error=error)
