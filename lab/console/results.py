"""A toolbox result as a person reads it: a headline per tool and tables, never a box of raw JSON
(the console keeps the JSON behind a toggle). Pure: a result dict in, text and rows out.

    headline(event)  -> "36 of 100 connections: 34 idle in transaction, 2 active"
    tables(result)   -> [Table("", ("", ""), facts), Table("by state", ("user", "state", "count"), rows), ...]

Durations: a key ending in `_s` is in drill seconds (actions convert, lab.actions.base), except
`duration_s`, how long the action itself took, which is real time; `_ms` keys are measured latencies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lab.core.timeline import Event

MAX_ROWS = 50  # a table longer than this says how many rows it left out


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    left_out: int = 0


def label(key: str) -> str:
    """A result key as a column or row label, with its unit and clock."""
    if key == "duration_s":
        return "took (real s)"
    if key.endswith("_s"):
        return key.removesuffix("_s").replace("_", " ") + " (drill s)"
    if key.endswith("_ms"):
        return key.removesuffix("_ms").replace("_", " ") + " (ms)"
    return key.replace("_", " ")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 0.001 or value == 0 else f"{value:.2e}"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list)) for v in value):
            return ", ".join(cell(v) for v in value) or "-"
        return json.dumps(value, default=str)
    if isinstance(value, dict):
        return ", ".join(f"{label(str(k))}: {cell(v)}" for k, v in value.items()) or "-"
    return str(value)


def _rows_table(title: str, items: list[Any]) -> Table:
    shown = items[:MAX_ROWS]
    if all(isinstance(item, dict) for item in shown):
        keys: list[str] = []
        for item in shown:
            keys += [str(k) for k in item if str(k) not in keys]
        rows = tuple(tuple(cell(item.get(k)) for k in keys) for item in shown)
        return Table(label(title), tuple(label(k) for k in keys), rows, len(items) - len(shown))
    return Table(label(title), ("value",), tuple((cell(item),) for item in shown), len(items) - len(shown))


def tables(result: Mapping[str, Any]) -> list[Table]:
    """Scalars first as one two-column table of facts, then a table per list or mapping."""
    facts = tuple((label(str(k)), cell(v)) for k, v in result.items() if not isinstance(v, (list, dict, tuple)))
    out = [Table("", ("", ""), facts)] if facts else []
    for key, value in result.items():
        if isinstance(value, (list, tuple)):
            out.append(_rows_table(str(key), list(value)) if value else Table(label(str(key)), ("",), (("none",),)))
        elif isinstance(value, dict):
            if value and all(isinstance(v, dict) for v in value.values()):
                rows = [{"name": k, **v} for k, v in value.items()]
                out.append(_rows_table(str(key), rows))
            else:
                rows2 = tuple((label(str(k)), cell(v)) for k, v in value.items())
                out.append(Table(label(str(key)), ("", ""), rows2 or (("none", ""),)))
    return out


# --- one line per tool ---------------------------------------------------------------------------

def _inspect_db(r: Mapping[str, Any]) -> str:
    states = sorted((row for row in r.get("by_state") or [] if isinstance(row, dict)),
                    key=lambda row: -int(row.get("count") or 0))
    by_state: dict[str, int] = {}
    for row in states:
        by_state[str(row.get("state"))] = by_state.get(str(row.get("state")), 0) + int(row.get("count") or 0)
    parts = ", ".join(f"{n} {s}" for s, n in by_state.items())
    line = f"{r.get('connections_used')} of {r.get('max_connections')} connections"
    if parts:
        line += f": {parts}"
    if r.get("blocked"):
        line += f"; {len(r['blocked'])} blocked"
    return line


def _terminate(r: Mapping[str, Any]) -> str:
    n = r.get("terminated", 0)
    return f"terminated {n} session{'s' if n != 1 else ''}" + (f" ({cell(r['by_state'])})" if r.get("by_state") else "")


def _network(r: Mapping[str, Any]) -> str:
    connect = r.get("connect_ms")
    if isinstance(connect, dict) and connect:
        return "connect: " + ", ".join(f"{k} {cell(v)} ms" if v is not None else f"{k} unreachable"
                                       for k, v in connect.items())
    return _generic(r)


def _generic(r: Mapping[str, Any]) -> str:
    shown = [f"{label(str(k))} {cell(v)}" for k, v in r.items() if not isinstance(v, (list, dict, tuple))]
    lists = [f"{len(v)} {label(str(k))}" for k, v in r.items() if isinstance(v, (list, tuple))]
    return ", ".join(shown + lists)[:160] or "done"


HEADLINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "inspect-db": _inspect_db,
    "terminate-idle-connections": _terminate,
    "check-network": _network,
}


def headline(event: Event) -> str:
    """What an action found or did, in one line (its failure when it failed; the command for the shell;
    what a paged team answered; a released hint's text)."""
    d = event.data
    if event.kind == "escalation.answered":
        return f"the {d.get('team') or event.actor} team answered: {d.get('text') or '(no answer text)'}"
    if event.kind == "hint.released":
        return f"hint: {d.get('text', '')}"
    if event.kind == "shell.command" or d.get("via") == "shell":
        code = d.get("exit_code")
        return f"$ {d.get('command', '')}" + (f"  (exit {code})" if code not in (0, None) else "")
    if not d.get("ok", True):
        return f"failed: {d.get('error', '')}"[:300]
    result = d.get("result")
    if not isinstance(result, dict) or not result:
        return "done"
    make = HEADLINES.get(str(d.get("action")), _generic)
    try:
        return make(result)
    except (TypeError, ValueError, AttributeError):  # a result of another shape (an older run): still a line
        return _generic(result)


FINDING_KINDS = ("shell.command", "escalation.answered", "hint.released")


def is_finding(event: Event) -> bool:
    """What the whole team should see in full: an action's outcome, a command typed in the shell, an
    answer from a paged team, a released hint."""
    return event.kind.startswith("action.") or event.kind in FINDING_KINDS
