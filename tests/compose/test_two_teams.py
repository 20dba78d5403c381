"""Two teams' compose stacks side by side: their own Compose projects, networks, volumes and
ports; one team's faults and changes do not reach the other."""

from __future__ import annotations

import urllib.error
import uuid
import urllib.request

from lab.faults import engine


def code_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_two_teams_side_by_side_without_interference(compose_stack):
    suffix = uuid.uuid4().hex[:6]
    red = compose_stack("web.workers=1", name=f"red-{suffix}")
    blue = compose_stack("web.workers=1", name=f"blue-{suffix}")
    assert red.project != blue.project
    ports_red = {s.address for s in red.status().services}
    ports_blue = {s.address for s in blue.status().services}
    assert not ports_red & ports_blue
    for stack in (red, blue):
        networks = {n for c in stack.containers() if c["Labels"]["io.gameday-lab.service"] != "watchdog"
                    for n in stack.client.api.inspect_container(c["Id"])["NetworkSettings"]["Networks"]}
        assert networks == {f"gameday-{stack.name}_default"}  # (the fault watchdog is on the host's network)

    red.sql("CREATE TABLE only_in_red (x int)")
    assert blue.sql("SELECT to_regclass('only_in_red')") == [(None,)]

    cut = engine.inject(red, "net_down", {})
    red.service("db").pause()
    red.scale_web(2)
    try:
        assert code_of(red.urls()["arcade"] + "readyz") == 503
        assert code_of(blue.urls()["arcade"] + "readyz") == 200
        assert len(blue.containers("web", running=True)) == 1 and not blue.status().services[0].health == "paused"
        assert engine.journal_for(blue).active() == {}
    finally:
        red.service("db").resume()
        engine.revert_id(red, cut)
    assert code_of(red.urls()["arcade"] + "readyz") == 200

    red.down()
    assert not red.containers()
    assert blue.status().healthy and code_of(blue.urls()["arcade"] + "leaderboard?game=tetra") == 200
