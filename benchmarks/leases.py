"""Fault leases: how soon the site serves again once a lease runs out, per fault kind, and what
keeping leases alive costs. Prints figures; not a test.

    .venv/bin/python benchmarks/leases.py [--lease 2] [--kinds net_latency,db_pause] [--drill-hours 1]

1. Per fault kind, on one embedded stack with its watchdog: inject the kind's example with a lease
   and nobody renewing it (a drill that died), then time from the lease's expiry to the watchdog's
   `reverted` line and to the site serving again (/readyz 200 and the home page 200; goal <= 5 s).
2. Renewal cost: the drill writes one fsynced `renew` line a second per run; the drill, the
   watchdog (2/s) and every fault helper (2/s) look at the leases in the journal, each reading
   only what was appended since its last look. Timed here on journals as long as a drill of 1
   minute and of `--drill-hours`, and as the watchdog's CPU on the live stack with a leased fault
   renewed every second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from lab.faults import FAULTS, engine  # noqa: E402
from lab.faults.helper import lease_gone  # noqa: E402
from lab.faults.journal import FaultJournal  # noqa: E402
from lab.stack.config import load_config  # noqa: E402
from lab.stack.local import LocalStack  # noqa: E402
from lab.stack.local import watchdog as watchdog_proc  # noqa: E402

CONFIG = ["proxy.enabled=true", "loadgen.enabled=true", "web.request_timeout_s=2", "web.statement_timeout_ms=1500"]


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def serving(stack: LocalStack) -> bool:
    base = stack.urls()["arcade"]
    return status(base + "readyz") == 200 and status(base) == 200


def one_kind(stack: LocalStack, kind: str, lease_s: float) -> tuple[float, float, bool]:
    """(expiry -> reverted, expiry -> serving, whether the site was hurt before the expiry)."""
    journal = engine.journal_for(stack)
    fault_id = engine.inject(stack, kind, dict(FAULTS[kind].example), lease_s=lease_s)
    active = journal.active()[fault_id]
    assert active.lease_until is not None
    time.sleep(max(0.0, active.lease_until - time.time() - 0.3))
    hurt = not serving(stack)
    while fault_id in journal.active():
        time.sleep(0.02)
    reverted = next(r["t"] for r in reversed(journal.records()) if r["op"] == "reverted" and r["fault_id"] == fault_id)
    deadline = time.time() + 60
    while not serving(stack) and time.time() < deadline:
        time.sleep(0.05)
    back = time.time()
    return reverted - active.lease_until, back - active.lease_until, hurt


def journal_of(path: Path, seconds: int, faults: int = 3) -> FaultJournal:
    """A journal as a drill of `seconds` leaves it: a few faults with leases, one renew line a second."""
    journal = FaultJournal(path)
    now = time.time()
    records = []
    for i in range(faults):
        for op in ("inject", "injected"):
            records.append({"t": now, "op": op, "fault_id": f"f{i}", "kind": "connection_hog", "params": {},
                            "data": {"pid": 1}, "run_id": "run", "lease_until": now + 10})
    records += [{"t": now + s, "op": "renew", "fault_id": "", "kind": "", "params": {}, "data": {}, "run_id": "run",
                 "lease_until": now + s + 10} for s in range(seconds)]
    journal.extend(records)
    return journal


def reading_cost(tmp: Path, hours: float) -> None:
    for label, seconds in (("1 min", 60), (f"{hours:g} h", int(hours * 3600))):
        journal = journal_of(tmp / f"j-{seconds}.jsonl", seconds)
        started = time.perf_counter()
        journal.active()  # a process's first look reads the whole file; later looks, what was appended
        first = time.perf_counter() - started
        times = []
        for _ in range(20):
            started = time.perf_counter()
            journal.active()
            times.append(time.perf_counter() - started)
        read = statistics.median(times)
        times = []
        for _ in range(20):
            started = time.perf_counter()
            lease_gone(journal.path, "f0", time.time())
            times.append(time.perf_counter() - started)
        helper = statistics.median(times)
        times = []
        for _ in range(20):
            started = time.perf_counter()
            journal.renew("run", time.time() + 10)
            times.append(time.perf_counter() - started)
        renew = statistics.median(times)
        lines = seconds + 6
        # per second: the drill reads once and renews once, the watchdog reads twice, each helper twice
        cpu = read * 3 + renew + helper * 2
        print(f"  journal after a {label} drill ({lines:,} lines, {journal.path.stat().st_size / 1e3:,.0f} kB): "
              f"first read {first * 1e3:.1f} ms, then {read * 1e3:.2f} ms a look, helper's lease check {helper * 1e3:.2f} ms, renew (fsync) "
              f"{renew * 1e3:.2f} ms -> about {cpu * 100:.1f} % of a core for the drill, the watchdog and one helper")


def watchdog_cpu(stack: LocalStack, seconds: float) -> None:
    pid = watchdog_proc.running(stack.run_dir)
    if pid is None:
        print("  no watchdog running")
        return
    journal = engine.journal_for(stack)
    fault_id = engine.inject(stack, "net_latency", {"latency_ms": 5}, run_id="bench", lease_s=5)
    stop = threading.Event()
    renewals = 0

    def renew() -> None:
        nonlocal renewals
        while not stop.wait(1.0):
            journal.renew("bench", time.time() + 5)
            renewals += 1

    thread = threading.Thread(target=renew, daemon=True)
    proc = psutil.Process(pid)
    before = proc.cpu_times()
    started = time.time()
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    after = proc.cpu_times()
    used = (after.user + after.system) - (before.user + before.system)
    elapsed = time.time() - started
    engine.revert_id(stack, fault_id)
    print(f"  watchdog CPU with one leased fault renewed every second: {used / elapsed * 100:.2f} % of a core "
          f"over {elapsed:.0f} s ({renewals / elapsed:.2f} renew lines/s, "
          f"{len(journal.records()):,} journal lines at the end)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lease", type=float, default=2.0, help="lease of each injected fault, seconds (default 2)")
    parser.add_argument("--kinds", default="", help="comma-separated fault kinds (default: every kind that lasts)")
    parser.add_argument("--drill-hours", type=float, default=1.0, help="the long journal's drill length (default 1)")
    parser.add_argument("--cpu-seconds", type=float, default=20.0, help="how long to watch the watchdog's CPU")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k] or [k for k, f in FAULTS.items() if not f.instant]
    unknown = [k for k in kinds if k not in FAULTS]
    if unknown:
        parser.error(f"--kinds: unknown fault kind(s) {', '.join(unknown)}; valid: {', '.join(FAULTS)}")
    with tempfile.TemporaryDirectory(prefix="gd-bench-leases-") as tmp:
        print("renewal cost (journal reads and renewals, this machine):")
        reading_cost(Path(tmp), args.drill_hours)
        stack = LocalStack("leases", Path(tmp) / "gd", load_config(None, CONFIG))
        print("bringing up an embedded stack ...", flush=True)
        stack.up()
        try:
            watchdog_cpu(stack, args.cpu_seconds)
            print(f"lease expiry -> site serving again, per fault kind (lease {args.lease:g} s, goal <= 5 s):")
            print(f"  {'kind':<20} {'reverted after':>14} {'serving after':>14}  hurt before expiry")
            worst = 0.0
            for kind in kinds:
                reverted, back, hurt = one_kind(stack, kind, args.lease)
                worst = max(worst, back)
                print(f"  {kind:<20} {reverted:>12.2f} s {back:>12.2f} s  {'yes' if hurt else 'no'}", flush=True)
            print(f"worst: {worst:.2f} s from lease expiry to serving ({'meets' if worst <= 5 else 'misses'} "
                  f"the 5 s goal); the watchdog looks every 0.5 s")
        finally:
            engine.revert_all(stack)
            stack.down(purge=True)


if __name__ == "__main__":
    main()
