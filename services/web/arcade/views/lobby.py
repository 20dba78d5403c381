"""The lobby page: games with their top three, how many players, the latest scores."""

from __future__ import annotations

from flask import Blueprint, render_template

from arcade import db

bp = Blueprint("lobby", __name__)


@bp.get("/")
def lobby() -> str:
    """Render the lobby (HTML)."""
    games = db.fetch_all("SELECT id, slug, name, description FROM games ORDER BY id")
    top = db.fetch_all(
        """
        SELECT g.id AS game_id, t.username, t.best_score
        FROM games AS g
        CROSS JOIN LATERAL (
            SELECT p.username, b.best_score
            FROM best_scores AS b JOIN players AS p ON p.id = b.player_id
            WHERE b.game_id = g.id
            ORDER BY b.best_score DESC, b.achieved_at
            LIMIT 3
        ) AS t
        """
    )
    for game in games:
        game["top"] = [row for row in top if row["game_id"] == game["id"]]
    count = db.fetch_one("SELECT count(*) AS n FROM players")
    latest = db.fetch_all(
        """
        SELECT p.username, g.name AS game, s.score, s.achieved_at
        FROM scores AS s
        JOIN players AS p ON p.id = s.player_id
        JOIN games AS g ON g.id = s.game_id
        ORDER BY s.achieved_at DESC
        LIMIT 10
        """
    )
    return render_template(
        "lobby.html", games=games, player_count=count["n"] if count else 0, latest=latest
    )
