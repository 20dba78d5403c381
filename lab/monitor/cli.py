"""`gameday load set RATE | show` and `gameday monitor`: drive and watch a stack by hand."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live

from lab.errors import StackError, UsageError
from lab.monitor.events import JsonlLog, JsonlSink
from lab.monitor.load import LoadControl
from lab.monitor.monitor import Monitor, MonitorConfig, MonitorThread, tick_record
from lab.monitor.probe import ProbeConfig
from lab.monitor.rules import RuleError, apply_overrides, default_rules, parse_assignment
from lab.monitor.view import plain_line, render
from lab.output import print_json
from lab.stack.cli import stack_named, stack_options
from lab.timeline import rundir
from loadgen.mix import MixError, parse_mix
from loadgen.shapes import SHAPES, ShapeError, parse_shape

console = Console(highlight=False, soft_wrap=True)


@click.group()
def load() -> None:
    """Show or change the player traffic the load generator sends."""


@load.command("set", context_settings={"ignore_unknown_options": True})
@stack_options
@click.argument("rate")
@click.option("--shape", default="constant", show_default=True, help=f"One of: {', '.join(SHAPES)}.")
@click.option("--to", "to", type=float, help="step/ramp/spike: the rate to go to.")
@click.option("--at", "at", type=float, help="step/spike: seconds from now.")
@click.option("--over", type=float, help="ramp: seconds to reach --to.")
@click.option("--duration", type=float, help="spike: seconds at --to.")
@click.option("--mix", help="Route weights, e.g. lobby=30,login=10.")
def load_set(name: str, root: Path | None, rate: str, shape: str, to: float | None, at: float | None,
             over: float | None, duration: float | None, mix: str | None) -> None:
    """Set the request rate (per second) and its shape, starting now."""
    try:
        value = float(rate)
    except ValueError:
        raise UsageError(f"rate: expected requests per second (a number from 0 to 100000), got {rate!r}") from None
    body: dict[str, Any] = {"shape": shape, "rate": value}  # the keyword arguments of LoadControl.set
    body.update({k: v for k, v in {"to": to, "at": at, "over": over, "duration": duration}.items() if v is not None})
    try:
        parse_shape(body)  # the generator checks again; this gives the error before any network
        if mix is not None:
            body["mix"] = parse_mix(mix).as_dict()
    except (ShapeError, MixError) as exc:
        raise UsageError(str(exc)) from None
    control = LoadControl(stack_named(name, root).address("loadgen"))
    state = control.set(**body)
    console.print(f"load: {state.describe()}")


@load.command("show")
@stack_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (schema: lab/schemas/load.json).")
def load_show(name: str, root: Path | None, as_json: bool) -> None:
    """Show the current shape and the last seconds' counts and latency."""
    control = LoadControl(stack_named(name, root).address("loadgen"))
    if as_json:
        print_json({"state": control.get("/state"), "stats": control.get("/stats?seconds=5")})
        return
    console.print(f"load: {control.state().describe()}")
    for s in control.seconds(5):
        shown = " ".join(f"{k}:{v}" for k, v in sorted(s.outcomes.items())) or "-"
        console.print(f"  {time.strftime('%H:%M:%S', time.localtime(s.t))} issued {s.issued:>6}  "
                      f"p50 {s.p50_ms} p90 {s.p90_ms} p99 {s.p99_ms} max {s.max_ms} ms  {shown}")


@click.command()
@stack_options
@click.option("--duration", type=float, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--plain", is_flag=True, help="One line per second instead of the live view.")
@click.option("--probe-rate", type=float, default=2.0, show_default=True, help="Probe journeys per second (~5 requests each).")
@click.option("--probe-timeout", type=float, default=2.0, show_default=True, help="Seconds before a probe request counts as failed.")
@click.option("--latency-threshold", type=float, default=1.0, show_default=True, help="p95 seconds for SiteLatencyHigh.")
@click.option("--rule", "rule_sets", multiple=True, metavar="NAME.FIELD=VALUE",
              help="Change an alert rule, e.g. SiteAvailabilityLow.for=5 or DbConnectionsSaturated.enabled=false.")
@click.option("--events", type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file alert events are appended to [default: <run dir>/monitor/alerts.jsonl]; "
                   "per-second SLIs go to sli.jsonl beside it.")
def monitor(name: str, root: Path | None, duration: float | None, plain: bool, probe_rate: float,
            probe_timeout: float, latency_threshold: float, rule_sets: tuple[str, ...], events: Path | None) -> None:
    """Live view of availability, latency, DB connections and firing alerts."""
    if not 0.1 <= probe_rate <= 50:
        raise UsageError(f"--probe-rate: {probe_rate:g} is out of range; valid: 0.1-50 journeys per second")
    if not 0.1 <= probe_timeout <= 60:
        raise UsageError(f"--probe-timeout: {probe_timeout:g} is out of range; valid: 0.1-60 seconds")
    overrides: dict[str, dict[str, Any]] = {}
    try:
        for text in rule_sets:
            rule_name, field_name, value = parse_assignment(text)
            overrides.setdefault(rule_name, {})[field_name] = value
        rules = apply_overrides(default_rules(latency_threshold), overrides)
    except RuleError as exc:
        raise UsageError(str(exc)) from None
    stack = stack_named(name, root)
    arcade_url = stack.urls()["arcade"]
    loadgen = stack.address("loadgen") if "loadgen" in stack.services else None
    sink = JsonlSink(events or stack.run_dir / "monitor" / "alerts.jsonl")
    sli = JsonlLog(sink.path.with_name(rundir.SLI))
    config = MonitorConfig(probe=ProbeConfig(rate=probe_rate, timeout_s=probe_timeout), rules=rules)
    mon = Monitor(arcade_url, stack.admin_target(), config, sink, on_tick=lambda tick: sli.write(tick_record(tick)))
    until = time.monotonic() + duration if duration else None
    with MonitorThread(mon) as thread:
        if plain:
            _run_plain(thread, until)
        else:
            _run_live(thread, loadgen, f"stack '{name}'", until)
            console.print()
    console.print(f"alert events: {sink.path}\nper-second SLIs: {sli.path}")


def _run_plain(thread: MonitorThread, until: float | None) -> None:
    shown = 0
    while until is None or time.monotonic() < until:
        ticks = thread.ticks()
        for tick in ticks[shown:] if shown <= len(ticks) else ticks[-1:]:
            console.print(plain_line(tick))
        shown = len(ticks)
        time.sleep(0.2)


def _run_live(thread: MonitorThread, loadgen: str | None, title: str, until: float | None) -> None:
    with Live(render([], None, title), console=console, refresh_per_second=4) as live:
        while until is None or time.monotonic() < until:
            stats = None
            if loadgen:
                try:
                    stats = LoadControl(loadgen, timeout=0.5).get("/stats?seconds=1")
                except (StackError, UsageError):
                    stats = None
            live.update(render(thread.ticks(), stats, title))
            time.sleep(1.0)
