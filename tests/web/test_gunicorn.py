"""Arcade under real gunicorn: 2 gthread workers, metrics aggregated across them.

    gunicorn -c python:arcade.gunicorn_conf --bind 127.0.0.1:PORT --workers 2 --threads 4 \\
             --timeout 30 'arcade:create_app()'
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from arcade_helpers import wait_for

pytestmark = pytest.mark.integration


@dataclass
class Gunicorn:
    url: str
    master: psutil.Process
    metrics_dir: Path
    log: Path

    def workers(self) -> list[int]:
        return sorted(child.pid for child in self.master.children())


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn(pg: Any, tmp_path: Path) -> Iterator[Gunicorn]:
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"")  # a stale file from an earlier run
    log = tmp_path / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCADE_", "PROMETHEUS_"))}
    env.update(ARCADE_DSN=f"{pg.app_dsn} application_name=arcade-gunicorn-test",
               PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:arcade.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--timeout", "30",
            "arcade:create_app()"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        server = Gunicorn(f"http://127.0.0.1:{port}", psutil.Process(proc.pid), metrics_dir, log)
        wait_for(lambda: _up(server.url) and len(server.workers()) == 2, timeout=20, what="gunicorn to start")
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _up(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def sample(text: str, line_start: str, default: float | None = None) -> float:
    match = re.search(rf"^{re.escape(line_start)} (\S+)$", text, re.MULTILINE)
    if match is None and default is not None:
        return default
    assert match, f"{line_start} not in /metrics"
    return float(match.group(1))


HEALTHZ = 'arcade_http_requests_total{method="GET",route="/healthz",status="200"}'
HEALTHZ_SECONDS = 'arcade_http_request_duration_seconds_count{route="/healthz"}'


def test_metrics_aggregate_across_two_workers(gunicorn: Gunicorn) -> None:
    assert not (gunicorn.metrics_dir / "counter_999999.db").exists()  # on_starting cleared it
    before = requests.get(gunicorn.url + "/metrics", timeout=5).text  # start-up probes hit /healthz
    sent = 0

    def served_by_both() -> bool:
        nonlocal sent
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: requests.get(gunicorn.url + "/healthz", timeout=5).status_code, range(16)))
        sent += len(codes)
        assert set(codes) == {200}
        return len(list(gunicorn.metrics_dir.glob("counter_*.db"))) == 2

    wait_for(served_by_both, timeout=20, what="both workers to serve requests")
    assert requests.get(gunicorn.url + "/leaderboard?game=tetra&limit=3", timeout=5).status_code == 200
    text = requests.get(gunicorn.url + "/metrics", timeout=5).text
    assert sample(text, HEALTHZ) == sample(before, HEALTHZ, 0) + sent
    assert sample(text, HEALTHZ_SECONDS) == sample(before, HEALTHZ_SECONDS, 0) + sent
    assert sample(text, 'arcade_http_requests_total{method="GET",route="/leaderboard",status="200"}') == 1
    assert sample(text, "arcade_db_connections_in_use") == 0  # livesum: one series, no pid label
    assert sample(text, "arcade_db_connections_waiting") == 0


def test_a_dead_workers_gauges_are_dropped(gunicorn: Gunicorn) -> None:
    victim = gunicorn.workers()[0]
    gauges = gunicorn.metrics_dir / f"gauge_livesum_{victim}.db"

    def written() -> bool:  # a worker writes its gauges once it has served (a busy machine: later)
        requests.get(gunicorn.url + "/healthz", timeout=5)
        return gauges.exists()

    wait_for(written, timeout=20, what="the worker's gauges")
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: not (gunicorn.metrics_dir / f"gauge_livesum_{victim}.db").exists(), what="child_exit")
    wait_for(lambda: len(gunicorn.workers()) == 2 and victim not in gunicorn.workers(), what="a new worker")
    assert requests.get(gunicorn.url + "/readyz", timeout=5).json() == {"db": "ok"}
