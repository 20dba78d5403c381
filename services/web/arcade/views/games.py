"""Leaderboards and matches: start a match, post its score."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from arcade import db
from arcade.errors import ApiError
from arcade.views.body import int_field, json_object, str_field

bp = Blueprint("games", __name__)

MAX_LIMIT = 100


@bp.get("/leaderboard")
def leaderboard() -> ResponseReturnValue:
    """The best players of one game: ?game=<slug>&limit=10."""
    slug = request.args.get("game", "")
    if not slug:
        raise BadRequest("game: required, e.g. /leaderboard?game=tetra")
    raw_limit = request.args.get("limit", "10")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise BadRequest(f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {raw_limit!r}")
    game = db.fetch_one("SELECT id, slug FROM games WHERE slug = %s", (slug,))
    if game is None:
        raise ApiError(404, "not_found", f"unknown game {slug!r}")
    entries = db.fetch_all(
        """
        SELECT rank() OVER (ORDER BY b.best_score DESC) AS rank, p.username AS player,
               b.best_score AS score
        FROM best_scores AS b JOIN players AS p ON p.id = b.player_id
        WHERE b.game_id = %s
        ORDER BY b.best_score DESC, b.achieved_at
        LIMIT %s
        """,
        (game["id"], int(raw_limit)),
    )
    if "broken_leaderboard" in current_app.config["ARCADE"].flags:
        raise RuntimeError("leaderboard: rank formatting failed (broken_leaderboard flag: a bad deploy)")
    return jsonify(game=game["slug"], entries=entries)


@bp.post("/matches")
def start_match() -> ResponseReturnValue:
    """Start a match of a game for a player: 201 with its id."""
    body = json_object()
    player_id, slug = int_field(body, "player_id", minimum=1), str_field(body, "game")
    row = db.fetch_one(
        """
        INSERT INTO matches (player_id, game_id)
        SELECT p.id, g.id FROM players AS p, games AS g WHERE p.id = %s AND g.slug = %s
        RETURNING id
        """,
        (player_id, slug),
    )
    if row is None:
        known = db.fetch_one("SELECT EXISTS (SELECT 1 FROM games WHERE slug = %s) AS game", (slug,))
        what = f"unknown player {player_id}" if known and known["game"] else f"unknown game {slug!r}"
        raise ApiError(404, "not_found", what)
    return jsonify(match_id=row["id"]), 201


@bp.post("/matches/<int:match_id>/score")
def post_score(match_id: int) -> ResponseReturnValue:
    """Finish a match with its score: record it and keep the player's best score current."""
    score = int_field(json_object(), "score", minimum=0)
    with db.transaction() as cur:
        cur.execute("SELECT player_id, game_id, score FROM matches WHERE id = %s FOR UPDATE", (match_id,))
        match = cur.fetchone()
        if match is None:
            raise ApiError(404, "not_found", f"unknown match {match_id}")
        if match["score"] is not None:
            raise ApiError(409, "match_finished", f"match {match_id} already has a score")
        cur.execute("UPDATE matches SET score = %s, ended_at = now() WHERE id = %s", (score, match_id))
        cur.execute(
            "INSERT INTO scores (player_id, game_id, match_id, score) VALUES (%s, %s, %s, %s) RETURNING id",
            (match["player_id"], match["game_id"], match_id, score),
        )
        score_row = cur.fetchone()
        cur.execute(
            """
            INSERT INTO best_scores (player_id, game_id, best_score, achieved_at)
            VALUES (%s, %s, %s, now())
            ON CONFLICT (player_id, game_id) DO UPDATE
                SET best_score = EXCLUDED.best_score, achieved_at = EXCLUDED.achieved_at
                WHERE best_scores.best_score < EXCLUDED.best_score
            """,
            (match["player_id"], match["game_id"], score),
        )
    return jsonify(match_id=match_id, score=score, score_id=score_row["id"] if score_row else None)
