"""Tokens, CSRF and what a team may see, against a live drill: a refused request is answered
with an error and leaves no trace (no event, no fault, the drill still running)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from lab.faults import engine
from lab.timeline.store import TimelineStore
from .console_helpers import ensure_halted, start_drill, wait_for

pytestmark = pytest.mark.integration


def _kinds(run_dir: Path) -> list[tuple[str, str, str]]:
    return [(e.source.value, e.kind, e.actor) for e in TimelineStore(run_dir / "events.jsonl").read()]


def _stream(client, seconds: float) -> list[dict]:
    """The timeline events a session's event stream delivers within `seconds`."""
    got, kind = [], None
    with client.http.get(client.url("/stream?run=" + client.run + "&after=0"), stream=True, timeout=10) as resp:
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        deadline = time.monotonic() + seconds
        for line in resp.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "timeline":
                got.append(json.loads(line[6:]))
            if time.monotonic() > deadline:
                break
    return got


def test_refused_requests_change_nothing_and_teams_see_no_hidden_details(login, march_stack):
    facilitator, team = login("facilitator", "fran"), login("team", "alice")
    run_dir = start_drill(facilitator, march_stack, "sec", speed=10)
    try:
        wait_for(lambda: any(k == "fault.injected" for _, k, _ in _kinds(run_dir)), 30, "the surge to be injected")
        journal_before = engine.journal_for(march_stack).records()
        before = _kinds(run_dir)

        # a team session on every facilitator endpoint: 403, nothing done
        for path, data in (("/facilitator/halt", {}), ("/facilitator/halt-all", {}), ("/facilitator/hint", {"hint": "look-at-db"}),
                           ("/facilitator/inject", {"kind": "net_latency", "params": "latency_ms=500"}),
                           ("/facilitator/start", {"scenario": "march-2023-db-overload", "team": "x"})):
            answer = team.post(path, data)
            assert answer.status_code == 403, (path, answer.status_code)
            assert "facilitator token is needed" in answer.text
        assert team.get("/facilitator").status_code == 403
        assert team.get("/facilitator/score").status_code == 403
        assert team.get(f"/runs/{run_dir.name}/report").status_code == 403

        # no CSRF token: refused for both roles, on every kind of post
        for client, path, data in ((team, "/team/act", {"action": "note", "arg_text": "no csrf"}),
                                   (team, "/team/act", {"action": "terminate-idle-connections"}),
                                   (facilitator, "/facilitator/halt", {}),
                                   (facilitator, "/facilitator/halt-all", {}),
                                   (facilitator, "/facilitator/hint", {"hint": "look-at-db"}),
                                   (facilitator, "/facilitator/inject", {"kind": "net_latency", "params": "latency_ms=500"})):
            answer = client.post(path, data, csrf=False)
            assert answer.status_code == 400 and "CSRF token is missing" in answer.text, (path, answer.text[:300])
        # a token from another session does not pass either
        answer = team.http.post(team.url("/team/act"), data={"action": "ack", "csrf_token": facilitator.csrf},
                                timeout=10, allow_redirects=False)
        assert answer.status_code == 400

        # no session at all
        anonymous = requests.post(team.url("/facilitator/halt"), timeout=10, allow_redirects=False)
        assert anonymous.status_code in (400, 401)
        assert requests.get(team.url("/stream"), timeout=10, allow_redirects=False).status_code in (302, 401)

        # bad arguments: 400 with the field named, nothing run
        answer = team.post("/team/act", {"action": "scale-web", "arg_workers": "many"})
        assert answer.status_code == 400 and "workers" in answer.text
        answer = team.post("/team/act", {"action": "reboot-everything"})
        assert answer.status_code == 400 and "unknown action" in answer.text

        after = _kinds(run_dir)
        refused_marks = [e for e in after[len(before):]
                         if e[0] in ("team", "facilitator") or e[1] in ("drill.halt", "hint.released")]
        assert refused_marks == [], refused_marks
        journal_after = engine.journal_for(march_stack).records()
        assert [r for r in journal_after[len(journal_before):] if r.get("run_id") != run_dir.name or
                r.get("fault_id", "").startswith("net_latency")] == []
        assert (march_stack.run_dir / "drill.json").exists(), "the drill was stopped by a refused request"

        # what a team sees: the story told, never what is not told, no fault events on page or stream
        page = team.get("/team").text
        assert "17:00 on a Sunday" in page and "tournament launch" not in page and "fault.injected" not in page
        team.run = facilitator.run = run_dir.name
        team_events = _stream(team, 2.0)
        facilitator_events = _stream(facilitator, 2.0)
        assert team_events and all("fault." not in e["html"] for e in team_events)
        assert any("fault.injected" in e["html"] for e in facilitator_events)
        assert "tournament launch" in facilitator.get("/facilitator").text

        # the same action with the token is recorded, with the server's source and the member as actor
        answer = team.post("/team/act", {"action": "note", "arg_text": "with csrf", "arg_hypothesis": "db-connections-exhausted"})
        assert answer.status_code == 303
        note = [e for e in TimelineStore(run_dir / "events.jsonl").read() if e.kind == "note"][-1]
        assert (note.source.value, note.actor, note.data["args"]["text"]) == ("team", "alice", "with csrf")
    finally:
        ensure_halted(facilitator, march_stack)
    assert not engine.journal_for(march_stack).active()
