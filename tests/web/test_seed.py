"""Schema and seed: sizes, idempotence, skew, the seeded password, speed, and the command line."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest

from arcade.seed import install

Conn = psycopg2.extensions.connection


def counts(conn: Conn) -> dict[str, int]:
    tables = ("players", "games", "matches", "scores", "best_scores", "store_items", "purchases")
    with conn.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables))
        return dict(zip(tables, cur.fetchone()))


@pytest.fixture
def fresh_db(pg: Any) -> Iterator[Callable[[], tuple[str, Conn]]]:
    """Empty databases owned by the arcade role: (dsn, connection); dropped at teardown."""
    made: list[tuple[str, Conn]] = []

    def make() -> tuple[str, Conn]:
        name = f"seed_{uuid.uuid4().hex[:8]}"
        with contextlib.closing(pg.admin()) as admin, admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name} OWNER arcade")
        dsn = re.sub(r"dbname=\S+", f"dbname={name}", pg.app_dsn)
        made.append((name, psycopg2.connect(dsn)))
        return dsn, made[-1][1]

    yield make
    with contextlib.closing(pg.admin()) as admin, admin.cursor() as cur:
        for name, conn in made:
            conn.close()
            cur.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_install_creates_seeds_and_is_idempotent(fresh_db: Callable[[], tuple[str, Conn]]) -> None:
    _, conn = fresh_db()
    install(conn, players=300, scores=2000)
    seeded = counts(conn)
    assert seeded["players"] == 300 and seeded["scores"] == 2000 and seeded["matches"] == 2000
    assert seeded["games"] == 5 and seeded["store_items"] >= 5 and seeded["purchases"] == 60
    install(conn, players=999, scores=999)  # already seeded: nothing changes
    assert counts(conn) == seeded
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
        assert cur.fetchone()[0] == 9  # added once, not again
        cur.execute("SELECT slug FROM games ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["tetra", "snake", "invaders", "racer", "pong"]
        cur.execute(
            "SELECT count(*) FROM players "
            "WHERE password_hash = encode(sha256(convert_to(password_salt || 'arcade', 'UTF8')), 'hex')"
        )
        assert cur.fetchone()[0] == 300
        cur.execute("SELECT count(DISTINCT password_salt) FROM players")
        assert cur.fetchone()[0] == 300
        cur.execute(
            "SELECT count(*) FROM (SELECT player_id, game_id, max(score) AS m FROM scores GROUP BY 1, 2) s "
            "JOIN best_scores b USING (player_id, game_id) WHERE b.best_score = s.m"
        )
        assert cur.fetchone()[0] == seeded["best_scores"]
        # identities continue after the seeded ids
        cur.execute("INSERT INTO matches (player_id, game_id) VALUES (1, 1) RETURNING id")
        assert cur.fetchone()[0] == 2001
    conn.rollback()


def test_default_seed_sizes_skew_and_speed(fresh_db: Callable[[], tuple[str, Conn]]) -> None:
    _, conn = fresh_db()
    started = time.monotonic()
    install(conn)
    elapsed = time.monotonic() - started
    print(f"seed of 10,000 players and 100,000 scores: {elapsed:.1f} s")
    assert elapsed < 15
    seeded = counts(conn)
    assert (seeded["players"], seeded["scores"], seeded["matches"]) == (10_000, 100_000, 100_000)
    with conn.cursor() as cur:
        cur.execute("SELECT min(id), max(id), bool_and(username = 'player' || id) FROM players")
        assert cur.fetchone() == (1, 10_000, True)
        cur.execute("SELECT max(n), percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM "
                    "(SELECT count(*) AS n FROM scores GROUP BY player_id) s")
        busiest, median = cur.fetchone()
        assert busiest > 50 * median  # a few players play a lot
        cur.execute("SELECT g.slug FROM scores s JOIN games g ON g.id = s.game_id GROUP BY 1 ORDER BY count(*)")
        by_plays = [r[0] for r in cur.fetchall()]
        assert (by_plays[0], by_plays[-1]) == ("pong", "tetra")
        cur.execute("SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL FROM pg_stat_user_tables "
                    "WHERE relname = 'best_scores'")
        assert cur.fetchone()[0] is True
        cur.execute("EXPLAIN SELECT player_id FROM best_scores WHERE game_id = 1 ORDER BY best_score DESC LIMIT 10")
        assert "best_scores_leaderboard" in "\n".join(r[0] for r in cur.fetchall())


def test_session_database_holds_the_default_seed(admin: Conn) -> None:
    with admin.cursor() as cur:
        cur.execute("SELECT count(*), min(id), max(id) FROM players")
        assert cur.fetchone() == (10_000, 1, 10_000)
        cur.execute("SELECT count(*) FROM scores WHERE match_id <= 100000")
        assert cur.fetchone()[0] == 100_000


def test_command_line(fresh_db: Callable[[], tuple[str, Conn]]) -> None:
    dsn, _ = fresh_db()
    ok = subprocess.run([sys.executable, "-m", "arcade.seed", "--dsn", dsn, "--players", "50", "--scores", "100"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert re.fullmatch(r"arcade: 50 players, 100 scores \(\d+\.\d s\)\n", ok.stdout)
    bad = subprocess.run([sys.executable, "-m", "arcade.seed", "--dsn", dsn, "--players", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: players must be >= 1")
    refused = subprocess.run([sys.executable, "-m", "arcade.seed", "--dsn", "host=127.0.0.1 port=1 dbname=x"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and refused.stderr.startswith("Error: cannot connect:")
