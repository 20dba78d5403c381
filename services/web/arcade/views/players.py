"""A player's profile: coins, best score per game, recent matches."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from arcade import db
from arcade.errors import ApiError

bp = Blueprint("players", __name__)


def _iso(value: datetime | None) -> str | None:
    """An ISO 8601 timestamp, or None."""
    return value.isoformat() if value is not None else None


@bp.get("/players/<int:player_id>")
def profile(player_id: int) -> ResponseReturnValue:
    """One player's profile, or 404."""
    player = db.fetch_one("SELECT id, username, coins, created_at FROM players WHERE id = %s", (player_id,))
    if player is None:
        raise ApiError(404, "not_found", f"unknown player {player_id}")
    best = db.fetch_all(
        """
        SELECT g.slug AS game, b.best_score, b.achieved_at
        FROM best_scores AS b JOIN games AS g ON g.id = b.game_id
        WHERE b.player_id = %s ORDER BY g.id
        """,
        (player_id,),
    )
    recent = db.fetch_all(
        """
        SELECT m.id AS match_id, g.slug AS game, m.started_at, m.ended_at, m.score
        FROM matches AS m JOIN games AS g ON g.id = m.game_id
        WHERE m.player_id = %s ORDER BY m.started_at DESC LIMIT 10
        """,
        (player_id,),
    )
    return jsonify(
        player_id=player["id"],
        username=player["username"],
        coins=player["coins"],
        joined_at=_iso(player["created_at"]),
        best_scores=[{**row, "achieved_at": _iso(row["achieved_at"])} for row in best],
        recent_matches=[
            {**row, "started_at": _iso(row["started_at"]), "ended_at": _iso(row["ended_at"])}
            for row in recent
        ],
    )
