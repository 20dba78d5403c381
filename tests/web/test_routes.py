"""Every route against the seeded session database (Flask test client)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg2.extensions
import pytest
from flask import Flask
from flask.testing import FlaskClient

from arcade import metrics

Admin = psycopg2.extensions.connection


def scalar(admin: Admin, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with admin.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def test_lobby_shows_games_their_top_three_and_the_player_count(client: FlaskClient, admin: Admin) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    players = scalar(admin, "SELECT count(*) FROM players")
    assert f'<strong id="player-count">{players}</strong>' in page
    for slug in ("tetra", "snake", "pong", "invaders", "racer"):
        assert f'id="game-{slug}"' in page
    best = scalar(
        admin,
        "SELECT p.username FROM best_scores b JOIN players p ON p.id = b.player_id JOIN games g ON g.id = b.game_id "
        "WHERE g.slug = 'tetra' ORDER BY b.best_score DESC, b.achieved_at LIMIT 1",
    )
    assert f"<li>{best}: " in page
    assert "Latest scores" in page


def test_login(client: FlaskClient) -> None:
    ok = client.post("/login", json={"username": "player42", "password": "arcade"})
    assert (ok.status_code, ok.get_json()) == (200, {"player_id": 42, "username": "player42"})
    for body in ({"username": "player42", "password": "nope"}, {"username": "nobody", "password": "arcade"}):
        denied = client.post("/login", json=body)
        assert (denied.status_code, denied.get_json()) == (401, {"error": "bad_credentials"})


def test_leaderboard_ranks_best_scores(client: FlaskClient, admin: Admin) -> None:
    response = client.get("/leaderboard?game=snake&limit=5")
    assert response.status_code == 200
    body = response.get_json()
    assert body["game"] == "snake"
    assert [e["rank"] for e in body["entries"]][:1] == [1]
    assert len(body["entries"]) == 5
    scores = [e["score"] for e in body["entries"]]
    assert scores == sorted(scores, reverse=True)
    top = scalar(admin, "SELECT max(s.score) FROM scores s JOIN games g ON g.id = s.game_id WHERE g.slug = 'snake'")
    assert scores[0] == top
    assert len(client.get("/leaderboard?game=snake").get_json()["entries"]) == 10  # default limit


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("game=chess", 404, "not_found"),
        ("", 400, "bad_request"),
        ("game=tetra&limit=0", 400, "bad_request"),
        ("game=tetra&limit=101", 400, "bad_request"),
        ("game=tetra&limit=ten", 400, "bad_request"),
    ],
)
def test_leaderboard_bad_queries(client: FlaskClient, query: str, status: int, error: str) -> None:
    response = client.get(f"/leaderboard?{query}")
    assert response.status_code == status
    assert response.get_json()["error"] == error
    assert response.get_json()["detail"]


def test_broken_leaderboard_flag_is_a_500(make_app: Callable[..., Flask]) -> None:
    client = make_app(flags="broken_leaderboard").test_client()
    response = client.get("/leaderboard?game=tetra")
    assert response.status_code == 500
    assert response.get_json()["error"] == "internal_error"
    assert client.get("/store").status_code == 200  # only the leaderboard is broken


def test_player_profile(client: FlaskClient, admin: Admin) -> None:
    response = client.get("/players/1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "player1"
    assert body["coins"] == scalar(admin, "SELECT coins FROM players WHERE id = 1")
    best = {row["game"]: row["best_score"] for row in body["best_scores"]}
    expected = scalar(
        admin, "SELECT max(s.score) FROM scores s JOIN games g ON g.id = s.game_id WHERE s.player_id = 1 AND g.slug = 'tetra'"
    )
    assert best["tetra"] == expected
    assert 0 < len(body["recent_matches"]) <= 10
    assert client.get("/players/999999").status_code == 404
    assert client.get("/players/999999").get_json()["error"] == "not_found"


def test_a_match_and_its_score_reach_the_leaderboard(client: FlaskClient, admin: Admin) -> None:
    started = client.post("/matches", json={"player_id": 9876, "game": "pong"})
    assert started.status_code == 201
    match_id = started.get_json()["match_id"]
    posted = client.post(f"/matches/{match_id}/score", json={"score": 1_000_000})
    assert posted.status_code == 200
    assert posted.get_json()["score"] == 1_000_000
    assert scalar(admin, "SELECT score FROM matches WHERE id = %s AND ended_at IS NOT NULL", (match_id,)) == 1_000_000
    assert scalar(admin, "SELECT count(*) FROM scores WHERE match_id = %s", (match_id,)) == 1
    top = client.get("/leaderboard?game=pong&limit=1").get_json()["entries"][0]
    assert top == {"rank": 1, "player": "player9876", "score": 1_000_000}
    again = client.post(f"/matches/{match_id}/score", json={"score": 5})
    assert (again.status_code, again.get_json()["error"]) == (409, "match_finished")
    assert scalar(admin, "SELECT count(*) FROM scores WHERE match_id = %s", (match_id,)) == 1
    with admin.cursor() as cur:  # leave pong's leaderboard as seeded for other tests
        cur.execute("DELETE FROM best_scores WHERE player_id = 9876 AND best_score = 1000000")


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/matches", {"player_id": 1, "game": "chess"}, 404, "not_found"),
        ("/matches", {"player_id": 99999999, "game": "tetra"}, 404, "not_found"),
        ("/matches", {"player_id": "1", "game": "tetra"}, 400, "bad_request"),
        ("/matches", {"player_id": True, "game": "tetra"}, 400, "bad_request"),
        ("/matches", {"player_id": 2**40, "game": "tetra"}, 400, "bad_request"),
        ("/matches", {"game": "tetra"}, 400, "bad_request"),
        ("/matches", [1, 2], 400, "bad_request"),
        ("/matches/999999999/score", {"score": 10}, 404, "not_found"),
        ("/matches/1/score", {"score": -1}, 400, "bad_request"),
        ("/matches/1/score", {"score": 1.5}, 400, "bad_request"),
        ("/login", {"username": "player1"}, 400, "bad_request"),
        ("/login", {"username": 1, "password": "arcade"}, 400, "bad_request"),
        ("/store/purchase", {"player_id": 1}, 400, "bad_request"),
        ("/store/purchase", {"player_id": 1, "item_id": 999}, 404, "not_found"),
        ("/store/purchase", {"player_id": 99999999, "item_id": 1}, 404, "not_found"),
    ],
)
def test_bad_bodies(client: FlaskClient, path: str, body: Any, status: int, error: str) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] == error


def test_a_body_that_is_not_json_is_a_400(client: FlaskClient) -> None:
    response = client.post("/login", data="username=player1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "bad_request",
        "detail": "expected a JSON object body (Content-Type: application/json)",
    }


def test_store_lists_items(client: FlaskClient) -> None:
    items = client.get("/store").get_json()["items"]
    assert len(items) >= 5
    assert all(set(item) == {"id", "name", "price"} and item["price"] > 0 for item in items)


def test_purchase_takes_coins_in_one_transaction(client: FlaskClient, admin: Admin) -> None:
    with admin.cursor() as cur:
        cur.execute("UPDATE players SET coins = 300 WHERE id = 4242")
        cur.execute("SELECT id, price_coins FROM store_items WHERE price_coins <= 300 ORDER BY price_coins DESC LIMIT 1")
        item_id, price = cur.fetchone()
    purchases_before = scalar(admin, "SELECT count(*) FROM purchases WHERE player_id = 4242")
    bought = client.post("/store/purchase", json={"player_id": 4242, "item_id": item_id})
    assert bought.status_code == 200
    assert bought.get_json()["coins_left"] == 300 - price
    assert scalar(admin, "SELECT coins FROM players WHERE id = 4242") == 300 - price
    assert scalar(admin, "SELECT count(*) FROM purchases WHERE player_id = 4242") == purchases_before + 1
    assert scalar(admin, "SELECT price_coins FROM purchases WHERE id = %s", (bought.get_json()["purchase_id"],)) == price


def test_insufficient_coins_changes_nothing(client: FlaskClient, admin: Admin) -> None:
    with admin.cursor() as cur:
        cur.execute("UPDATE players SET coins = 10 WHERE id = 4243")
        cur.execute("SELECT id FROM store_items WHERE price_coins > 10 ORDER BY price_coins LIMIT 1")
        item_id = cur.fetchone()[0]
    purchases_before = scalar(admin, "SELECT count(*) FROM purchases WHERE player_id = 4243")
    refused = client.post("/store/purchase", json={"player_id": 4243, "item_id": item_id})
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "insufficient_coins"
    assert scalar(admin, "SELECT coins FROM players WHERE id = 4243") == 10
    assert scalar(admin, "SELECT count(*) FROM purchases WHERE player_id = 4243") == purchases_before
    # the row lock was released with the transaction: an admin can update the player at once
    with admin.cursor() as cur:
        cur.execute("SET lock_timeout = '1s'")
        cur.execute("UPDATE players SET coins = coins WHERE id = 4243")
        cur.execute("RESET lock_timeout")


def test_health_and_readiness(client: FlaskClient) -> None:
    assert (client.get("/healthz").status_code, client.get("/healthz").get_json()) == (200, {"status": "ok"})
    assert (client.get("/readyz").status_code, client.get("/readyz").get_json()) == (200, {"db": "ok"})


def test_unknown_paths_and_methods_answer_json(client: FlaskClient) -> None:
    missing = client.get("/nope")
    assert (missing.status_code, missing.get_json()["error"]) == (404, "not_found")
    wrong = client.delete("/store")
    assert (wrong.status_code, wrong.get_json()["error"]) == (405, "method_not_allowed")
    assert "GET" in wrong.headers["Allow"]


def test_metrics_count_requests_by_url_rule(client: FlaskClient) -> None:
    def count(route: str, status: str) -> float:
        value = metrics.REGISTRY.get_sample_value(
            "arcade_http_requests_total", {"route": route, "method": "GET", "status": status}
        )
        return value or 0.0

    before = count("/players/<int:player_id>", "200"), count("/players/<int:player_id>", "404")
    client.get("/players/3")
    client.get("/players/5")
    client.get("/players/999999")
    assert count("/players/<int:player_id>", "200") == before[0] + 2
    assert count("/players/<int:player_id>", "404") == before[1] + 1
    text = client.get("/metrics").get_data(as_text=True)
    assert 'arcade_http_requests_total{method="GET",route="/players/<int:player_id>",status="200"}' in text
    assert 'arcade_http_request_duration_seconds_bucket{le="0.005",route="/players/<int:player_id>"}' in text
    for name in ("arcade_db_connections_in_use", "arcade_db_connections_waiting"):
        assert f"# TYPE {name} gauge" in text
    assert "# TYPE arcade_db_errors_total counter" in text
    assert "/players/3" not in text  # raw paths never become labels
