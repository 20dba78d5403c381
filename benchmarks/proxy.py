"""The fault proxy against its goals (and Toxiproxy when `toxiproxy-server` is on PATH).

Prints figures side by side, each beside the direct connection measured in the same run; not
a test. Everything runs on this machine over loopback:

    round trip     1-byte request/response through the proxy vs direct (p50, p99)
    pgbench        select-only TPS through the proxy / direct, 8 clients: the median ratio of
                   short interleaved pairs (direct run, proxied run), and the proxy's CPU per
                   transaction (the steadier figure on a shared machine)
    bulk           one connection, server -> client, MB/s (1 MB = 10^6 bytes)
    toxics         latency error vs jitter + 10 ms; bandwidth error in %
    control API    p50/p99/max of API calls while 64 connections push data (toxics added,
                   updated and removed on those live links meanwhile)

    .venv/bin/python benchmarks/proxy.py [--quick] [--skip-pgbench] [--rounds N] [--baseline DIR]
                                         [--no-splice] [--splice-bulk]

Servers measured: this checkout's proxy (its default: every toxic-free link spliced); with
``--no-splice`` and ``--splice-bulk`` the same code with GAMEDAY_PROXY_SPLICE=off / bulk; with ``--baseline DIR`` the proxy of another checkout (e.g.
main before a change); Toxiproxy when ``toxiproxy-server`` is on PATH. Every round measures every
server in turn; the table shows the median over rounds (pgbench: over all interleaved pairs).

Load generators and upstream servers run in their own processes (uvloop), so the figures are
the proxy's, not this script's GIL.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "proxy"))

# Toxiproxy 2.5.0, built from its public source and measured once beside this proxy with this
# script on this machine (issue 22); printed, labelled as such, when no toxiproxy-server is on PATH.
REFERENCE = {
    "rtt_added": "217 / 361",
    "pgbench_ratio": "0.41",
    "pgbench_cpu": "49",
    "bulk": "528 (direct 3,005)",
    "latency 100+-0": "8.6",
    "bandwidth 100000 KB/s": "+54.8",
    "api_p99": "1,367 (3 failures)",
}
GOALS = {
    "rtt_added_p50": "<= 60",
    "pgbench_ratio": ">= 0.75",
    "bulk_mb_s": ">= 2,000",
    "latency 100+-0": "<= 5",
    "latency 50+-10": "<= 20",
    "bandwidth_err_pct": "<= 5",
    "api_p99_ms": "< 100",
}

# -- helper processes ----------------------------------------------------------------------------
HELPER = r'''
import asyncio, os, socket, sys, time
try:
    import uvloop
    run = uvloop.run
except ImportError:
    run = asyncio.run

role = sys.argv[1]

class Echo(asyncio.Protocol):
    def connection_made(self, t): self.t = t
    def data_received(self, d): self.t.write(d)

class Sink(asyncio.Protocol):
    total = 0
    def connection_made(self, t): self.t = t
    def data_received(self, d): Sink.total += len(d)

async def serve(proto):
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(proto, "127.0.0.1", 0, backlog=1024)
    print(srv.sockets[0].getsockname()[1], flush=True)
    return srv

async def echo():
    await serve(Echo)
    await asyncio.get_running_loop().create_future()

def source():
    # one thread per connection: read an 8-byte size, send that many bytes, close
    import threading
    block = memoryview(bytes(4 << 20))
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0)); ls.listen(64)
    print(ls.getsockname()[1], flush=True)
    def send(c):
        head = b""
        while len(head) < 8:
            more = c.recv(8 - len(head))
            if not more:
                c.close(); return
            head += more
        left = int.from_bytes(head, "big")
        try:
            while left > 0:
                n = min(left, len(block)); c.sendall(block[:n]); left -= n
        except OSError:
            pass
        c.close()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=send, args=(c,), daemon=True).start()

async def push():
    # a sink server; then, given the proxy address on stdin, N connections writing for T seconds
    n, seconds = int(sys.argv[2]), float(sys.argv[3])
    await serve(Sink)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    host, port = line.strip().rsplit(":", 1)
    block = bytes(64 << 10)
    sent = [0]
    stuck = [0]
    async def one():
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
        except asyncio.TimeoutError:
            stuck[0] += 1
            return
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                w.write(block); sent[0] += len(block)
                await asyncio.wait_for(w.drain(), 10)
        except asyncio.TimeoutError:
            stuck[0] += 1
        w.close()
    await asyncio.gather(*(one() for _ in range(n)))
    last, deadline = -1, time.monotonic() + 15
    while Sink.total != last and time.monotonic() < deadline:  # let what is in flight arrive
        last = Sink.total
        await asyncio.sleep(0.3)
    print(sent[0], Sink.total, stuck[0], flush=True)

if role == "echo": run(echo())
elif role == "source": source()
elif role == "push": run(push())
'''


@contextmanager
def helper(*args: str, stdin: bool = False) -> Iterator[tuple[subprocess.Popen, int]]:
    proc = subprocess.Popen([sys.executable, "-c", HELPER, *args], stdout=subprocess.PIPE, text=True,
                            stdin=subprocess.PIPE if stdin else None)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A Toxiproxy-API server under test (ours or Toxiproxy itself)."""

    name: str
    url: str
    proc: subprocess.Popen
    session: requests.Session = field(default_factory=requests.Session)

    def create(self, name: str, upstream: str) -> str:
        self.session.delete(f"{self.url}/proxies/{name}")
        r = self.session.post(f"{self.url}/proxies", json={"name": name, "listen": "127.0.0.1:0", "upstream": upstream})
        r.raise_for_status()
        return r.json()["listen"]

    def call(self, method: str, path: str, body: object = None) -> requests.Response:
        return self.session.request(method, self.url + path, json=body, timeout=30)


