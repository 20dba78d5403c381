"""Feature switches: a disabled feature answers 503 at once without a database connection, the
rest of the site keeps working, and flipping the file needs no restart."""

from __future__ import annotations

import json
import os
import time

import requests

from arcade import features


def _write(path, disabled):
    path.write_text(json.dumps({"disabled": disabled}))
    later = time.time() + 1  # a distinct mtime even on coarse clocks
    os.utime(path, (later, later))


def test_switches_follow_the_file_without_a_restart(make_app, serve, tmp_path, monkeypatch):
    switches = tmp_path / "features.json"
    _write(switches, ["leaderboard", "nonsense"])
    monkeypatch.setenv("ARCADE_FEATURES_FILE", str(switches))
    app = make_app()
    base = serve(app)
    off = requests.get(f"{base}/leaderboard?game=tetra", timeout=5)
    assert off.status_code == 503 and off.json()["error"] == "feature_disabled" and off.headers["Retry-After"] == "30"
    assert requests.get(f"{base}/store", timeout=5).status_code == 200
    _write(switches, ["store"])
    time.sleep(features.CHECK_EVERY_S + 0.1)
    assert requests.get(f"{base}/leaderboard?game=tetra", timeout=5).status_code == 200
    assert requests.get(f"{base}/store", timeout=5).status_code == 503
    switches.unlink()
    time.sleep(features.CHECK_EVERY_S + 0.1)
    assert requests.get(f"{base}/store", timeout=5).status_code == 200


def test_every_feature_names_real_endpoints(make_app):
    app = make_app()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for name, covered in features.FEATURES.items():
        assert set(covered) <= endpoints, name


def test_a_disabled_feature_needs_no_database(make_app, serve, tmp_path, monkeypatch):
    switches = tmp_path / "features.json"
    _write(switches, ["leaderboard"])
    monkeypatch.setenv("ARCADE_FEATURES_FILE", str(switches))
    base = serve(make_app(dsn="host=127.0.0.1 port=9 dbname=arcade user=arcade connect_timeout=3"))
    started = time.monotonic()
    answer = requests.get(f"{base}/leaderboard?game=tetra", timeout=5)
    assert answer.json()["error"] == "feature_disabled" and time.monotonic() - started < 1.0
    assert requests.get(f"{base}/store", timeout=10).json()["error"] != "feature_disabled"
