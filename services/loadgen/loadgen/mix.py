"""The player mix: which Arcade routes players hit, with weights, and the bytes of each request.

    route         request                                         default weight
    lobby         GET  /                                          30
    leaderboard   GET  /leaderboard?game=<game>                   25
    login         POST /login {username, password}                15
    start_match   POST /matches {player_id, game}                 12
    submit_score  POST /matches/<id>/score {score}                10  (a match this generator started)
    purchase      POST /store/purchase {player_id, item_id}        8
    healthz       GET  /healthz (no database; for benchmarks)      0

Requests are built as raw HTTP/1.1 bytes (keep-alive); the randomness comes from a `random.Random`
passed in, so the same seed gives the same traffic.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections import deque
from dataclasses import dataclass

GAMES = ("tetra", "snake", "pong", "invaders", "racer")
PLAYERS = 10_000
ITEMS = 8
PASSWORD = "arcade"

ROUTES = ("lobby", "leaderboard", "login", "start_match", "submit_score", "purchase", "healthz")
DEFAULT_WEIGHTS = {"lobby": 30.0, "leaderboard": 25.0, "login": 15.0, "start_match": 12.0,
                   "submit_score": 10.0, "purchase": 8.0}


class MixError(ValueError):
    """A mix description names an unknown route or a bad weight (one line)."""


@dataclass(frozen=True)
class Mix:
    """Routes with relative weights (at least one positive)."""

    weights: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict[str, float]:
        return dict(self.weights)


def default_mix() -> Mix:
    return Mix(tuple(DEFAULT_WEIGHTS.items()))


def parse_mix(spec: str | dict[str, object]) -> Mix:
    """`lobby=30,login=10` (or a mapping) -> Mix; unknown routes and bad weights are one-line errors."""
    if isinstance(spec, str):
        pairs: list[tuple[str, object]] = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise MixError(f"mix: expected ROUTE=WEIGHT, got {part!r}")
            pairs.append((key.strip(), value.strip()))
    elif isinstance(spec, dict):
        pairs = list(spec.items())
    else:
        raise MixError(f"mix: expected an object of route weights, got {spec!r}")
    weights: list[tuple[str, float]] = []
    for route, raw in pairs:
        name = str(route)
        if name not in ROUTES:
            raise MixError(f"mix: unknown route {name!r}; valid: {', '.join(ROUTES)}")
        try:
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                raise ValueError
            weight = float(raw)
        except (TypeError, ValueError):
            raise MixError(f"mix.{name}: expected a weight >= 0, got {raw!r}") from None
        if not 0 <= weight < float("inf"):
            raise MixError(f"mix.{name}: expected a weight >= 0, got {raw!r}")
        weights.append((name, weight))
    if not any(w > 0 for _, w in weights):
        raise MixError("mix: at least one route needs a positive weight")
    return Mix(tuple(weights))


class Picker:
    """Draws routes by weight and builds their request bytes."""

    def __init__(self, mix: Mix, host: str, rng: random.Random):
        active = [(name, w) for name, w in mix.weights if w > 0]
        self.names = [name for name, _ in active]
        self.cum = list(itertools.accumulate(w for _, w in active))
        self.rng = rng
        self.host = host
        self.matches: deque[int] = deque(maxlen=10_000)  # started, not yet scored
        head = f" HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gameday-loadgen\r\n"
        self._get_lobby = f"GET /{head}\r\n".encode()
        self._get_health = f"GET /healthz{head}\r\n".encode()
        self._get_board = [f"GET /leaderboard?game={g}{head}\r\n".encode() for g in GAMES]
        self._head = head

    def pick(self) -> tuple[str, bytes]:
        """One request: (route, raw bytes)."""
        rng = self.rng
        name = self.names[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]
        if name == "lobby":
            return name, self._get_lobby
        if name == "leaderboard":
            return name, self._get_board[rng.randrange(len(GAMES))]
        if name == "healthz":
            return name, self._get_health
        if name == "login":
            body = '{"username":"player%d","password":"%s"}' % (rng.randint(1, PLAYERS), PASSWORD)
            return name, self._post("/login", body)
        if name == "submit_score" and self.matches:
            match = self.matches.popleft()
            return name, self._post(f"/matches/{match}/score", '{"score":%d}' % rng.randint(0, 100_000))
        if name in ("start_match", "submit_score"):
            body = '{"player_id":%d,"game":"%s"}' % (rng.randint(1, PLAYERS), GAMES[rng.randrange(len(GAMES))])
            return "start_match", self._post("/matches", body)
        body = '{"player_id":%d,"item_id":%d}' % (rng.randint(1, PLAYERS), rng.randint(1, ITEMS))
        return "purchase", self._post("/store/purchase", body)

    def _post(self, path: str, body: str) -> bytes:
        return (f"POST {path}{self._head}Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

    def started(self, body: bytes) -> None:
        """Remember a match a start_match response created, for a later submit_score."""
        at = body.find(b'"match_id"')
        if at < 0:
            return
        digits = bytearray()
        for ch in body[at + 10:at + 40]:
            if 48 <= ch <= 57:
                digits.append(ch)
            elif digits:
                break
        if digits:
            self.matches.append(int(digits))
