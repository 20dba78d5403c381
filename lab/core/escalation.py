"""What a paged team answers, from what it measured (pure: the measuring is done by the runner).

    gameday escalate network   ─ t+0    event `escalate` (team)
                                 t+120  event `escalation.answered` (facilitator, actor "network team"):
                                        "the network is clean: TCP connect 0.2 ms to every service..."

In a game day the facilitator plays the other teams; the lab does it with the truth: the answer
describes what the network or the database really looks like at the moment it is given, so a
team that blamed the network learns, after a realistic wait, that it was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NETWORK_WORDS = ("network", "net", "netops", "networking", "infra", "infrastructure")
DATABASE_WORDS = ("database", "db", "dba", "dbas", "postgres", "postgresql", "data", "storage")
# How long each kind of team takes to answer a page, in drill seconds.
DELAY_S = {"network": 120.0, "database": 180.0, "other": 90.0}


@dataclass(frozen=True)
class Escalation:
    team: str
    asked_at_s: float

    @property
    def kind(self) -> str:
        return team_kind(self.team)

    @property
    def due_s(self) -> float:
        return self.asked_at_s + DELAY_S[self.kind]


def team_kind(team: str) -> str:
    """'network', 'database' or 'other', from the words of the team's name."""
    words = {w for w in team.lower().replace("-", " ").replace("_", " ").split()}
    if words & set(NETWORK_WORDS):
        return "network"
    if words & set(DATABASE_WORDS):
        return "database"
    return "other"


def network_answer(team: str, measured: dict[str, Any]) -> str:
    """The network team's answer from a check-network result."""
    toxics = measured.get("toxics") or []
    unreachable = measured.get("unreachable") or []
    connect = {k: v for k, v in (measured.get("connect_ms") or {}).items() if v is not None}
    worst = max(connect.values(), default=None)
    if not toxics and not unreachable and measured.get("db_link_enabled", True) is not False:
        shown = f"{worst:.1f} ms" if worst is not None else "fast"
        return (f"{team} team here: the network is clean. TCP connect to every service within {shown}, "
                "no loss, no added latency on the web-to-database path. This is not a network problem.")
    problems = [f"{t['type']} on {t['proxy']} ({t['stream']})" for t in toxics]
    problems += [f"{name} unreachable" for name in unreachable]
    if measured.get("db_link_enabled") is False:
        problems.append("the web-to-database link is down")
    return f"{team} team here: we do see trouble: {'; '.join(problems)}."


def database_answer(team: str, measured: dict[str, Any]) -> str:
    """The database team's answer from an inspect-db result."""
    used, limit = measured.get("connections_used"), measured.get("max_connections")
    parts = [f"{team} team here: {used} of {limit} connections in use"]
    idle_tx = [s for s in measured.get("by_state") or [] if s.get("state") == "idle in transaction"]
    if idle_tx:
        count = sum(int(s["count"]) for s in idle_tx)
        apps = sorted({str(s.get("application") or "?") for s in idle_tx})
        parts.append(f"{count} of them idle in transaction (from {', '.join(apps)})")
    longest = measured.get("longest_transactions") or []
    if longest and longest[0].get("age_s") is not None:
        parts.append(f"the oldest transaction is {float(longest[0]['age_s']):.0f} s old")
    blocked = measured.get("blocked") or []
    parts.append(f"{len(blocked)} sessions waiting on locks" if blocked else "no lock waits")
    if used is not None and limit and used >= limit * 0.9:
        parts.append("the server is out of connection slots")
    return "; ".join(parts) + "."


def other_answer(team: str) -> str:
    return f"{team} team here: acknowledged. Nothing on our side looks related; tell us if you need us."
