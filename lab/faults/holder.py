"""A detached process that holds PostgreSQL connections, the way leaked or stuck clients do.

    python -m lab.faults.holder --dsn DSN --connections N [--state idle|idle_in_transaction]
        [--ramp-s S] [--lock TABLE] [--pids FILE]

It opens up to N connections (spread over --ramp-s seconds, retrying while the server is full,
so a leak grows as slots free up), optionally takes a lock in the first one, writes their
backend pids to --pids, and holds them until SIGTERM. Once any of its connections is cut from
the outside (terminated, server restarted) it stops opening new ones and exits when none is
left: a responder who kills the leaked sessions really removes the cause.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import time

import psycopg2
import psycopg2.extensions

IDENTIFIERS = {"players", "scores", "best_scores", "matches", "purchases", "items", "games"}


def _open(dsn: str, state: str, lock: str | None) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dsn, connect_timeout=3)
    conn.autocommit = False
    with conn.cursor() as cur:
        if lock:
            cur.execute(f"LOCK TABLE {lock} IN ACCESS EXCLUSIVE MODE")
        elif state == "idle_in_transaction":
            cur.execute("SELECT 1")
    if state == "idle" and not lock:
        conn.commit()
    return conn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--state", choices=["idle", "idle_in_transaction"], default="idle_in_transaction")
    parser.add_argument("--ramp-s", type=float, default=0.0)
    parser.add_argument("--lock", choices=sorted(IDENTIFIERS))
    parser.add_argument("--pids")
    args = parser.parse_args(argv)

    stopping = False

    def stop(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    conns: list[psycopg2.extensions.connection] = []
    lost_any = False
    started = time.monotonic()
    interval = args.ramp_s / max(1, args.connections)
    while not stopping:
        if not lost_any and len(conns) < args.connections:
            due = int((time.monotonic() - started) / interval) + 1 if interval else args.connections
            while len(conns) < min(due, args.connections) and not stopping:
                try:
                    conns.append(_open(args.dsn, args.state, args.lock if not conns else None))
                except psycopg2.OperationalError:
                    break  # full or down: try again on the next tick
                _write_pids(args.pids, conns)
        # short of the target: try again soon, so the leak wins slots as they free up
        wait = 0.01 if not lost_any and len(conns) < args.connections else 0.1
        readable, _, _ = select.select([c.fileno() for c in conns], [], [], wait) if conns else ([], [], [])
        if not conns:
            time.sleep(wait)
        for fd in readable:
            conn = next(c for c in conns if c.fileno() == fd)
            try:
                conn.poll()
                continue
            except psycopg2.Error:
                pass
            conns.remove(conn)
            lost_any = True
            _write_pids(args.pids, conns)
        if lost_any and not conns:
            return 0
    for conn in conns:
        conn.close()
    return 0


def _write_pids(path: str | None, conns: list[psycopg2.extensions.connection]) -> None:
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(str(c.get_backend_pid()) for c in conns if not c.closed))
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
