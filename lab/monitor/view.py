"""The live terminal view of the monitor: a pure function of ticks (and the generator's stats)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from lab.monitor.monitor import Tick


def _pct(v: float | None) -> str:
    return "  -  " if v is None else f"{v * 100:5.1f} %"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.0f} ms"


def window_availability(ticks: list[Tick], seconds: int) -> float | None:
    """Probe availability over the last `seconds` ticks (None without probe results)."""
    recent = ticks[-seconds:]
    total = sum(t.probe.total for t in recent)
    return sum(t.probe.ok for t in recent) / total if total else None


def db_text(tick: Tick) -> str:
    db = tick.db
    if db is None:
        return "not watched"
    if db.error:
        return f"unreachable: {db.error}"
    states = ", ".join(f"{n} {s}" for s, n in sorted(db.by_state.items()))
    ratio = f" ({db.ratio * 100:.0f} % of usable)" if db.ratio is not None else ""
    return f"{db.total} / {db.max_connections}{ratio}: {states}"


def plain_line(tick: Tick) -> str:
    """One line per second, for logs and non-terminals."""
    p = tick.probe
    five = tick.signals.get("arcade_5xx_per_s")
    return (f"{tick.t} avail {_pct(p.availability).strip()} ({p.ok}/{p.total}) p95 {_ms(p.p95)} "
            f"db {db_text(tick)} 5xx/s {'-' if five is None else f'{five:.0f}'} "
            f"firing [{', '.join(tick.firing)}]")


def render(ticks: list[Tick], loadgen: dict[str, Any] | None, title: str) -> Group:
    """The whole screen: SLIs, database, Arcade, load, alerts."""
    if not ticks:
        return Group(Text(f"{title}: waiting for the first second ..."))
    last = ticks[-1]
    p = last.probe
    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("availability", f"{_pct(p.availability)} last s ({p.ok}/{p.total})   "
                                  f"{_pct(window_availability(ticks, 60))} last 60 s")
    table.add_row("latency", f"p50 {_ms(p.p50)}  p95 {_ms(p.p95)}  p99 {_ms(p.p99)}  max {_ms(p.max)}")
    if p.failures:
        table.add_row("probe failures", ", ".join(f"{k} x{n}" for k, n in sorted(p.failures.items())))
    table.add_row("db connections", db_text(last))
    arcade = last.arcade
    if arcade is not None:
        if arcade.error:
            table.add_row("arcade /metrics", f"no answer: {arcade.error}")
        else:
            five = last.signals.get("arcade_5xx_per_s")
            causes = ", ".join(f"{c} {n:.0f}" for c, n in sorted(arcade.db_errors.items())) or "none"
            table.add_row("arcade", f"5xx/s {'-' if five is None else f'{five:.0f}'}  "
                                    f"db in use {arcade.db_in_use or 0:.0f}  waiting {arcade.db_waiting or 0:.0f}  "
                                    f"db errors since start: {causes}")
    if loadgen is not None:
        secs = loadgen.get("seconds") or [{}]
        s = secs[-1]
        lat = s.get("latency_ms", {})
        table.add_row("load", f"target {loadgen.get('target_rate', 0):.0f}/s  issued {s.get('issued', 0)}/s  "
                              f"p50 {lat.get('p50')} ms  p99 {lat.get('p99')} ms  in flight {loadgen.get('in_flight')}")
    alerts = Text()
    if last.firing:
        alerts.append("FIRING: " + ", ".join(last.firing), style="bold red")
    if last.pending:
        alerts.append(("  " if last.firing else "") + "pending: " + ", ".join(last.pending), style="yellow")
    if not last.firing and not last.pending:
        alerts.append("no alerts", style="green")
    table.add_row("alerts", alerts)
    return Group(table)
