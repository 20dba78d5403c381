"""`make demo`: bring an embedded stack up, play some player traffic against Arcade, show status.

Until the drill runner lands this is the main job: it shows the real system the lab breaks.
The stack is stopped at the end unless DEMO_KEEP=1 (then `gameday down --name demo` stops it).
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from rich.console import Console

from lab.errors import LabError
from lab.stack.config import load_config
from lab.stack.local import LocalStack

console = Console(highlight=False)
GAMES = ["tetra", "snake", "pong", "invaders", "racer"]


def request(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if resp.headers.get_content_type() == "application/json" else ""
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except OSError:
        return 0, {}


def player_session(base: str, rng: random.Random, counts: collections.Counter, lock: threading.Lock) -> None:
    """One player: lobby, login, leaderboard, a match with a score, sometimes a purchase."""
    n = rng.randint(1, 10_000)
    game = rng.choice(GAMES)
    steps = [
        ("lobby", "GET", "/", None),
        ("login", "POST", "/login", {"username": f"player{n}", "password": "arcade"}),
        ("leaderboard", "GET", f"/leaderboard?game={game}", None),
    ]
    results = []
    for name, method, path, body in steps:
        results.append((name, *request(base, method, path, body)))
    status, match = request(base, "POST", "/matches", {"player_id": n, "game": game})
    results.append(("start match", status, match))
    if status == 201 and isinstance(match, dict):
        results.append(("submit score", *request(base, "POST", f"/matches/{match['match_id']}/score", {"score": rng.randint(0, 99_999)})))
    if rng.random() < 0.3:
        results.append(("purchase", *request(base, "POST", "/store/purchase", {"player_id": n, "item_id": rng.randint(1, 5)})))
    with lock:
        for name, status, _ in results:
            counts[(name, status)] += 1


def main() -> None:
    stack = LocalStack("demo", config=load_config(None, []))
    console.rule("[bold]gameday-lab demo: Arcade on a real PostgreSQL")
    try:
        if stack.is_up():
            stack.down()
        with console.status("bringing the embedded stack up ...") as spinner:
            started = time.monotonic()
            stack.up(progress=lambda msg: spinner.update(msg))
        console.print(f"stack 'demo' healthy in {time.monotonic() - started:.1f} s; Arcade at {stack.urls()['arcade']}")
        base = stack.urls()["arcade"].rstrip("/")
        counts: collections.Counter = collections.Counter()
        lock = threading.Lock()
        seconds, players = 10, 8
        deadline = time.monotonic() + seconds
        with console.status(f"{players} players playing for {seconds} s ..."):
            def play(seed: int) -> None:
                rng = random.Random(seed)
                while time.monotonic() < deadline:
                    player_session(base, rng, counts, lock)
            threads = [threading.Thread(target=play, args=(i,)) for i in range(players)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        console.print("player traffic (route, HTTP status: requests):")
        for (name, status), n in sorted(counts.items()):
            console.print(f"  {name:<13} {status}: {n}")
        console.print()
        subprocess.run([sys.executable, "-m", "lab.cli", "status", "--name", "demo"], check=False)
    except LabError as exc:
        console.print(f"[red]Error:[/] {exc}")
        sys.exit(exc.exit_code)
    finally:
        if os.environ.get("DEMO_KEEP") == "1":
            console.print("stack left running: `.venv/bin/gameday down --name demo` stops it")
        else:
            stack.down()
            console.print("stack 'demo' stopped (DEMO_KEEP=1 keeps it running to explore)")


if __name__ == "__main__":
    main()
