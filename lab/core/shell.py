"""What a command typed in the recorded shell means to the lab (pure: no clock, file or socket).

    classify("psql -c 'select * from pg_stat_activity'") -> Classified("inspect-db", {})
    classify("pg_ctl -D $PGDATA restart")               -> Classified("restart", {"service": "db"})
    classify("ls -l")                                    -> None: kept as a plain command

Commands the lab recognises become the toolbox actions they amount to, so a responder who uses
their own tools is scored like one who uses `gameday act`. The rules look at the words of the
command line (split like a shell would), never run anything.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

# Words that name the database / the web tier in `docker restart NAME`, `systemctl restart NAME`, ...
DB_WORDS = ("db", "postgres", "postgresql", "database", "pg")
WEB_WORDS = ("web", "arcade", "gunicorn", "app")
NETWORK_TOOLS = {"ping", "traceroute", "tracepath", "mtr", "nc", "ncat", "netcat", "telnet", "ss", "netstat", "dig",
                 "nslookup", "tcpdump", "toxiproxy-cli"}
HTTP_TOOLS = {"curl", "wget", "http", "https", "ab", "hey"}
HISTORY_NUMBER = re.compile(r"^\s*\d+\*?\s+")


@dataclass(frozen=True)
class Classified:
    """The toolbox action a command line amounts to."""

    action: str
    args: dict[str, Any] = field(default_factory=dict)


def strip_history_number(line: str) -> str:
    """`history 1` prints '  42  psql ...'; keep the command."""
    return HISTORY_NUMBER.sub("", line, count=1).rstrip("\n")


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # an unclosed quote: fall back to whitespace
        return line.split()


def _commands(words: list[str]) -> list[list[str]]:
    """Split a command line into its simple commands at |, &&, ||, ; (sudo and env prefixes dropped)."""
    parts: list[list[str]] = [[]]
    for word in words:
        if word in {"|", "||", "&&", ";", "&"}:
            parts.append([])
        elif word.endswith(";") and len(word) > 1:
            parts[-1].append(word[:-1])
            parts.append([])
        else:
            parts[-1].append(word)
    cleaned = []
    for part in parts:
        while part and (part[0] in {"sudo", "env", "time", "nohup", "exec"} or "=" in part[0] and not part[0].startswith("-")):
            part = part[1:]
            if part and part[0] in {"-u", "-E"} and len(part) > 1:  # sudo -u postgres ...
                part = part[2:] if part[0] == "-u" else part[1:]
        if part:
            cleaned.append(part)
    return cleaned


def _names(words: list[str], names: tuple[str, ...]) -> bool:
    return any(any(n == w or n in re.split(r"[-_./:]", w) for n in names) for w in words)


def _service(words: list[str]) -> str | None:
    if _names(words, DB_WORDS):
        return "db"
    if _names(words, WEB_WORDS):
        return "web"
    if _names(words, ("proxy", "toxiproxy")):
        return "proxy"
    if _names(words, ("pgbouncer", "pooler")):
        return "pooler"
    return None


def _sql_action(sql: str) -> Classified | None:
    text = sql.lower()
    if "pg_terminate_backend" in text:
        if "idle" in text:
            return Classified("terminate-idle-connections")
        return Classified("kill-query")
    if "pg_cancel_backend" in text:
        return Classified("kill-query")
    if "alter system" in text:
        return Classified("set-db-setting")
    if any(view in text for view in ("pg_stat_activity", "pg_locks", "pg_blocking_pids", "max_connections")):
        return Classified("inspect-db")
    return None


def _one(cmd: list[str]) -> Classified | None:
    tool = cmd[0].rsplit("/", 1)[-1]
    rest = cmd[1:]
    if tool in {"su", "runuser", "bash", "sh"} and "-c" in rest[:-1]:
        return classify(rest[rest.index("-c") + 1])  # su postgres -c "pg_ctl restart ..."
    if tool == "psql":
        return _sql_action(" ".join(rest))
    if tool in {"pg_ctl", "pg_ctlcluster"} and "restart" in rest:
        return Classified("restart", {"service": "db"})
    if tool in {"docker", "docker-compose", "podman", "systemctl", "service", "kubectl"}:
        verbs = [w for w in rest if not w.startswith("-")]
        if "restart" in verbs or "rollout" in verbs:
            service = _service([w for w in verbs if w not in {"restart", "rollout", "compose"}])
            if service:
                return Classified("restart", {"service": service})
        if "logs" in verbs:
            service = _service([w for w in verbs if w != "logs"])
            return Classified("logs", {"service": service} if service else {})
        if "scale" in verbs or any(w.startswith("--scale") for w in rest):
            return Classified("scale-web")
        return None
    if tool == "gameday":
        return None  # the lab's own commands record themselves
    if tool in HTTP_TOOLS:
        return Classified("inspect-web")
    if tool in NETWORK_TOOLS:
        return Classified("check-network")
    if tool in {"top", "htop", "ps", "pgrep", "uptime", "vmstat", "free"}:
        return Classified("status")
    if tool in {"tail", "less", "cat", "grep", "journalctl"} and any("log" in w for w in rest):
        service = _service(rest)
        return Classified("logs", {"service": service} if service else {})
    return None


def classify(line: str) -> Classified | None:
    """The toolbox action a command line amounts to (the first simple command that means one), or None."""
    for cmd in _commands(_words(line)):
        found = _one(cmd)
        if found is not None:
            return found
    return None
