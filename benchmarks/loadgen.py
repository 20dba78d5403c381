"""The load generator's capacity on one core beside wrk, and the probe's overhead on Arcade.
Prints figures side by side; not a test.

    .venv/bin/python benchmarks/loadgen.py [--seconds 4] [--rates 3000,6000,10000,15000,20000]

1. A trivial HTTP endpoint (a keep-alive uvloop server answering "ok") runs on CPU 1; the
   generator (open loop) and then wrk (closed loop, 1 thread) run on CPU 0. For each target rate
   the generator's achieved rate is the requests it sent and got answered per whole second.
2. Arcade (pool mode) is measured with wrk with and without the monitor's probe running; the
   probe's request rate as a share of Arcade's capacity is its overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil

from lab.stack import procs

SERVER = textwrap.dedent("""
    import asyncio, sys, uvloop
    RESP = b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nContent-Type: text/plain\\r\\n\\r\\nok"
    class Ok(asyncio.Protocol):
        def connection_made(self, t): self.t, self.buf = t, b""
        def data_received(self, data):
            buf = self.buf + data
            n = buf.count(b"\\r\\n\\r\\n")
            if n:
                self.t.write(RESP * n)
                buf = buf[buf.rfind(b"\\r\\n\\r\\n") + 4:]
            self.buf = buf
    async def main(port):
        server = await asyncio.get_running_loop().create_server(Ok, "127.0.0.1", port, backlog=4096)
        await server.serve_forever()
    uvloop.run(main(int(sys.argv[1])))
""")


def pinned(cpu: int | None) -> Callable[[], None] | None:
    """A preexec_fn that pins the child to one CPU (None: no pinning)."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def wait_http(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def control(address: str, path: str, body: object = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{address}{path}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def wrk(url: str, seconds: int, connections: int, cpu: int | None = 0) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, preexec_fn=pinned(cpu)).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


Row = tuple[int, float, float, float, float, float]


def generator_capacity(rates: list[int], seconds: int) -> tuple[list[Row], float]:
    """(target, sent/s, answered/s, p99 ms, worst schedule lag ms, generator CPU %) per rate, and wrk's req/s."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port, cport = procs.free_port(), procs.free_port()
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], preexec_fn=pinned(1))
        gen = None
        try:
            wait_http(f"http://127.0.0.1:{port}/")
            gen = subprocess.Popen([sys.executable, "-m", "loadgen", "--target", f"http://127.0.0.1:{port}",
                                    "--control", f"127.0.0.1:{cport}", "--mix", "healthz=1", "--timeout", "2"],
                                   stdout=open(Path(tmp) / "loadgen.log", "wb"), stderr=subprocess.STDOUT,
                                   preexec_fn=pinned(0))
            wait_http(f"http://127.0.0.1:{cport}/healthz")
            proc = psutil.Process(gen.pid)
            for rate in rates:
                control(f"127.0.0.1:{cport}", "/rate", {"rate": rate})
                time.sleep(1.5)
                proc.cpu_percent()
                start = time.time()
                time.sleep(seconds + 1)
                cpu = proc.cpu_percent()
                secs = [s for s in control(f"127.0.0.1:{cport}", f"/stats?seconds={seconds + 3}")["seconds"]
                        if s["t"] >= start][:seconds]
                sent = sum(s["issued"] for s in secs) / len(secs)
                answered = sum(s["counts"].get("healthz", {}).get("200", 0) for s in secs) / len(secs)
                p99 = max((s["latency_ms"]["p99"] or 0) for s in secs)
                lag = max(s["lag_max_ms"] for s in secs)
                rows.append((rate, sent, answered, p99, lag, cpu))
            control(f"127.0.0.1:{cport}", "/rate", {"rate": 0})
            wrk_rps = wrk(f"http://127.0.0.1:{port}/", seconds, 50)
        finally:
            for p in (gen, server):
                if p is not None:
                    p.terminate()
                    p.wait(5)
    return rows, wrk_rps


def probe_overhead(seconds: int) -> dict[str, float]:
    """Arcade's capacity by wrk with and without the monitor, and the probe's own request rate."""
    from lab.monitor.monitor import MonitorConfig, Tick, watching
    from lab.stack.config import load_config
    from lab.stack.local import LocalStack

    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        Path(tmp).chmod(0o755)
        stack = LocalStack("probe", Path(tmp), load_config(None, ["web.access_mode=pool"]))
        stack.up()
        try:
            url = stack.urls()["arcade"] + "leaderboard?game=tetra"
            wrk(url, 2, 16, cpu=None)  # warm-up
            alone: list[float] = []
            watched: list[float] = []
            ticks: list[Tick] = []
            for _ in range(2):  # interleaved: the machine is shared, so its load drifts
                alone.append(wrk(url, seconds, 16, cpu=None))
                with watching(stack, MonitorConfig()) as mon:
                    time.sleep(1.5)
                    before = len(mon.ticks())
                    watched.append(wrk(url, seconds, 16, cpu=None))
                    ticks += mon.ticks()[before:]
        finally:
            stack.down(purge=True)
    probe_rps = sum(t.probe.total for t in ticks) / max(1, len(ticks))
    return {"capacity": sum(alone) / len(alone), "watched": sum(watched) / len(watched), "probe_rps": probe_rps}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rates", default="3000,6000,10000,15000,20000")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: `apt-get install -y wrk`")
    rates = [int(r) for r in args.rates.split(",")]
    rows, wrk_rps = generator_capacity(rates, args.seconds)
    print(f"Load generator on one core (CPU 0) against a trivial keep-alive endpoint (CPU 1), "
          f"{args.seconds} s per rate; {os.cpu_count()} CPUs, shared machine: figures are noisy")
    print(f"  {'target/s':>9} {'sent/s':>9} {'answered/s':>11} {'within 2%':>10} {'p99 ms':>8} {'lag ms':>7} {'gen CPU':>8}")
    best = 0
    for rate, sent, answered, p99, lag, cpu in rows:
        ok = abs(answered - rate) <= 0.02 * rate
        best = rate if ok else best
        print(f"  {rate:>9} {sent:>9.0f} {answered:>11.0f} {'yes' if ok else 'no':>10} {p99:>8.1f} {lag:>7.1f} {cpu:>7.0f}%")
    print("  (sent: on schedule; answered: 200s back; lag: how late the generator sent; a low gen CPU with few "
          "answers means the endpoint's core is the limit)")
    print(f"  highest target met within 2 %: {best}/s   |   wrk (1 thread, 50 connections, closed loop): "
          f"{wrk_rps:,.0f} req/s")
    o = probe_overhead(args.seconds)
    share = o["probe_rps"] / o["capacity"] * 100
    print("Probe overhead on Arcade (pool mode, 2 workers, wrk on /leaderboard, 16 connections)")
    print(f"  Arcade capacity {o['capacity']:,.0f} req/s alone, {o['watched']:,.0f} req/s with the monitor running; "
          f"probe {o['probe_rps']:.1f} req/s = {share:.2f} % of capacity (goal <= 2 %)")


if __name__ == "__main__":
    main()