@contextmanager
def gameday_proxy(name: str = "gameday proxy", root: Path = ROOT, splice: str | None = None) -> Iterator[Server]:
    """A `gameday proxy` from checkout ``root`` (``python -m`` puts the cwd first on sys.path),
    with GAMEDAY_PROXY_SPLICE=``splice`` (None: its default)."""
    env = dict(os.environ)
    env.pop("GAMEDAY_PROXY_SPLICE", None)
    if splice is not None:
        env["GAMEDAY_PROXY_SPLICE"] = splice
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "proxy", "--port", "0"], cwd=root,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        yield Server(name, url, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


@contextmanager
def toxiproxy_server() -> Iterator[Server | None]:
    binary = shutil.which("toxiproxy-server")
    if binary is None:
        yield None
        return
    port = free_port()
    proc = subprocess.Popen([binary, "-host", "127.0.0.1", "-port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(url + "/version", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        yield Server("toxiproxy", url, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def connect(addr: str) -> socket.socket:
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# -- measurements --------------------------------------------------------------------------------
def round_trips(addr: str, n: int) -> list[float]:
    with connect(addr) as s:
        for _ in range(200):
            s.send(b"x")
            s.recv(1)
        out = []
        clock = time.perf_counter_ns
        for _ in range(n):
            t = clock()
            s.send(b"x")
            s.recv(1)
            out.append((clock() - t) / 1000)
        return out


def bench_rtt(server: Server, echo_addr: str, quick: bool) -> dict[str, float]:
    listen = server.create("rtt", echo_addr)
    direct: list[float] = []
    through: list[float] = []
    cpu = 0.0
    for _ in range(3 if quick else 6):  # interleaved blocks
        direct += round_trips(echo_addr, 1000)
        before = cpu_seconds(server.proc)
        through += round_trips(listen, 1000)
        cpu += cpu_seconds(server.proc) - before
    return {
        "cpu_us": cpu / len(through) * 1e6,
        "direct_p50": pct(direct, 50), "direct_p99": pct(direct, 99),
        "proxy_p50": pct(through, 50), "proxy_p99": pct(through, 99),
        "added_p50": pct(through, 50) - pct(direct, 50), "added_p99": pct(through, 99) - pct(direct, 99),
    }


def read_all(addr: str, size: int) -> tuple[int, float]:
    """Ask the source for ``size`` bytes; returns what arrived and how long it took."""
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    with connect(addr) as s:
        total = 0
        start = time.perf_counter()
        s.sendall(size.to_bytes(8, "big"))
        while True:
            n = s.recv_into(view)
            if not n:
                break
            total += n
        return total, time.perf_counter() - start


def bench_bulk(server: Server, source_addr: str, quick: bool) -> dict[str, float]:
    listen = server.create("bulk", source_addr)
    rates_direct, rates_proxy = [], []
    size = (512 << 20) if quick else (1 << 30)
    for _ in range(2 if quick else 3):
        n, t = read_all(source_addr, size)
        rates_direct.append(n / t / 1e6)
        n, t = read_all(listen, size)
        rates_proxy.append(n / t / 1e6)
    return {"direct": statistics.median(rates_direct), "proxy": statistics.median(rates_proxy),
            "proxy_best": max(rates_proxy)}


def bench_latency_accuracy(server: Server, echo_addr: str) -> dict[str, float]:
    listen = server.create("lat", echo_addr)
    base = statistics.median(round_trips(echo_addr, 200)) / 1e6
    out = {}
    for latency, jitter in ((100, 0), (50, 10)):
        server.call("POST", "/proxies/lat/toxics", {"name": "l", "type": "latency",
                                                   "attributes": {"latency": latency, "jitter": jitter}})
        errors = []
        with connect(listen) as s:
            for _ in range(20):
                t = time.perf_counter()
                s.send(b"x")
                s.recv(1)
                errors.append(abs(time.perf_counter() - t - base - latency / 1000) * 1000)
        server.call("DELETE", "/proxies/lat/toxics/l")
        out[f"{latency}+-{jitter}"] = max(errors)
    return out


def bench_bandwidth_accuracy(server: Server, source_addr: str) -> dict[str, float]:
    listen = server.create("bw", source_addr)
    out = {}
    for rate in (1000, 10000, 100000):  # KB/s
        server.call("POST", "/proxies/bw/toxics", {"name": "b", "type": "bandwidth", "attributes": {"rate": rate}})
        n, t = read_all(listen, rate * 1000)  # one second's worth
        server.call("DELETE", "/proxies/bw/toxics/b")
        expected = n / (rate * 1000)
        out[f"{rate} KB/s"] = (t - expected) / expected * 100
    return out


def bench_api_under_load(server: Server, conns: int, seconds: float) -> dict[str, float]:
    with helper("push", str(conns), str(seconds), stdin=True) as (proc, sink_port):
        listen = server.create("load", f"127.0.0.1:{sink_port}")
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(listen + "\n")
        proc.stdin.flush()
        time.sleep(0.5)
        calls = [
            ("POST", "/proxies/load/toxics", {"name": "lat", "type": "latency", "stream": "upstream",
                                              "attributes": {"latency": 20}}),
            ("GET", "/proxies", None),
            ("PATCH", "/proxies/load/toxics/lat", {"attributes": {"latency": 5}}),
            ("POST", "/proxies/load/toxics", {"name": "bw", "type": "bandwidth", "stream": "upstream",
                                              "attributes": {"rate": 50000}}),
            ("DELETE", "/proxies/load/toxics/lat", None),
            ("GET", "/proxies/load/toxics", None),
            ("DELETE", "/proxies/load/toxics/bw", None),
        ]
        times: list[float] = []
        failures = 0
        end = time.monotonic() + seconds - 1.0
        while time.monotonic() < end:
            for method, path, body in calls:
                t = time.perf_counter()
                r = server.call(method, path, body)
                times.append((time.perf_counter() - t) * 1000)
                failures += r.status_code >= 300
            time.sleep(0.01)
        out_line = proc.stdout.readline().split()
        proc.wait(30)
    sent, received, stuck = int(out_line[0]), int(out_line[1]), int(out_line[2])
    return {"p50": pct(times, 50), "p99": pct(times, 99), "max": max(times), "calls": len(times),
            "failures": failures, "mb_s": received / seconds / 1e6, "lost": sent - received, "stuck": stuck}


def cpu_seconds(proc: subprocess.Popen) -> float:
    import psutil

    t = psutil.Process(proc.pid).cpu_times()
    return t.user + t.system


def pgbench_run(cluster, port: int, seconds: int) -> tuple[float, int]:
    """TPS and the number of transactions of one `pgbench -S -c 8` run."""
    import re

    r = cluster.pgbench("-S", "-c", "8", "-j", "2", "-T", str(seconds), port=port, timeout=seconds + 60)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    tps = float(re.search(r"tps = ([0-9.]+)", r.stdout).group(1))
    done = int(re.search(r"number of transactions actually processed: (\d+)", r.stdout).group(1))
    return tps, done


def bench_pgbench(servers: list[Server], pairs: int) -> dict[str, dict[str, float]]:
    import pg_helpers

    if not pg_helpers.available():
        return {}
    cluster = pg_helpers.start_cluster(free_port())
    try:
        ports = {s.name: int(s.create("postgres", f"127.0.0.1:{cluster.port}").rsplit(":", 1)[1]) for s in servers}
        seconds = 3
        direct: list[float] = []
        through: dict[str, list[float]] = {s.name: [] for s in servers}
        cpu = {s.name: [0.0, 0] for s in servers}
        for _ in range(pairs):  # short interleaved pairs: load drift hits both sides
            direct.append(pgbench_run(cluster, cluster.port, seconds)[0])
            for s in servers:
                before = cpu_seconds(s.proc)
                tps, done = pgbench_run(cluster, ports[s.name], seconds)
                cpu[s.name][0] += cpu_seconds(s.proc) - before
                cpu[s.name][1] += done
                through[s.name].append(tps)
        out = {"direct": {"tps": statistics.median(direct)}}
        for name, values in through.items():
            ratios = [v / d for v, d in zip(values, direct)]
            out[name] = {"tps": statistics.median(values), "ratio": statistics.median(ratios),
                         "ratio_min": min(ratios), "ratio_max": max(ratios),
                         "cpu_us_per_tx": cpu[name][0] / max(1, cpu[name][1]) * 1e6}
        return out
    finally:
        cluster.stop()


# -- report --------------------------------------------------------------------------------------
def median_of(rounds: list[dict]) -> dict:
    """The per-key median of the rounds' (nested) figures."""
    first = rounds[0]
    if isinstance(first, dict):
        return {k: median_of([r[k] for r in rounds]) for k in first}
    return statistics.median(rounds)


def ratio(value: float, direct: float) -> str:
    return f"{value / direct:.2f}x" if direct else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="times every measure runs per server (median shown)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose proxy runs beside this one")
    parser.add_argument("--no-splice", action="store_true", help="also run this proxy with its splice fast path off")
    parser.add_argument("--splice-bulk", action="store_true", help="also run this proxy splicing bulk links only")
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "lab" / "proxy").is_dir():
        parser.error(f"--baseline {args.baseline}: not a checkout of this project (no lab/proxy)")
    try:
        import uvloop

        loop_name = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop_name = "asyncio (uvloop not installed)"
    load = os.getloadavg()[0]
    print(f"gameday proxy benchmark: {os.cpu_count()} cores, load average {load:.1f}, event loop {loop_name}, "
          f"{args.rounds} round(s)")

    with ExitStack() as stack:
        servers = [stack.enter_context(gameday_proxy())]
        if args.splice_bulk:
            servers.append(stack.enter_context(gameday_proxy("splice bulk", splice="bulk")))
        if args.no_splice:
            servers.append(stack.enter_context(gameday_proxy("no splice", splice="off")))
        if args.baseline is not None:
            servers.append(stack.enter_context(gameday_proxy(f"baseline ({args.baseline.name})", args.baseline.resolve())))
        toxi = stack.enter_context(toxiproxy_server())
        if toxi is not None:
            servers.append(toxi)
        _p, echo_port = stack.enter_context(helper("echo"))
        echo_addr = f"127.0.0.1:{echo_port}"
        _p, src_port = stack.enter_context(helper("source"))
        src_addr = f"127.0.0.1:{src_port}"

        rounds: dict[str, list[dict]] = {s.name: [] for s in servers}
        for k in range(args.rounds):
            for s in servers:
                print(f"round {k + 1}: measuring {s.name} ...", flush=True)
                res: dict[str, dict] = {}
                for key, fn in (
                    ("rtt", lambda: bench_rtt(s, echo_addr, args.quick)),
                    ("bulk", lambda: bench_bulk(s, src_addr, args.quick)),
                    ("latency", lambda: bench_latency_accuracy(s, echo_addr)),
                    ("bandwidth", lambda: bench_bandwidth_accuracy(s, src_addr)),
                    ("api", lambda: bench_api_under_load(s, 64, 4 if args.quick else 6)),
                ):
                    started = time.monotonic()
                    res[key] = fn()
                    print(f"  {key}: {time.monotonic() - started:.1f} s", flush=True)
                rounds[s.name].append(res)
        results = {name: median_of(rs) for name, rs in rounds.items()}
        if not args.skip_pgbench:
            print("measuring pgbench (interleaved direct / proxied runs) ...", flush=True)
        pg = {} if args.skip_pgbench else bench_pgbench(servers, args.rounds * (2 if args.quick else 3))

    names = [s.name for s in servers]
    cols = names + ([] if toxi else ["Toxiproxy 2.5 (ref.)"])
    width = 20

    def line(metric: str, direct: str, cells: list[str], goal: str) -> None:
        print(f"  {metric:<42} {direct:>12} " + " ".join(f"{c:>{width}}" for c in cells) + f"   {goal}")

    def cells(fn, ref: str = "") -> list[str]:
        out = [fn(results[n], n) for n in names]
        return out + ([] if toxi else [ref])

    first = results[names[0]]
    print()
    line("metric (median of rounds)", "direct", [c[:width] for c in cols], "goal")
    line("-" * 42, "-" * 12, ["-" * width] * len(cols), "-" * 8)
    d = first["rtt"]
    line("round trip p50 / p99 (us)", f"{d['direct_p50']:.0f} / {d['direct_p99']:.0f}",
         cells(lambda r, n: f"{r['rtt']['proxy_p50']:.0f} / {r['rtt']['proxy_p99']:.0f}"), "")
    line("  added p50 / p99 (us)", "",
         cells(lambda r, n: f"{r['rtt']['added_p50']:.0f} / {r['rtt']['added_p99']:.0f}", REFERENCE["rtt_added"]),
         f"p50 {GOALS['rtt_added_p50']}")
    line("  ratio to direct p50 / p99", "1 / 1",
         cells(lambda r, n: f"{r['rtt']['proxy_p50'] / r['rtt']['direct_p50']:.2f} / "
                            f"{r['rtt']['proxy_p99'] / r['rtt']['direct_p99']:.2f}"), "")
    line("  proxy CPU per round trip (us)", "", cells(lambda r, n: f"{r['rtt']['cpu_us']:.0f}"), "")
    if pg:
        line("pgbench -S -c 8 TPS", f"{pg['direct']['tps']:.0f}", cells(lambda r, n: f"{pg[n]['tps']:.0f}"), "")
        line("  ratio to direct, median (min-max)", "1",
             cells(lambda r, n: f"{pg[n]['ratio']:.2f} ({pg[n]['ratio_min']:.2f}-{pg[n]['ratio_max']:.2f})",
                   REFERENCE["pgbench_ratio"]), GOALS["pgbench_ratio"])
        line("  proxy CPU per transaction (us)", "", cells(lambda r, n: f"{pg[n]['cpu_us_per_tx']:.0f}",
                                                           REFERENCE["pgbench_cpu"]), "")
    line("bulk, one connection (MB/s)", f"{first['bulk']['direct']:.0f}",
         cells(lambda r, n: f"{r['bulk']['proxy']:.0f} ({ratio(r['bulk']['proxy'], r['bulk']['direct'])})",
               REFERENCE["bulk"]), GOALS["bulk_mb_s"])
    for key in first["latency"]:
        line(f"latency {key} ms: worst error (ms)", "", cells(lambda r, n: f"{r['latency'][key]:.1f}",
                                                                REFERENCE.get(f"latency {key}", "")),
             GOALS[f"latency {key}"])
    for key in first["bandwidth"]:
        line(f"bandwidth {key}: time error (%)", "", cells(lambda r, n: f"{r['bandwidth'][key]:+.1f}",
                                                             REFERENCE.get(f"bandwidth {key}", "")),
             GOALS["bandwidth_err_pct"])
    line("control API p50 / p99, 64 conns pushing (ms)", "",
         cells(lambda r, n: f"{r['api']['p50']:.1f} / {r['api']['p99']:.1f}", REFERENCE["api_p99"]),
         f"p99 {GOALS['api_p99_ms']}")
    line("  data moved meanwhile (MB/s) / bytes lost", "",
         cells(lambda r, n: f"{r['api']['mb_s']:.0f} / {r['api']['lost']:.0f}"), "lost 0")
    line("  connections stalled > 10 s / API failures", "",
         cells(lambda r, n: f"{r['api']['stuck']:.0f} / {r['api']['failures']:.0f}"), "0 / 0")
    if not toxi:
        print("\n  No toxiproxy-server on PATH: the last column is Toxiproxy 2.5.0 measured once beside this proxy"
              " on this machine (issue 22), not in this run.")
    print("\n" + json.dumps({"rounds": rounds, "pgbench": pg}, default=float))


if __name__ == "__main__":
    main()
