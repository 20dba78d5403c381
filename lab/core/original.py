"""The March 2023 outage as it really went, as a timeline the scorer reads like any drill.

From the seed postmortem (17:00-19:30 GMT, 5 March 2023; drill second 0 = 17:00, the first alert):

    0 alert ─ 5 min network suspected ─ 15 network team paged ─ 30 network ruled out ─ 45 web overloaded
      ─ 75 capacity raised, no effect ─ 90 database identified ─ 120 database restarted ─ 150 restored

The probe is what the postmortem reports: every player failing from the alert until 19:30.
"""

from __future__ import annotations

from typing import Any

from lab.core.scoring import Sample, Timeline
from lab.core.timeline import Event, Source

WALL_START = 1678035600.0  # 2023-03-05 17:00:00 UTC
RESTORED_S = 150 * 60.0

# (minute, source, kind, actor, data, what the postmortem says)
PATH: tuple[tuple[float, Source, str, str, dict[str, Any], str], ...] = (
    (0, Source.MONITOR, "alert.firing", "monitor", {"alert": "SiteAvailabilityLow", "value": 0.0},
     "The monitoring system sent an alert to the engineering team."),
    (5, Source.TEAM, "ack", "engineering", {"action": "ack", "args": {}},
     "Engineers started investigating."),
    (5, Source.TEAM, "note", "engineering",
     {"action": "note", "args": {"hypothesis": "network-failure", "text": "Assumed a network failure."}},
     "They assumed it was due to network failure."),
    (15, Source.TEAM, "escalate", "engineering", {"action": "escalate", "args": {"team": "network"}},
     "The network team was notified and started investigating as well."),
    (30, Source.TEAM, "action.check-network", "network",
     {"action": "check-network", "args": {}, "result": {"unreachable": [], "toxics": []}, "ok": True},
     "The network team ruled out network issues; the problem might be the web server."),
    (45, Source.TEAM, "action.inspect-web", "engineering",
     {"action": "inspect-web", "args": {}, "result": {}, "ok": True},
     "The engineering team investigated the web server: overloaded with requests."),
    (45, Source.TEAM, "note", "engineering",
     {"action": "note", "args": {"hypothesis": "web-overloaded", "text": "The web server is overloaded with requests."}},
     "They concluded the web server was overloaded."),
    (75, Source.TEAM, "action.scale-web", "engineering",
     {"action": "scale-web", "args": {"workers": 4}, "result": {"before": 2, "after": 4, "direction": "up"}, "ok": True},
     "The team increased the server capacity, which did not resolve the issue."),
    (90, Source.TEAM, "action.inspect-db", "engineering",
     {"action": "inspect-db", "args": {}, "result": {}, "ok": True},
     "The team started investigating the database server."),
    (90, Source.TEAM, "note", "engineering",
     {"action": "note", "args": {"hypothesis": "db-overloaded", "text": "The database is the bottleneck."}},
     "They realised the database was the bottleneck."),
    (120, Source.TEAM, "action.restart", "engineering",
     {"action": "restart", "args": {"service": "db"}, "result": {"service": "db"}, "ok": True},
     "The database server was restarted, which fixed the issue."),
    (150, Source.MONITOR, "alert.resolved", "monitor", {"alert": "SiteAvailabilityLow", "value": 1.0},
     "The website was restored to normal operation."),
    (150, Source.RUNNER, "drill.ended", "lab", {"outcome": "recovered"}, "Outage over after 2 h 30 min."),
)


def original_timeline(sample_every_s: float = 60.0) -> Timeline:
    """The original path as events, and a probe that saw every request fail until 19:30."""
    events = tuple(
        Event(id=i, wall=WALL_START + minute * 60, offset_s=minute * 60.0, source=source, kind=kind, actor=actor,
              data={**data, "postmortem": said})
        for i, (minute, source, kind, actor, data, said) in enumerate(PATH, start=1)
    )
    samples = []
    t = -sample_every_s
    while t <= RESTORED_S + 5 * sample_every_s:
        samples.append(Sample(offset_s=t, total=10, ok=0 if 0 <= t < RESTORED_S else 10))
        t += sample_every_s
    return Timeline(events=events, samples=tuple(samples))
